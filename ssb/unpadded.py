"""The masked-LM forward over the real tokens only (issue #38): no work on padding.

A batch of paragraphs padded to one length spends the padding's share of every matrix product on nothing
(21.9 % of the positions in the cpu profile's batches padded to each batch's longest, benchmarks/unpadded.py).
Here the real tokens of the batch are laid end to end (``[T, hidden]``, T the real tokens), as ModernBERT
unpads before the embedding, and attention runs per paragraph over its own tokens: on nested jagged tensors
through ``scaled_dot_product_attention`` (its varlen kernels on a GPU), or repadded for attention alone (the
dense kernels; faster on a CPU, where the nested path falls back to a slow math path). The weights are a
``BertForMaskedLM``'s, used as its own modules compute them, so the model trained here is the padded model:
the same semantics (no attention across paragraphs, positions counted from each paragraph's start, the loss
over the labelled positions only, the vocabulary projected at those positions only, as
``SparseBertForMaskedLM`` does). ``tests/test_unpadded.py`` holds loss and gradients to the padded model's
on random batches, for both attentions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import BertForMaskedLM


@dataclass(frozen=True)
class Unpadded:
    """The real tokens of a right-padded batch, laid end to end."""

    index: torch.Tensor  # [T]: each real token's flat position in the padded [batch * seq]
    positions: torch.Tensor  # [T]: its position within its paragraph
    offsets: torch.Tensor  # [batch + 1]: where each paragraph's tokens start in [T] (cumulative lengths)
    mask: torch.Tensor  # [batch, seq]: True on the real tokens (the padded layout, for attention="repad")


def unpad(attention_mask: torch.Tensor) -> Unpadded:
    """``attention_mask`` ``[batch, seq]`` (1 on real tokens, right padding) -> the real tokens' layout."""
    mask = attention_mask.bool()
    lengths = mask.sum(dim=1)  # [batch]
    if bool((mask[:, 1:] & ~mask[:, :-1]).any()):  # a real token after padding
        raise ValueError("unpad needs right padding: every row's real tokens first, then its padding")
    if bool((lengths == 0).any()):
        raise ValueError("unpad needs at least one real token per row")
    index = mask.flatten().nonzero().squeeze(1)  # [T]
    positions = (torch.arange(mask.shape[1], device=mask.device).expand_as(mask))[mask]  # [T]
    offsets = F.pad(lengths.cumsum(dim=0), (1, 0))  # [batch + 1]
    return Unpadded(index, positions, offsets, mask)


ATTENTION = ("nested", "repad")


def _attention(layer: torch.nn.Module, h: torch.Tensor, layout: Unpadded, how: str) -> torch.Tensor:
    """BERT self-attention of ``h`` ``[T, hidden]`` within each paragraph -> ``[T, hidden]`` (before the output
    projection). ``how``: "nested", jagged tensors through ``scaled_dot_product_attention`` (varlen kernels on
    a GPU); "repad", the projections' outputs scattered back into the padded layout for attention alone, with
    the padding masked as keys (the dense kernels; on a CPU the nested path's math fallback costs more than
    the padding it saves in attention, a small share of the work there)."""
    attn = layer.attention.self
    n_heads, d = attn.num_attention_heads, attn.attention_head_size
    T = h.shape[0]
    p = attn.dropout.p if attn.training else 0.0
    if how == "repad":
        B, L = layout.mask.shape

        def padded(x: torch.Tensor) -> torch.Tensor:  # [T, hidden] -> [batch, heads, seq, d]
            full = x.new_zeros(B * L, n_heads * d).index_copy(0, layout.index, x)  # [batch * seq, hidden]
            return full.view(B, L, n_heads, d).transpose(1, 2)

        keys = layout.mask[:, None, None, :]  # [batch, 1, 1, seq]: attend to real tokens only
        out = F.scaled_dot_product_attention(padded(attn.query(h)), padded(attn.key(h)), padded(attn.value(h)),
                                             attn_mask=keys, dropout_p=p)  # fmt: skip
        return out.transpose(1, 2).reshape(B * L, n_heads * d)[layout.index]  # [T, hidden]

    def jagged(x: torch.Tensor) -> torch.Tensor:  # [T, hidden] -> nested [batch, heads, j, d]
        return torch.nested.nested_tensor_from_jagged(x.view(T, n_heads, d), layout.offsets).transpose(1, 2)

    q, k, v = jagged(attn.query(h)), jagged(attn.key(h)), jagged(attn.value(h))
    with warnings.catch_warnings():  # the CPU's math path goes through the older nested layout, and says so
        warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors is in prototype stage")
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
    return out.transpose(1, 2).values().reshape(T, n_heads * d)  # [T, hidden]


def encode(model: BertForMaskedLM, input_ids: torch.Tensor, layout: Unpadded, attention: str = "auto") -> torch.Tensor:
    """The last hidden states of the real tokens, ``[T, hidden]``; ``attention``: see ``mlm_loss``."""
    how = attention if attention != "auto" else ("nested" if input_ids.is_cuda else "repad")
    if how not in ATTENTION:
        raise ValueError(f"attention must be auto, {' or '.join(ATTENTION)}, got {attention!r}")
    emb = model.bert.embeddings
    ids = input_ids.flatten()[layout.index]  # [T]
    h = emb.word_embeddings(ids) + emb.position_embeddings(layout.positions)  # [T, hidden]
    h = h + emb.token_type_embeddings(torch.zeros_like(ids))  # one segment, as the padded model's default
    h = emb.dropout(emb.LayerNorm(h))
    for layer in model.bert.encoder.layer:
        a = layer.attention.output
        h = a.LayerNorm(a.dropout(a.dense(_attention(layer, h, layout, how))) + h)  # [T, hidden]
        o = layer.output
        h = o.LayerNorm(o.dropout(o.dense(layer.intermediate(h))) + h)  # [T, hidden]
    return h


def mlm_loss(
    model: BertForMaskedLM,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    labels: torch.Tensor,
    attention: str = "auto",
) -> torch.Tensor:
    """The padded model's masked-LM loss (mean cross-entropy over the labelled positions), computed on the
    real tokens only; ``input_ids``, ``attention_mask``, ``labels``: ``[batch, seq]``, right-padded.
    ``attention``: "nested" or "repad" (see ``_attention``); "auto": nested on a GPU, repad on a CPU."""
    layout = unpad(attention_mask)
    hidden = encode(model, input_ids, layout, attention)  # [T, hidden]
    targets = labels.flatten()[layout.index]  # [T]
    keep = targets != -100
    logits = model.cls(hidden[keep])  # [n_labelled, vocab]
    return F.cross_entropy(logits, targets[keep])
