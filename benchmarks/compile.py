"""Does ``torch.compile`` pay back within a profile's pre-training? Measured on this machine.

    python benchmarks/compile.py [--profile cpu] [--steps 12] [--device cpu] [--json compile.json]

Runs ``ssb.train.calibrate`` (the profile's own model, batch and real paragraphs from ``SSB_DATA_DIR``,
nothing stored) twice, ``runtime.compile`` off and on, back to back in one process, and reports for each
the first step (warm-up; with ``compile`` also the compilation) and the step time after it (``calibrate``'s:
the median time per padded position of its timed steps, times pre-training's mean positions; a compiled
model recompiles for each new length, and a recompilation within the timed steps falls in the median's tail,
so the break-even below is then a lower bound). The
compilation pays back after ``(first_on - first_off) / (step_off - step_on)`` steps when compiled steps are
faster, never when they are not; the verdict compares that with the profile's ``pretrain.max_steps``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
from pathlib import Path

import torch

from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.device import runtime_for
from ssb.paths import data_dir
from ssb.train import calibrate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=12, help="timed calibration steps a setting (after a warm-up)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    base = dataclasses.replace(profile.runtime, device=args.device)
    out: dict = {
        "profile": profile.name,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "device": args.device,
        "batch_size": profile.pretrain.batch_size,
        "steps_measured": args.steps,
    }
    with tempfile.TemporaryDirectory() as tmp:
        store = ArtifactStore(Path(tmp))
        for compiled in (False, True):
            runtime = runtime_for(dataclasses.replace(base, compile=compiled))
            print(f"[compile benchmark] {profile.name}: {args.steps} steps, compile={compiled}", flush=True)
            measured = calibrate(profile, store, data_dir(), runtime, steps=args.steps)
            out["compiled" if compiled else "eager"] = {k: measured[k] for k in ("first_step_s", "s_per_step")}
    off, on = out["eager"], out["compiled"]
    saved = off["s_per_step"] - on["s_per_step"]
    extra = on["first_step_s"] - off["first_step_s"]
    out["speedup_per_step"] = off["s_per_step"] / on["s_per_step"]
    out["break_even_steps"] = extra / saved if saved > 0 else None
    steps = profile.pretrain.max_steps
    out["profile_steps"] = steps
    out["pays_back"] = out["break_even_steps"] is not None and steps > 0 and out["break_even_steps"] < steps
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
