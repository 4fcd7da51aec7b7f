"""The Hugging Face Trainer's output, as a researcher reads it: one labelled bar per training (what trains,
step n of N, the latest loss) and its log dicts in the run's log file, not between the results on stdout.

The Trainer's own ``ProgressCallback`` draws an unlabelled bar and writes every log dict through it, and its
``PrinterCallback`` (with ``disable_tqdm``) prints them; :func:`label_trainer` replaces both with
:class:`LabelledProgress`.
"""

from __future__ import annotations

import json
from pathlib import Path

from transformers import PrinterCallback, ProgressCallback, Trainer, TrainerCallback


class LabelledProgress(TrainerCallback):
    """A bar labelled ``label`` over the optimiser steps (resumed runs start where they stopped), and each
    log dict appended to ``log_path`` as one JSON line with its step."""

    def __init__(self, label: str, log_path: Path, show: bool = True):
        self.label, self.log_path, self.show = label, Path(log_path), show
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if self.show and state.is_world_process_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=state.max_steps, initial=state.global_step, desc=self.label, dynamic_ncols=True, mininterval=2.0
            )
        return control

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return control
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": state.global_step, **logs}) + "\n")
        if self.bar is not None and "loss" in logs:
            self.bar.set_postfix(loss=f"{logs['loss']:.3f}", refresh=False)
        return control

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        return control


def label_trainer(trainer: Trainer, label: str, log_path: Path) -> LabelledProgress:
    """Replace the Trainer's bar and log printer by a :class:`LabelledProgress` (a bar unless the run is
    quiet, the log dicts always to ``log_path``)."""
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    callback = LabelledProgress(label, log_path, show=not trainer.args.disable_tqdm)
    trainer.add_callback(callback)
    return callback
