"""The validation-scale knob read at the largest validation set the data holds, once, outside the claims run.

    python scripts/validation_scale.py [--paragraphs 2000] [--out results/validation-scale/cpu-2000.json]

The `cpu` tier pins few-empty-columns' `zero_diagonal_fraction_*` on the validation set's size: a predicted
token can only have a positive diagonal if it occurs among the masked validation tokens, and the profile masks
the tokens of 250 paragraphs against the paper's 90,000. Its evidence is the quantity at 25, 62, 125 and 250
paragraphs, and a line in log(paragraphs) through the last two points says where the threshold would be met.
Reading 2,000 paragraphs in every cold run would cost ~6-7 minutes here (features of 97,023 masked positions,
one forward each, and the knob's sweeps over them), so this script reads them once: the `cpu` profile with
`probe.n_valid_paragraphs` raised, the same committed backbone and block-6 token probe, the same node subsets
(each head alone, 1, 12 and all 192 nodes; 20 subsets a count), at a tenth, a quarter, half and all of the
paragraphs. It writes each quantity along the paragraphs, read as the claims run's measure reads its knob
(`measures.heads.scale_curves`: the mean over the subsets, with its bootstrap interval), beside what the cpu
run's two-point trend predicted there; for each of the spec's `<` checks on these quantities at the cpu tier,
where the trend through the last two points reaches the threshold, from the cpu run's curve and from this one,
against the paper's 90,000 paragraphs (the rule a `scale` pin is held to); and the run's record (profile, code
commit, store keys, machine, seconds). One seed run (the first), where the cpu run averages three.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PAPER_PARAGRAPHS = 90000  # the paper's validation set (the scale pins' paper_scale)


def predicted(report: dict, quantity: str, x: float) -> float | None:
    """What the cpu report's trend (a line in log(paragraphs) through its last two points) gives at ``x``."""
    curve = report.get(quantity)
    if not isinstance(curve, dict) or len(curve) < 2:
        return None
    (x0, y0), (x1, y1) = sorted((float(k), float(v)) for k, v in curve.items())[-2:]
    return y1 + (y1 - y0) / np.log(x1 / x0) * np.log(x / x1)


def cpu_checks() -> list:
    """few-empty-columns' checks at the cpu tier (the spec read as the claims read it)."""
    from ssb.spec import load_spec

    return list(load_spec(ROOT / "claims" / "few-empty-columns.toml").expect["cpu"].checks)


def threshold_reached(check, cpu_curves: dict, curves: dict[str, dict[str, float]]) -> dict | None:
    """Where a `<` check's quantity, along the paragraphs read, reaches its threshold by a line in log(x) through
    the last two points (``decision.scale_trend``, a scale pin's rule): from the cpu run's curve and from this
    one (None where the curve does not move toward the threshold from its first point to its last, or its last
    two points do not: ``decision.pin_evidence`` then calls it a faithful negative); None for a check that is
    not a `<` on such a quantity (a control's paired difference, say)."""
    from ssb.decision import _scalar_margin, scale_trend

    name = f"{check.quantity}_vs_paragraphs"
    if check.op != "<" or check.control is not None or name not in curves or len(cpu_curves.get(name, {})) < 2:
        return None
    out = {"check": check.name, "threshold": check.value, "paper_scale": PAPER_PARAGRAPHS, "pinned": check.reason}
    for label, curve in (("from_cpu_run", cpu_curves[name]), ("from_this_run", curves[name])):
        x = sorted(curve, key=float)
        values = [float(curve[k]) for k in x]
        margins = _scalar_margin(check, np.array(values))[0]  # how far on the passing side, as the claims decide
        reached = scale_trend(name, [float(k) for k in x], values, margins).get("threshold_reached_at")
        toward = margins[-1] > margins[0]
        out[label] = None if reached is None or not toward else float(f"{reached:.3g}")
        if label == "from_this_run":
            out["through"] = f"{x[-2]} and {x[-1]} paragraphs"
    return out


def few_empty_columns_curves(report_path: str) -> dict:
    """The cpu report's few-empty-columns quantities (its curves along the paragraphs read), or a one-line exit."""
    try:
        report = json.loads(Path(report_path).read_text())
        return next(c["measured"] for c in report["claims"] if c["id"] == "few-empty-columns")
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as err:
        sys.exit(f"validation_scale.py: {report_path}: no few-empty-columns claim to compare with ({err!r})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=2000)
    parser.add_argument("--report", default=str(ROOT / "results" / "cpu" / "report.json"))
    parser.add_argument("--out", default=str(ROOT / "results" / "validation-scale" / "cpu-2000.json"))
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()

    from ssb.api import pipeline
    from ssb.config import load_profile
    from ssb.environment import git_commit, matmul_speed
    from ssb.measures.heads import scale_curves

    along = few_empty_columns_curves(args.report)  # the cpu run's points: read before the long part

    profile = load_profile("cpu").replace(probe={"n_valid_paragraphs": args.paragraphs})
    print(
        f"validation scale: the cpu profile at {args.paragraphs} validation paragraphs "
        "(2,000 took 385 s cold on the project's 2-core machine, at 182 GFLOP/s)",
        flush=True,
    )
    started = time.time()
    pl = pipeline(profile, cache_dir=args.cache_dir)
    features_key = pl.valid_features_key("reference")
    cold = pl.store.lookup("token-features", features_key) is None
    curves = scale_curves(pl.validation_scale("reference"))  # as the claims run reads its knob, at these sizes
    seconds = time.time() - started
    measured = {name: {k: float(est.value) for k, est in curve.items()} for name, curve in curves.items()}
    rows = []
    for k in sorted({k for curve in curves.values() for k in curve}, key=int):
        for name, curve in curves.items():
            est, guess = curve[k], predicted(along, name, float(k))
            rows.append({"quantity": name, "paragraphs": int(k), "measured": round(float(est.value), 4),
                         "interval": None if est.interval() is None else [round(v, 4) for v in est.interval()],
                         "cpu_trend_predicted": None if guess is None else round(float(guess), 4)})  # fmt: skip
    reaches = [threshold_reached(check, along, measured) for check in cpu_checks()]
    paragraphs = pl.valid_paragraphs("reference")
    record = {
        "what": __doc__.split("\n\n")[0],
        "profile": "cpu",
        "n_valid_paragraphs": int(paragraphs.max()) + 1,  # read (the corpus's validation split caps what is asked)
        "positions": int(len(paragraphs)),
        "seed_run": 0,  # the profile's own seeds (probe, subsets); the cpu run's curves average its seed runs
        "code": git_commit(ROOT),
        "script_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "features_key": features_key,
        "probe_key": pl.token_probe(pl.profile.probe.layer)[1],
        "seconds": round(seconds, 1),
        "store": "cold" if cold else "warm (the features read back from the store)",
        "machine_speed": matmul_speed(),
        "rows": rows,
        "threshold_reached_at": [r for r in reaches if r is not None],
    }
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    for row in rows:
        q, k, value, guess = row["quantity"], row["paragraphs"], row["measured"], row["cpu_trend_predicted"]
        print(f"{q:48s} {k:5d}  {value:.4f}  (the cpu run's trend: {guess})")
    for r in record["threshold_reached_at"]:
        a, b = (f"{r[k]:g}" if r[k] is not None else "never" for k in ("from_cpu_run", "from_this_run"))
        print(f"{r['check']:36s} reaches {r['threshold']:g} at {a} (cpu run's trend), {b} (through "
              f"{r['through']}); the paper's {r['paper_scale']:g}")  # fmt: skip
    print(f"written: {args.out} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
