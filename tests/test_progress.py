"""The Trainer's output: one labelled bar, the log dicts in a file (ssb/progress.py)."""

import json
from types import SimpleNamespace

from ssb.progress import LabelledProgress


def test_log_dicts_go_to_the_file_with_their_step_and_the_bar_is_labelled(tmp_path, capsys):
    callback = LabelledProgress("pre-training the smoke backbone", tmp_path / "run" / "trainer_log.jsonl")
    state = SimpleNamespace(is_world_process_zero=True, max_steps=4, global_step=0)
    callback.on_train_begin(None, state, None)
    for step in (1, 2):
        state.global_step = step
        callback.on_step_end(None, state, None)
        callback.on_log(None, state, None, logs={"loss": 3.0 / step, "learning_rate": 1e-3})
    callback.on_train_end(None, state, None)
    rows = [json.loads(line) for line in (tmp_path / "run" / "trainer_log.jsonl").read_text().splitlines()]
    assert rows == [{"step": 1, "loss": 3.0, "learning_rate": 1e-3}, {"step": 2, "loss": 1.5, "learning_rate": 1e-3}]
    captured = capsys.readouterr()
    assert "loss" not in captured.out and "pre-training the smoke backbone" in captured.err


def test_a_quiet_run_draws_no_bar_but_keeps_its_log(tmp_path, capsys):
    callback = LabelledProgress("x", tmp_path / "log.jsonl", show=False)
    state = SimpleNamespace(is_world_process_zero=True, max_steps=2, global_step=1)
    callback.on_train_begin(None, state, None)
    callback.on_log(None, state, None, logs={"loss": 1.0})
    assert callback.bar is None and (tmp_path / "log.jsonl").is_file() and not capsys.readouterr().err
