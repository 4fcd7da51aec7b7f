"""A user's checkpoint: its family is checked and its shape, not the profile's, sizes every mask."""

import json

import pytest

from ssb.checkpoint import SUPPORTED_FAMILIES, CheckpointError, checkpoint_shape, shaped_for
from ssb.config import ConfigError, load_profile


def _folder(tmp_path, **config):
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    base = {
        "model_type": "bert",
        "num_hidden_layers": 6,
        "hidden_size": 384,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "max_position_embeddings": 512,
        "vocab_size": 30522,
    }
    (folder / "config.json").write_text(json.dumps({**base, **config}))
    return folder


def test_the_shape_comes_from_the_checkpoint_and_the_recipe_from_the_profile(tmp_path):
    smoke = load_profile("smoke")
    shaped = shaped_for(smoke, _folder(tmp_path))
    b = shaped.backbone
    assert (b.n_layers, b.hidden, b.n_heads, b.intermediate) == (6, 384, 12, 1536)
    assert b.max_len == smoke.backbone.max_len  # the recipe's sequence length, the checkpoint has more positions
    assert shaped.probe == smoke.probe and shaped.corpus == smoke.corpus  # the recipe is unchanged
    # the profile's full width (all nodes) becomes the model's; the smaller counts stay
    assert smoke.sweep.node_counts[-1] == smoke.backbone.hidden
    assert shaped.sweep.node_counts == (*smoke.sweep.node_counts[:-1], 384)
    assert shaped_for(shaped, _folder(tmp_path)) == shaped  # a seed run's resolver shapes it again: no change


def test_a_node_count_above_the_model_width_is_one_line(tmp_path):
    paper = load_profile("paper")  # counts up to 768, with 512 among them
    with pytest.raises(ConfigError, match=r"sweep\.node_counts' must lie in 1\.\.384") as err:
        shaped_for(paper, _folder(tmp_path))
    assert "\n" not in str(err.value) and "12 heads x 32 = 384 nodes" in str(err.value)


def test_a_block_beyond_the_model_depth_is_one_line(tmp_path):
    cpu = load_profile("cpu")  # reads block 6 and the depth sweep 1..6
    with pytest.raises(ConfigError, match=r"probe\.layer' must lie in 1\.\.4") as err:
        shaped_for(cpu, _folder(tmp_path, num_hidden_layers=4))
    assert "\n" not in str(err.value)


def test_roberta_positions_leave_out_the_padding_offset(tmp_path):
    shape = checkpoint_shape(_folder(tmp_path, model_type="roberta", max_position_embeddings=514, pad_token_id=1))
    assert shape.family == "roberta" and shape.max_positions == 512
    few = _folder(tmp_path, model_type="xlm-roberta", max_position_embeddings=20, pad_token_id=1)
    shaped = shaped_for(load_profile("smoke"), few)  # smoke reads 32 positions; this model has 18
    assert checkpoint_shape(few).max_positions == 18
    assert shaped.backbone.max_len == shaped.fewrel.max_len == 18


@pytest.mark.parametrize("family", ["distilbert", "albert", "gpt2", None])
def test_an_unsupported_family_is_one_line_naming_the_supported_ones(tmp_path, family):
    with pytest.raises(CheckpointError) as err:
        checkpoint_shape(_folder(tmp_path, model_type=family))
    message = str(err.value)
    assert "\n" not in message and f"model_type {family!r}" in message
    assert all(name in message for name in SUPPORTED_FAMILIES)


@pytest.mark.parametrize("field", ["hidden_size", "num_attention_heads", "num_hidden_layers"])
def test_a_missing_or_bad_shape_field_names_itself(tmp_path, field):
    with pytest.raises(CheckpointError, match=f"field '{field}' must be a positive integer"):
        checkpoint_shape(_folder(tmp_path, **{field: "many"}))


def test_no_config_or_bad_json_is_one_line(tmp_path):
    with pytest.raises(CheckpointError, match="no config.json"):
        checkpoint_shape(tmp_path)
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        checkpoint_shape(tmp_path)


def test_the_models_width_among_the_counts_is_read_once_and_the_hull_reads_every_node(tmp_path):
    cpu = load_profile("cpu")  # counts up to 192 with 128 among them; the hull's single nodes: all 192
    shaped = shaped_for(cpu, _folder(tmp_path, hidden_size=128, num_attention_heads=8, intermediate_size=512))
    assert shaped.sweep.node_counts == (1, 2, 4, 6, 8, 12, 16, 32, 64, 128)
    assert shaped.sweep.hull_subsets[0] == 128 and shaped.sweep.hull_subsets[1:] == cpu.sweep.hull_subsets[1:]
