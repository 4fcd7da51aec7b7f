"""Benchmark the aperture: subsets per second, GFLOP/s against a plain matmul, memory, and the naive way.

    python benchmarks/aperture.py [--positions 20000] [--inputs 768] [--vocab 30522] [--quick] [--no-naive]

Shapes default to the paper's: cached features ``[20000, 768]``, a two-layer bias-free head
768 -> 768 -> 30,522 and a one-layer head 768 -> 64 labels. A subset of the two-layer head costs
``2 * n * (D * D + D * V)`` FLOPs (~0.96 TFLOP at these shapes, ~10 s on two cores), so the script times
a few subsets of each kind and extrapolates linearly to the full sweeps (the cost per subset does not
depend on the subset: silencing is a mask, not a gather). Single nodes take the certified shortcut
(``aperture.single_node_argmax``), timed against the masked product; its speed-up depends on how often
the winner changes along the node's values, so random weights and features only indicate it. The naive
way, one backbone forward of the masked validation copies per subset, is timed on a small BERT and
compared per subset.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import torch

from ssb import aperture
from ssb.probe import LabelHead, TokenHead

COUNTS = (1, 2, 4, 8, 12, 16, 32, 64, 128, 256, 512, 768)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_subsets(head, X, masks, repeat: int = 1) -> float:
    """Seconds per subset, streaming predictions as the sweeps do."""
    started = time.perf_counter()
    for _ in range(repeat):
        for _row, _pred in aperture.iter_predictions(head, X, masks):
            pass
    return (time.perf_counter() - started) / (repeat * len(masks))


def matmul_gflops(n: int, k: int, m: int, repeat: int = 3) -> float:
    a, b = torch.randn(n, k), torch.randn(k, m)
    a @ b
    started = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * n * k * m * repeat / (time.perf_counter() - started) / 1e9


def naive_seconds_per_subset(n_positions: int, hidden: int, vocab: int, length: int = 56) -> tuple[float, float]:
    """One backbone forward of masked validation copies per subset, on a 6-layer, 12-head BERT.

    Returns (seconds per subset for ``n_positions`` masked copies, seconds of the aperture for the same).
    """
    from ssb.config import BackboneConfig
    from ssb.features import capture_context, run_capturing
    from ssb.model import build_mlm

    cfg = BackboneConfig(n_layers=6, hidden=hidden, n_heads=12, intermediate=4 * hidden, max_len=128)
    model = build_mlm(cfg, vocab).eval()
    copies = 128  # a batch of masked copies of one validation paragraph of ``length`` tokens
    ids = torch.randint(5, vocab, (copies, length))
    with torch.no_grad(), capture_context(model, (6,)):
        run_capturing(model, input_ids=ids)
        started = time.perf_counter()
        run_capturing(model, input_ids=ids)
        backbone = (time.perf_counter() - started) / copies * n_positions
    head = TokenHead(hidden, vocab).eval()
    X = torch.randn(2048, hidden)
    per_subset = time_subsets(head, X, aperture.random_nodes(hidden, 4, 8, 0)) * n_positions / 2048
    return backbone + per_subset, per_subset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--positions", type=int, default=20_000)
    parser.add_argument("--inputs", type=int, default=768)
    parser.add_argument("--vocab", type=int, default=30_522)
    parser.add_argument("--labels", type=int, default=64)
    parser.add_argument("--timed-subsets", type=int, default=4, help="subsets timed per kind (then extrapolated)")
    parser.add_argument("--quick", action="store_true", help="a quarter of the positions")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive way (~35 min at the paper's shapes)")
    args = parser.parse_args()
    n = args.positions // (4 if args.quick else 1)
    D, V = args.inputs, args.vocab
    torch.manual_seed(0)
    X = torch.randn(n, D)
    token_head, label_head = TokenHead(D, V).eval(), LabelHead(D, args.labels).eval()
    out: dict = {"positions": n, "inputs": D, "vocab": V, "threads": torch.get_num_threads()}

    rss0 = peak_rss_mb()
    token_sps = {}
    for count in (16, D):
        masks = aperture.random_nodes(D, count, args.timed_subsets, 0)
        token_sps[count] = 1 / time_subsets(token_head, X, masks)
    per_subset = 1 / np.mean(list(token_sps.values()))
    # single nodes: the certified shortcut against the batched masked product it replaces
    singles = aperture.random_nodes(D, 1, args.timed_subsets, 0)
    single_s = time_subsets(token_head, X, singles)
    started = time.perf_counter()
    for mask in torch.as_tensor(singles):
        for p0 in range(0, n, 2048):
            aperture.masked_argmax(token_head, X[p0 : p0 + 2048], mask[None])
    single_direct_s = (time.perf_counter() - started) / len(singles)
    flops = 2 * n * (D * D + D * V)
    out["token_head"] = {
        "subsets_per_s": float(1 / per_subset),
        "gflops": flops / per_subset / 1e9,
        "matmul_gflops": matmul_gflops(2048, D, V),
        "single_node_s": {
            "shortcut": single_s,
            "masked_product": single_direct_s,
            "speed_up": single_direct_s / single_s,
        },
        "all_single_nodes_s": D * single_s,
        "random_sweep_s": sum(1 if c == D else 20 for c in COUNTS if c > 1) * per_subset + 20 * single_s,
    }
    # memory against the number of subsets (on 4,096 positions: the peak depends on the chunk sizes, not
    # on the number of positions): one batch of 8 subsets, then four batches of 8
    X_small = X[:4096]
    time_subsets(token_head, X_small, aperture.random_nodes(D, 8, 8, 1))
    after_8 = peak_rss_mb()
    time_subsets(token_head, X_small, aperture.random_nodes(D, 8, 32, 2))
    out["token_head"]["peak_rss_mb"] = {"start": rss0, "after 8 subsets": after_8, "after 40 subsets": peak_rss_mb()}
    out["token_head"]["full_logits_block_mb"] = n * V * 4 / 2**20

    label_singles = aperture.single_nodes(D)
    t = time_subsets(label_head, X, label_singles)
    out["label_head"] = {
        "subsets_per_s": 1 / t,
        "all_single_nodes_s": D * t,
        "gflops": 2 * n * D * args.labels / t / 1e9,
        "matmul_gflops": matmul_gflops(n, D, args.labels),
    }
    for hidden, vocab, length in () if args.no_naive else ((192, 8192, 56), (768, 30522, 56), (768, 30522, 128)):
        naive, ours = naive_seconds_per_subset(n, hidden, vocab, length)
        out[f"naive_vs_aperture_bert6_h{hidden}_len{length}"] = {
            "naive_s_per_subset": naive,
            "aperture_s_per_subset": ours,
            "ratio": naive / ours,
        }
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=1)


if __name__ == "__main__":
    main()
