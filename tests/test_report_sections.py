"""The report's sections computed from check rows: seed runs against the paper's ~1 %, and power."""

import pytest

from ssb.report_tables import identity_lines, power_lines, seed_lines


def _row(check, value, interval=None, n_items=1, per_seed=None):
    return {"claim": "c", "check": check, "value": value, "interval": interval, "n_items": n_items,
            "per_seed": per_seed, "seed_runs": len(per_seed) if per_seed else 1}  # fmt: skip


def test_power_lists_the_checks_wider_than_ten_percent_with_the_items_they_need():
    rows = [_row("wide:gt", 1.0, [0.6, 1.4], 20), _row("narrow:gt", 1.0, [0.95, 1.05], 20), _row("n:gt", 3)]
    lines = power_lines({"checks": rows})
    table = [line for line in lines if line.startswith("| c |")]
    assert table == ["| c | `wide:gt` | 20 | 40% | 320 |"]  # (0.4 / 0.1)^2 x 20
    assert power_lines({"checks": rows[1:]}) == []


def test_seed_runs_are_compared_with_the_papers_one_percent():
    rows = [_row("a:gt", 1.0, per_seed=[0.9, 1.1]), _row("b:gt", 2.0, per_seed=[2.0, 2.01]), _row("n:gt", 3),
            _row("spread:le", 0.0, per_seed=[0.0, 0.0])]  # fmt: skip
    rows[1]["control"] = "random-init"
    head, _, *table = seed_lines({"checks": rows})
    assert "median spread of the 2 scalar checks the seeds move is 5.1%" in head and "1 exceed 1 %" in head
    assert table[2] == "| c | `a:gt` | 0.9, 1.1 | 10.0% |"
    assert table[3].startswith("| c | `b:gt` (a paired difference on each run) |") and len(table) == 4
    assert head.endswith("The same value on every run (no seed touches it, exact): c `spread:le`.")
    assert seed_lines({"checks": rows[2:3]}) == []


def test_seed_runs_over_backbones_say_so_and_count_the_runs_inside_one():
    rows = [_row("a:gt", 1.0, per_seed=[0.9, 1.1, 1.2, 0.8]), _row("b:gt", 2.0, per_seed=[2.0, 2.1])]
    rows[0]["seed_runs"], rows[0]["backbone_runs"] = 4, 2
    head = seed_lines({"checks": rows})[0]
    assert head.startswith("2 seed runs (`[seeds]` of the profile) on each of 2 backbones of other initial conditions")
    assert "on the profile's own backbone for the others" in head
    alone = seed_lines({"checks": rows[1:]})[0]
    assert alone.startswith("2 seed runs (`[seeds]` of the profile) on the same backbones")


@pytest.mark.parametrize("value", [{"1": 0.1}, 0.0])
def test_curves_and_zero_values_have_no_power_row(value):
    assert power_lines({"checks": [_row("x", value, [0.0, 1.0], 20)]}) == []


def test_head_identity_rows_come_from_the_claims_that_compare_head_sets():
    heads = {"probe_seed_identity": 0.25, "probe_seed_match_share": 0.9,
             "controls": {"symmetric": {"probe_seed_identity": 0.01, "probe_seed_match_share": 0.1}}}  # fmt: skip
    claims = [{"id": "head-specialisation", "measured": heads}, {"id": "no-dropout", "measured": {}}]
    lines = identity_lines({"claims": claims})
    assert lines[-2:] == [
        "| the reference, across its probe seeds | 0.25 | 0.9 |",
        "| the symmetric backbone, across its probe seeds | 0.01 | 0.1 |",
    ]
    assert identity_lines({"claims": [{"id": "no-dropout", "measured": {}}]}) == []
    seeds = {"same_minus_other": 0.01, "identity_match_share": 0.11, "probe_same_minus_other": 0.26,
             "probe_identity_match_share": 0.58}  # fmt: skip
    assert identity_lines({"claims": [{"id": "spontaneous-breaking", "measured": seeds}]})[-2:] == [
        "| backbones of other initial conditions | 0.01 | 0.11 |",
        "| two probes of one backbone (spontaneous-breaking's control) | 0.26 | 0.58 |",
    ]


def test_the_variants_ratios_are_shown_beside_the_same_recipes_null():
    from ssb.report_tables import null_lines

    nod = {
        "n_pos_ratio": 1.1,
        "null_n_pos_ratio": [1.05, 0.9],
        "apt_ratio": 1.0,
        "null_apt_ratio": None,
        "mlm_accuracy_dropout": 0.4,
        "mlm_accuracy_no_dropout": 0.42,
        "null_mlm_accuracy_ratio": [1.01, None],
    }
    payload = {"claims": [{"id": "no-dropout", "measured": nod}, {"id": "symmetric-collapse", "measured": {}}]}
    lines = null_lines(payload)
    assert "| no-dropout / reference, n_pos per head | 1.1 | 1.05, 0.9 |" in lines
    assert "| no-dropout / reference, held-out MLM accuracy | 1.05 | 1.01, n/a |" in lines
    assert not any("APT" in line or "symmetric /" in line for line in lines)  # no null, no row
    assert null_lines({"claims": [{"id": "no-dropout", "measured": {"n_pos_ratio": 1.1}}]}) == []
