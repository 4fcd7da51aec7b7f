"""Every mutant of tests/mutants.py applies to today's source, and results/mutants.md is today's: every mutant in
it, at least 90 % of them caught on each kind of store (issue #34's bar), and the unedited code's checks those of
the regression tier's specs (a check added since the table was generated makes it stale: `python -m tests.mutants
--profile regression --write results/mutants.md`, ~1 hour on two cores)."""

import re
from pathlib import Path

import pytest

from ssb.claims import load_specs
from tests.mutants import MUTANTS, mutated_copy

ROOT = Path(__file__).resolve().parent.parent
TABLE = (ROOT / "results" / "mutants.md").read_text()


def test_every_mutant_is_in_the_table_with_what_it_breaks():
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([^`]+)` \| ([^|]+) \|", TABLE, re.M)}
    assert len(MUTANTS) >= 8 and rows == {m.id: m.what for m in MUTANTS}


def test_at_least_ninety_percent_are_caught_on_each_store():
    caught = re.search(r"Caught: (\d+) of (\d+) on a fresh store; (\d+) of (\d+) on a warm store", TABLE)
    fresh, n_fresh, warm, n_warm = map(int, caught.groups())
    assert n_fresh == n_warm == len(MUTANTS)
    assert fresh >= 0.9 * n_fresh and warm >= 0.9 * n_warm
    uncaught = TABLE.count("**not caught**")
    assert uncaught == (n_fresh - fresh) + (n_warm - warm)  # the count and the rows agree


def test_the_unedited_checks_are_the_regression_tiers():
    listed = re.search(r"The unedited code's checks: (\d+) \((.*)\)\.", TABLE)
    names = {item.rsplit(" ", 1)[0] for item in listed.group(2).split(", ")}
    expected = set()
    for spec in load_specs(ROOT / "claims"):
        tier = spec.expect.get("regression")
        if tier is None or tier.undecided:
            continue
        for check in tier.checks:
            expected.add(f"{spec.id}/{check.name}")
    assert int(listed.group(1)) == len(names) and names == expected


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_each_mutant_applies_to_todays_source(mutant, tmp_path):
    """A refactor that moves a mutant's edit fails here, in the fast tier, not an hour later in the slow one."""
    copy = mutated_copy(mutant, tmp_path) / "ssb" / mutant.file
    assert mutant.new in copy.read_text()
