"""Variants (§3, Appendix 3): identical head initialisation against the reference at one budget: head spread,
held-out MLM accuracy, and the tokens each head recognises."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model import head_spread, load_mlm
from ..systems import SHORT
from .heads import head_table

if TYPE_CHECKING:
    from ..resolver import Resolver


def symmetric(pl: Resolver) -> dict[str, Any]:
    """Equal short budgets for a normal, a symmetric (no attention dropout) and a symmetric with
    attention dropout backbone: head spread, held-out MLM accuracy, and recognised tokens per head."""
    return pl.once("symmetric", lambda: _symmetric(pl))


def _symmetric(pl: Resolver) -> dict[str, Any]:
    """With ``variants.symmetric_full_budget`` the reference and the symmetric variant come at the
    reference's own budget (committed or trained: ``full``), and only the symmetric backbone with
    attention dropout, whose one question is whether its heads separate, trains at the short in-run
    budget (no token probe). Without it, all three are short in-run backbones with token probes."""
    v = pl.profile.variants
    floor = {"unigram_masked_accuracy": unigram_masked_accuracy(pl)}
    if v.symmetric_full_budget and pl.model_dir is None:
        short = _symmetry_record(pl, SHORT + "symmetric-attention-dropout", with_tokens=False)
        return {
            "symmetric-attention-dropout": short,
            "full": {name: _symmetry_record(pl, name) for name in ("reference", "symmetric")},
            **floor,
        }
    return {
        **{
            name: _symmetry_record(pl, SHORT + name)
            for name in ("reference", "symmetric", "symmetric-attention-dropout")
        },
        **floor,
    }


def unigram_masked_accuracy(pl: Resolver) -> float:
    """The masked accuracy of a model that has learned nothing but the unigram: always the most frequent
    piece, on the pre-training's held-out paragraphs (its share among their non-special pieces)."""
    from ..tokenizer import load_tokenizer
    from ..train import N_EVAL_PARAGRAPHS

    folder, _ = pl.backbone()
    texts = pl.paragraphs().valid[:N_EVAL_PARAGRAPHS]
    enc = load_tokenizer(folder)(
        texts, truncation=True, max_length=pl.profile.backbone.max_len, return_special_tokens_mask=True
    )
    pieces = [i for ids, special in zip(enc["input_ids"], enc["special_tokens_mask"], strict=True)
              for i, s in zip(ids, special, strict=True) if not s]  # fmt: skip
    return float(np.bincount(pieces).max() / len(pieces))


def _symmetry_record(pl: Resolver, name: str, with_tokens: bool = True) -> dict[str, Any]:
    """Head spread, MLM accuracy and (``with_tokens``) the tokens each head recognises through the
    block-L token probe of a backbone."""
    folder, _ = pl.backbone(name)
    record = json.loads((folder / "record.json").read_text())
    out = {
        "head_spread": head_spread(load_mlm(folder)),
        "mlm_accuracy": record["final_eval"].get("eval_mlm_accuracy"),
        "masked_accuracy": record["final_eval"].get("eval_masked_accuracy"),
        "attention_dropout": record["config"]["backbone"]["attention_dropout"],
        "steps": record["steps"],
    }
    if with_tokens:
        heads = head_table(pl, name)["1"]
        per_head = [set(r) for r in heads["recognised"]]
        out.update(
            {
                "n_pos_per_head": heads["n_pos"]["mean"],
                "union_recognised": len(set().union(*per_head)),
                "distinct_head_sets": len({frozenset(h) for h in per_head}),
            }
        )
    return out
