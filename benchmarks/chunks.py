"""Benchmark the aperture's chunk sizes on the CPU: seconds per subset for each ``aperture.Chunks`` of a grid,
for the two-layer token head and the one-layer label head, and whether every size gives the same predictions.

    python benchmarks/chunks.py [--positions 12409] [--inputs 192] [--vocab 8192] [--repeat 2]

Shapes default to the ``cpu`` profile's: 12,409 validation positions (250 paragraphs), 192 nodes, a
192 -> 192 -> 8,192 token head; FewRel's 4,480 test sentences through a 192 -> 64 label head. Weights and
features are random (the cost of a masked product does not depend on them). ``aperture.Chunks()``'s
defaults are the fastest sizes this printed on the project's two-core machine; run it on yours and pass
your own where they differ.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from ssb import aperture
from ssb.probe import LabelHead, TokenHead

GRID = [
    (8, 2048, 4096),
    (8, 512, 1024),
    (4, 1024, 1024),
    (2, 2048, 1024),
    (1, 2048, 1024),
    (1, 4096, 1024),
    (1, 2048, 512),
    (1, 8192, 1024),
    (1, 4096, 2048),
]


def seconds_per_subset(head, X, masks, chunks: aperture.Chunks, repeat: int) -> tuple[float, np.ndarray]:
    best, preds = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        preds = np.stack([p for _, p in aperture.iter_predictions(head, X, masks, chunks=chunks)])
        best = min(best, (time.perf_counter() - started) / len(masks))
    return best, preds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=12409)
    parser.add_argument("--inputs", type=int, default=192)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--labels", type=int, default=64)
    parser.add_argument("--label-positions", type=int, default=4480)
    parser.add_argument("--subsets", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    D = args.inputs
    masks = aperture.random_nodes(D, 16, args.subsets, seed=0)  # [subsets, D]; the cost is the same at any size
    cases = {
        "token head": (TokenHead(D, args.vocab).eval(), torch.randn(args.positions, D)),  # X [positions, D]
        "label head": (LabelHead(D, args.labels).eval(), torch.randn(args.label_positions, D)),
    }
    rows = []
    for name, (head, X) in cases.items():
        first = None
        for s, p, c in GRID:
            chunks = aperture.Chunks(subset_batch=s, position_chunk=p, label_chunk=c)
            seconds, preds = seconds_per_subset(head, X, masks, chunks, args.repeat)
            first = preds if first is None else first
            row = {"head": name, "chunks": [s, p, c], "s_per_subset": round(seconds, 4)}
            row["same_predictions"] = bool((preds == first).all())
            rows.append(row)
            print(f"{name:10s} subset_batch={s:<2d} position_chunk={p:<5d} label_chunk={c:<5d} "
                  f"{seconds:.4f} s/subset  same={row['same_predictions']}", flush=True)  # fmt: skip
    print(json.dumps({"machine": f"{torch.get_num_threads()} threads, torch {torch.__version__}", "rows": rows}))


if __name__ == "__main__":
    main()
