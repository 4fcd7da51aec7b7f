"""Features: the frozen backbone's block-L attention context, captured by a forward pre-hook.

The context is the input of ``layer[L-1].attention.output.dense``: the per-head scaled dot-product
outputs concatenated *before* the output projection, ``hidden_size`` nodes per position (head h owns
nodes ``h*d .. (h+1)*d - 1``). The forward pass stops after the deepest requested block.

Three extractions:
- ``masked_random``: random MLM masking (15 %, 80/10/10) over training paragraphs; features at the masked
  positions with the true token ids (trains the token probe);
- ``one_at_a_time``: every non-special token of every validation paragraph masked in its own copy, many
  copies per forward pass; each token occurrence is counted exactly once;
- ``cls``: one vector per sentence at [CLS] (FewRel).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .model import encoder_layers


class _StopForward(Exception):
    pass


@contextmanager
def capture_context(
    model: PreTrainedModel, layers: tuple[int, ...], stop: bool = True
) -> Iterator[dict[int, torch.Tensor]]:
    """Within the block, each forward fills ``captured[L]`` with block L's context ``[batch, seq, hidden]``.

    ``layers`` are 1-based. With ``stop``, the forward raises after the deepest layer's capture; call the
    model through :func:`run_capturing`, which absorbs that.
    """
    captured: dict[int, torch.Tensor] = {}
    blocks = encoder_layers(model)
    deepest = max(layers)
    handles = []

    def make_hook(layer: int):
        def hook(module, inputs):
            captured[layer] = inputs[0].detach()
            if stop and layer == deepest:
                raise _StopForward

        return hook

    for layer in layers:
        handles.append(blocks[layer - 1].attention.output.dense.register_forward_pre_hook(make_hook(layer)))
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def run_capturing(model: PreTrainedModel, **inputs: torch.Tensor) -> None:
    try:
        model.base_model(**inputs)
    except _StopForward:
        pass


def _device(model: PreTrainedModel) -> torch.device:
    return next(model.parameters()).device


def _pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        attention[i, : len(r)] = 1
    return ids, attention


@torch.no_grad()
def masked_random(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    layers: tuple[int, ...],
    max_len: int,
    mlm_probability: float = 0.15,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool = True,
) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Features ``{L: [n_masked, hidden]}`` and true ids ``[n_masked]`` at randomly masked positions."""
    from transformers import DataCollatorForLanguageModeling

    model.eval()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=mlm_probability)
    enc = tokenizer(texts, truncation=True, max_length=max_len, return_special_tokens_mask=True)
    rows = [
        dict(input_ids=i, special_tokens_mask=s)
        for i, s in zip(enc["input_ids"], enc["special_tokens_mask"], strict=True)
    ]
    feats: dict[int, list[torch.Tensor]] = {layer: [] for layer in layers}
    ids: list[torch.Tensor] = []
    with torch.random.fork_rng(), capture_context(model, layers) as captured:
        torch.manual_seed(seed)
        for start in tqdm(
            range(0, len(rows), batch_size), desc="features (train, masked 15%)", disable=not progress, mininterval=2.0
        ):
            batch = collator(rows[start : start + batch_size])
            attention = (batch["input_ids"] != tokenizer.pad_token_id).long()
            where = batch["labels"] != -100  # [batch, seq]
            run_capturing(
                model, input_ids=batch["input_ids"].to(_device(model)), attention_mask=attention.to(_device(model))
            )
            for layer in layers:
                feats[layer].append(captured[layer].cpu()[where])
            ids.append(batch["labels"][where])
    return {layer: torch.cat(v) for layer, v in feats.items()}, torch.cat(ids)


def one_at_a_time_copies(
    input_ids: list[list[int]], special: list[list[int]], mask_id: int
) -> Iterator[tuple[int, int, list[int]]]:
    """``(paragraph, position, ids with that position masked)`` for every non-special token."""
    for p, (ids, spec) in enumerate(zip(input_ids, special, strict=True)):
        for pos, is_special in enumerate(spec):
            if not is_special:
                copy = list(ids)
                copy[pos] = mask_id
                yield p, pos, copy


