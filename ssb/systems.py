"""Systems: what a measurement is taken on, by name.

A system is a backbone (the profile's reference, one of its variants, or a randomly initialised BERT of the
same shape) read at the profile's block through what is trained on it (the token probe; for FewRel the
label head). The reference is the system every claim is about; the others are *controls*, systems that
should not show a claim's effect. A spec's check names one (``control = "symmetric"``) and is decided on
the paired difference reference - control: both are measured on the same heads and the same node subsets,
and their bootstrap replicates resample the same items (``ssb.estimate.means`` draws one fixed stream per
measure), so the difference carries paired replicates.

The resolver (``ssb/resolver.py``) finds a system's backbone, features and probe by its name (``backbone(name)``);
a new control is one entry here and, where it needs one, a branch in ``Resolver._backbone``.

``control-task`` is a control of the probe, not of the backbone: it reads the reference's backbone and
features (``reads``) through a probe trained on re-drawn labels, and its validation targets are re-drawn
by the same map. Its labels are a function of the masked token, so its task is a coarsening of the real
one (no harder); what it can say is in the report's "Probe selectivity" section.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class System:
    name: str
    what: str  # one line for the report
    tokens: bool  # has a token probe on its block-L features (the token claims can be measured on it)
    fewrel: bool  # has a FewRel label head (the label claims can be measured on it)
    own_variant: bool  # built from the profile's own backbone (absent for an external --model)
    reads: str = ""  # another system whose backbone and features it reads (its own probe differs)
    control_task: bool = False  # its token probe learns a control task (labels re-drawn per type)


SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System("reference", "the profile's pre-trained backbone (fine-tuned for FewRel)", True, True, False),
        System("no-dropout", "the same pre-training without dropout", True, False, True),
        System("symmetric", "identical heads: every head starts as head 0, no attention dropout", True, False, True),
        System(
            "random-init",
            "a randomly initialised, never trained BERT of the same shape, with probes and label heads trained "
            "on its features",
            True,
            True,
            True,
        ),
        System(
            "control-task",
            "the reference's features through a probe trained on a control task (Hewitt & Liang 2019): each "
            "token type's label re-drawn once from the distribution of the training targets",
            True,
            False,
            True,
            reads="reference",
            control_task=True,
        ),
    )
}
TOKEN_CONTROLS = tuple(n for n, s in SYSTEMS.items() if s.tokens and n != "reference")


def reads(name: str) -> str:
    """The system whose backbone and features ``name`` reads: itself, or its ``reads`` (control-task)."""
    system = SYSTEMS.get(name)
    return system.reads if system is not None and system.reads else name


def control_task(name: str) -> bool:
    return name in SYSTEMS and SYSTEMS[name].control_task


FEWREL_CONTROLS = tuple(n for n, s in SYSTEMS.items() if s.fewrel and n != "reference")
# A control's node sweep: one node and two nodes (node-specialisation) and, added by the sweep, all nodes
# (the end points of the crossover, confidence and empty-column checks). The bootstrap pairs a control's
# group with the reference's when both are drawn in the same order: 1 and 2 come first on both, and all
# nodes is one subset, an exact value.
CONTROL_NODE_COUNTS = (1, 2)
# A control's head table, and the reference's at a block other than the probe's: each head alone and all
# heads together (head-specialisation, head-cooperation's n_pos_all, cooperation-beyond-sum, depth-prominence,
# the variants); the groups of 2 and 4 heads, Table 1's curve, are the reference's at the probe's block.
CONTROL_HEAD_GROUPS = ("1", "all")
