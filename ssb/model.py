"""The BERT backbone: built from a ``BertConfig`` (never downloaded), with the options the claims need.

- dropout on or off, for the hidden states and the attention probabilities separately;
- symmetric initialisation: in every layer all heads start as copies of head 0 (the Q, K, V weight rows
  and biases of the head) and the attention output projection's per-head column blocks as copies, so
  that without a symmetry-breaking source (attention dropout) the heads stay identical in training;
- any local HF checkpoint of the BERT family (``--model DIR``: BERT, RoBERTa, ELECTRA, XLM-R; see
  ``ssb/checkpoint.py``) loaded through the Auto classes instead of a trained one, weights via safetensors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch
from transformers import BertConfig, BertForMaskedLM, PreTrainedModel

from .checkpoint import SUPPORTED_FAMILIES, CheckpointError, check_family
from .config import BackboneConfig
from .tokenizer import missing_tokenizer_files


def bert_config(cfg: BackboneConfig, vocab_size: int, pad_token_id: int = 0, n_labels: int = 2) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden,
        num_hidden_layers=cfg.n_layers,
        num_attention_heads=cfg.n_heads,
        intermediate_size=cfg.intermediate,
        max_position_embeddings=cfg.max_len,
        hidden_dropout_prob=cfg.hidden_dropout,
        attention_probs_dropout_prob=cfg.attention_dropout,
        pad_token_id=pad_token_id,
        num_labels=n_labels,
    )


def encoder_layers(model: PreTrainedModel) -> torch.nn.ModuleList:
    """The layer list of any BERT-family model (masked LM, classifier or bare encoder)."""
    return model.base_model.encoder.layer


@torch.no_grad()
def symmetrize_heads(model: PreTrainedModel) -> None:
    """Make every head of every layer a copy of head 0 (Q, K, V rows and biases; output columns)."""
    n_heads = model.config.num_attention_heads
    d = model.config.hidden_size // n_heads
    for layer in encoder_layers(model):
        attn = layer.attention.self
        for proj in (attn.query, attn.key, attn.value):
            proj.weight.copy_(proj.weight[:d].repeat(n_heads, 1))  # [hidden_out, hidden_in]: rows per head
            proj.bias.copy_(proj.bias[:d].repeat(n_heads))
        out = layer.attention.output.dense  # [hidden, hidden]: input columns per head
        out.weight.copy_(out.weight[:, :d].repeat(1, n_heads))


@torch.no_grad()
def head_spread(model: PreTrainedModel) -> float:
    """The largest absolute difference between any head's parameters and head 0's, over all layers."""
    n_heads = model.config.num_attention_heads
    d = model.config.hidden_size // n_heads
    worst = 0.0
    for layer in encoder_layers(model):
        attn = layer.attention.self
        blocks = [p.weight.view(n_heads, d, -1) for p in (attn.query, attn.key, attn.value)]
        blocks += [p.bias.view(n_heads, d) for p in (attn.query, attn.key, attn.value)]
        blocks.append(layer.attention.output.dense.weight.view(-1, n_heads, d).transpose(0, 1))
        for block in blocks:
            worst = max(worst, float((block - block[:1]).abs().max()))
    return worst


class SparseBertForMaskedLM(BertForMaskedLM):
    """``BertForMaskedLM`` that, in training, projects to the vocabulary only at the labelled positions.

    The loss is the parent's (mean cross-entropy over the positions whose label is not -100), but the
    vocabulary projection, a third of a small BERT's FLOPs, is not computed for the 85 % of positions the
    loss ignores. Evaluation runs the parent's forward; weights and saved config are a plain
    ``BertForMaskedLM``'s. ``unpadded`` ("repad" or "nested", ``pretrain.attention``): a training step
    computes the same loss over the real tokens only (``ssb/unpadded.py``), none of its work on padding.
    """

    unpadded: str | None = None

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        inputs_embeds=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
        labels=None,
        **kwargs,
    ):
        # the Trainer passes num_items_in_batch to a forward with **kwargs; both losses here are means over
        # the labelled positions (no gradient accumulation), and transformers 4.x's parent rejects the key
        kwargs.pop("num_items_in_batch", None)
        if not self.training or labels is None:
            return super().forward(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                position_ids=position_ids,
                inputs_embeds=inputs_embeds,
                encoder_hidden_states=encoder_hidden_states,
                encoder_attention_mask=encoder_attention_mask,
                labels=labels,
                **kwargs,
            )
        from transformers.modeling_outputs import MaskedLMOutput

        if self.unpadded is not None and inputs_embeds is None and position_ids is None:
            from .unpadded import mlm_loss  # one segment, positions from each paragraph's start: MLM's batches

            if token_type_ids is not None and bool(token_type_ids.any()):
                raise ValueError("the unpadded step reads one segment: token_type_ids must be all 0")
            return MaskedLMOutput(loss=mlm_loss(self, input_ids, attention_mask, labels, attention=self.unpadded))
        hidden = self.bert(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            return_dict=True,
        ).last_hidden_state
        keep = labels != -100  # [batch, seq]
        logits = self.cls(hidden[keep])  # [n_labelled, vocab]
        loss = torch.nn.functional.cross_entropy(logits, labels[keep])
        return MaskedLMOutput(loss=loss, logits=logits)


def build_mlm(
    cfg: BackboneConfig, vocab_size: int, pad_token_id: int = 0, sparse: bool = False, attention: str = "padded"
) -> BertForMaskedLM:
    """A freshly initialised masked-LM BERT, seeded by ``cfg.seed`` (``sparse``: for training, see above, with
    ``attention`` its step: ``pretrain.attention``)."""
    torch.manual_seed(cfg.seed)
    config = bert_config(cfg, vocab_size, pad_token_id)
    config.architectures = ["BertForMaskedLM"]
    model = (SparseBertForMaskedLM if sparse else BertForMaskedLM)(config)
    if attention != "padded":
        if not sparse:
            raise ValueError(f"attention {attention!r} is a training step's: build the sparse training model")
        model.unpadded = attention
    if cfg.symmetric_init:
        symmetrize_heads(model)
    return model


HUB_ID = r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?"  # bert-base-uncased, google/bert_uncased_L-6_H-768_A-12


def resolve_model(model: str | Path) -> Path:
    """``--model``: a local folder, or a Hugging Face hub id: from the local hub cache when it is there (offline
    too), else downloaded into it when the hub is reachable (config, tokenizer and safetensors weights only).
    Offline, an id that is not cached is refused in one line that says how to fetch it."""
    import os
    import re

    path = Path(model).expanduser()
    if path.exists():
        return path.resolve()
    name = str(model)
    if not re.fullmatch(HUB_ID, name) or name.startswith(".") or os.sep in name.replace("/", "", 1):
        raise CheckpointError(f"--model {name}: no such folder (a local Hugging Face BERT folder or a hub id)")
    advice = (
        f"download it where the hub is reachable (`hf download {name} --local-dir DIR`, or "
        f"`huggingface-cli download {name} --local-dir DIR`) and pass --model DIR"
    )
    from huggingface_hub import snapshot_download

    from .data.common import hub_offline

    patterns = ["*.json", "*.txt", "*.safetensors"]
    try:  # a hub id already in the local Hugging Face cache loads offline
        return Path(snapshot_download(repo_id=name, allow_patterns=patterns, local_files_only=True))
    except OSError:  # not cached: huggingface_hub's LocalEntryNotFoundError (a FileNotFoundError)
        pass
    if hub_offline():
        raise CheckpointError(f"--model {name}: no such folder, and the hub is offline here (HF_HUB_OFFLINE): {advice}")
    try:
        folder = snapshot_download(repo_id=name, allow_patterns=patterns)
    except Exception as err:  # no network, no such repository, no access: one line, with the way out
        raise CheckpointError(
            f"--model {name}: not found locally, and the hub gave {type(err).__name__}: {advice}"
        ) from err
    return Path(folder)


def saved_model_folder(model: PreTrainedModel, tokenizer: object, root: Path) -> Path:
    """An in-memory BERT (``BertModel``, ``BertForMaskedLM``, ...) and its tokenizer written once as a Hugging
    Face folder under ``root/user-models/<digest>`` (the digest of the written config, tokenizer and weights),
    so that it is keyed like any ``--model DIR``: the same weights map to the same folder and cache entries."""
    import hashlib
    import os
    import shutil
    import uuid

    family = getattr(getattr(model, "config", None), "model_type", None)
    if family not in SUPPORTED_FAMILIES or not hasattr(model, "save_pretrained"):
        raise CheckpointError(
            f"model={type(model).__name__}: not a Hugging Face model of the BERT family (config.model_type one of "
            f"{', '.join(SUPPORTED_FAMILIES)}; got {family!r})"
        )
    if not hasattr(tokenizer, "save_pretrained"):
        raise CheckpointError(
            f"model={type(model).__name__}: an in-memory model needs its tokenizer too (tokenizer=, a Hugging Face "
            f"tokenizer; got {type(tokenizer).__name__})"
        )
    base = root / "user-models"
    tmp = base / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        digest = hashlib.sha256()
        for path in sorted(p for p in tmp.iterdir() if p.suffix in (".json", ".txt", ".safetensors")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        target = base / digest.hexdigest()[:16]
        if not target.is_dir():
            with contextlib.suppress(OSError):  # a concurrent call wrote the same folder first: keep that one
                os.replace(tmp, target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_model_folder(folder: Path) -> None:
    """Refuse, in one line, a folder whose config is not of a supported family (``checkpoint.SUPPORTED_FAMILIES``)
    or that has no safetensors weights or no tokenizer."""
    check_family(folder)
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise CheckpointError(f"{folder}: no *.safetensors weights (only safetensors are loaded)")
    for path in weights:
        check_safetensors(path)
    if (missing := missing_tokenizer_files(folder)) is not None:
        raise CheckpointError(missing)


def check_safetensors(path: Path) -> None:
    """Refuse a truncated, zeroed or otherwise unreadable safetensors file in one line (safetensors itself
    checks that the header parses and that the file holds every byte it describes)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            handle.keys()
    except Exception as err:  # safetensors raises its own SafetensorError (and OSError for I/O)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: not a readable safetensors file ({first})") from err