@torch.no_grad()
def one_at_a_time(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    layers: tuple[int, ...],
    max_len: int,
    copies_per_batch: int = 256,
    progress: bool = True,
) -> tuple[dict[int, torch.Tensor], torch.Tensor, float, torch.Tensor]:
    """Features ``{L: [n_tokens, hidden]}`` and true ids ``[n_tokens]``, every token masked once; the
    masked positions per second; and each token's paragraph (its index in ``texts``, ``[n_tokens]``).

    Paragraphs are taken shortest first so that the copies batched together have similar lengths.
    """
    model.eval()
    enc = tokenizer(texts, truncation=True, max_length=max_len, return_special_tokens_mask=True)
    order = sorted(range(len(texts)), key=lambda i: len(enc["input_ids"][i]))
    input_ids = [enc["input_ids"][i] for i in order]
    special = [enc["special_tokens_mask"][i] for i in order]
    total = sum(len(s) - sum(s) for s in special)
    feats: dict[int, list[torch.Tensor]] = {layer: [] for layer in layers}
    ids: list[int] = []
    paragraphs: list[int] = []
    started = time.time()
    copies = one_at_a_time_copies(input_ids, special, tokenizer.mask_token_id)
    with (
        capture_context(model, layers) as captured,
        tqdm(total=total, desc="features (valid, one at a time)", disable=not progress, mininterval=2.0) as bar,
    ):
        while batch := [c for _, c in zip(range(copies_per_batch), copies, strict=False)]:
            rows = [c[2] for c in batch]
            positions = torch.tensor([c[1] for c in batch])
            ids += [input_ids[p][pos] for p, pos, _ in batch]
            paragraphs += [order[p] for p, _, _ in batch]
            tokens, attention = _pad(rows, tokenizer.pad_token_id)
            run_capturing(model, input_ids=tokens.to(_device(model)), attention_mask=attention.to(_device(model)))
            for layer in layers:
                feats[layer].append(captured[layer].cpu()[torch.arange(len(rows)), positions])
            bar.update(len(rows))
    rate = total / max(time.time() - started, 1e-9)
    return {layer: torch.cat(v) for layer, v in feats.items()}, torch.tensor(ids), rate, torch.tensor(paragraphs)


@torch.no_grad()
def cls_vectors(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    layers: tuple[int, ...],
    max_len: int,
    batch_size: int = 64,
    progress: bool = True,
) -> dict[int, torch.Tensor]:
    """Features ``{L: [n_texts, hidden]}`` at the [CLS] position, in the order of ``texts``.

    Texts are batched shortest first, so that a batch pads to about its own length (FewRel's test sentences
    in batches of 64 in their own order: 1.5x their tokens); the padding is masked out of attention, so a
    text's vector does not depend on its batch but for float rounding."""
    model.eval()
    input_ids = tokenizer(texts, truncation=True, max_length=max_len)["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: len(input_ids[i]))
    feats: dict[int, torch.Tensor] = {}
    with capture_context(model, layers) as captured:
        for start in tqdm(
            range(0, len(texts), batch_size), desc="features ([CLS])", disable=not progress, mininterval=2.0
        ):
            rows = order[start : start + batch_size]
            tokens, attention = _pad([input_ids[i] for i in rows], tokenizer.pad_token_id)
            run_capturing(model, input_ids=tokens.to(_device(model)), attention_mask=attention.to(_device(model)))
            for layer in layers:
                cls = captured[layer][:, 0].cpu()  # [batch, hidden]
                if layer not in feats:
                    feats[layer] = torch.empty((len(texts), cls.shape[1]), dtype=cls.dtype)
                feats[layer][rows] = cls
    return feats
