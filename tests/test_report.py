

def test_the_variants_ratios_are_shown_beside_the_same_recipes_null():
    from ssb.report_tables import null_lines

    nod = {"n_pos_ratio": 1.1, "null_n_pos_ratio": [1.05, 0.9], "apt_ratio": 1.0, "null_apt_ratio": None,
           "mlm_accuracy_dropout": 0.4, "mlm_accuracy_no_dropout": 0.42, "null_mlm_accuracy_ratio": [1.01, None]}  # fmt: skip
    payload = {"claims": [{"id": "no-dropout", "measured": nod}, {"id": "symmetric-collapse", "measured": {}}]}
    lines = null_lines(payload)
    assert "| no-dropout / reference, n_pos per head | 1.1 | 1.05, 0.9 |" in lines
    assert "| no-dropout / reference, held-out MLM accuracy | 1.05 | 1.01, n/a |" in lines
    assert not any("APT" in line or "symmetric /" in line for line in lines)  # no null, no row
    assert null_lines({"claims": [{"id": "no-dropout", "measured": {"n_pos_ratio": 1.1}}]}) == []