@contextlib.contextmanager
def _no_load_report() -> Iterator[None]:
    """Silence transformers' table of missing and unexpected keys while a head that is new by design loads."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def load_mlm(folder: Path) -> PreTrainedModel:
    """A saved BERT-family model as a masked LM (a bare encoder checkpoint gets a new, unused MLM head).
    Weights that do not fit the folder's config.json are one CheckpointError, not transformers' table of
    mismatched keys."""
    from transformers import AutoModelForMaskedLM

    check_model_folder(folder)
    try:
        with _no_load_report():
            return AutoModelForMaskedLM.from_pretrained(str(folder), use_safetensors=True)
    except (RuntimeError, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{folder}: the weights do not load with its config.json ({first})") from err


def load_classifier(folder: Path, n_labels: int, overrides: dict | None = None) -> PreTrainedModel:
    """A sequence classifier on a saved backbone. Its classification head and pooler are new and the MLM
    head is unused, as intended."""
    from transformers import AutoModelForSequenceClassification

    with _no_load_report():
        return AutoModelForSequenceClassification.from_pretrained(
            str(folder), num_labels=n_labels, use_safetensors=True, **(overrides or {})
        )


def load_encoder(folder: Path) -> PreTrainedModel:
    """Any local BERT-family checkpoint as a bare encoder (safetensors weights only)."""
    from transformers import AutoModel

    with _no_load_report():
        return AutoModel.from_pretrained(str(folder), use_safetensors=True)
