"""Systems: what a measurement is taken on, as typed objects.

A system is a backbone read at the profile's block through what is trained on it (the token probe; for FewRel
the label head). :class:`System` says how each part is made:

- ``backbone``: :class:`Pretrained` (the profile's reference, or one of its variants: committed, trained
  here, or for the reference a user's ``--model``), :class:`RandomInit` (a never-trained model of the
  reference's shape) or :class:`Short` (a variant pre-trained at the in-run budget of ``[variants]``);
- ``probe``: :data:`TOKEN_PROBE` (the block-L token probe), :data:`CONTROL_TASK_PROBE` (a probe of the same
  features trained on re-drawn labels, Hewitt & Liang 2019) or :data:`TIED_PROBE` (the token probe with every
  head's first-layer block starting as head 0's, ``ssb.probe.tie_head_blocks``);
- ``fewrel``: its :class:`FewRelPath` (how its FewRel classifier and label head are made), or None.

The reference is the system every claim is about; the others are *controls*, systems that should not show a
claim's effect. A spec's check names one (``control = "symmetric"``) and is decided on the paired difference
reference - control: both are measured on the same heads and the same node subsets, and their bootstrap
replicates resample the same items (``ssb.estimate.means`` draws one fixed stream per measure), so the
difference carries paired replicates.

A new control is one :func:`register` call (the measures, the spec validation and the report see it at once)
plus its spec lines; the resolver (``ssb/resolver.py``) builds it from its recipes and never from its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import VARIANTS


@dataclass(frozen=True)
class Pretrained:
    """The profile's backbone with variant ``variant`` applied (``config.VARIANTS``), pre-trained at the
    profile's budget; for ``reference`` under ``--model``, the user's checkpoint. ``seed``: another
    ``backbone.seed`` (its initial conditions and the order of its training paragraphs; None: the profile's)."""

    variant: str = "reference"
    seed: int | None = None
    data_seed: int | None = None  # another order of the training paragraphs (``backbone.data_seed``), same init


@dataclass(frozen=True)
class RandomInit:
    """A randomly initialised, never-trained model of the reference's shape and vocabulary. ``seed``: its
    initialisation seed (None: the profile's ``backbone.seed``)."""

    seed: int | None = None


@dataclass(frozen=True)
class Short:
    """Variant ``variant`` pre-trained at the in-run budget of ``[variants]`` (the symmetric comparison)."""

    variant: str


BackboneRecipe = Pretrained | RandomInit | Short

TOKEN_PROBE = "token"  # the block-L token probe on the system's own training features
CONTROL_TASK_PROBE = "control-task"  # the same features, each token type's target re-drawn once
TIED_PROBE = "tied"  # the token probe, each head's first-layer block initialised as head 0's
PROBES = (TOKEN_PROBE, CONTROL_TASK_PROBE, TIED_PROBE)


@dataclass(frozen=True)
class FewRelPath:
    """How a system's FewRel classifier and label head are made. ``label`` names its experiment in the store
    (it joins the sweeps' key, so it stays what it was); ``finetune``: the backbone is fine-tuned on FewRel
    (False: stored untrained, epochs 0); ``result``: the part of the experiment's record the claims read
    ("": all of it; ``trained_head``: the untrained backbone through a label head trained on its features)."""

    label: str
    finetune: bool = True
    result: str = ""


@dataclass(frozen=True)
class System:
    name: str
    what: str  # one line for the report
    backbone: BackboneRecipe = field(default_factory=Pretrained)
    probe: str = TOKEN_PROBE
    fewrel: FewRelPath | None = None
    token_control: bool = True  # the token claims can be measured on it as a control
    fewrel_control: bool = False  # the label claims can be measured on it as a control
    all_blocks: bool = False  # token probes at every block of ``probe.depth_layers``: the reference's on every seed
    # run, a control's on the first (the one the specificity pass reads; committed at cpu)

    def __post_init__(self) -> None:
        if self.probe not in PROBES:
            raise ValueError(f"system {self.name!r}: probe must be one of {', '.join(map(repr, PROBES))}")
        if isinstance(self.backbone, Pretrained | Short) and self.backbone.variant not in VARIANTS:
            raise ValueError(f"system {self.name!r}: no variant {self.backbone.variant!r} ({', '.join(VARIANTS)})")
        if self.fewrel_control and self.fewrel is None:
            raise ValueError(f"system {self.name!r}: a FewRel control needs a FewRel path")

    @property
    def control_task(self) -> bool:
        return self.probe == CONTROL_TASK_PROBE

    @property
    def tied_probe(self) -> bool:
        return self.probe == TIED_PROBE

    @property
    def own_variant(self) -> bool:
        """Built from the profile's own backbone (an external ``--model`` has only the reference and the
        systems built from it: random-init, control-task)."""
        return isinstance(self.backbone, Short) or (
            isinstance(self.backbone, Pretrained)
            and (self.backbone.variant != "reference" or self.backbone.seed is not None)
        )

    @property
    def features_of(self) -> str:
        """The name under which its backbone's features are kept in a run: systems that share a backbone
        share their features (control-task reads the reference's)."""
        return "reference" if self.backbone == Pretrained() else self.name


class UnknownSystem(ValueError):
    pass


SYSTEMS: dict[str, System] = {}
SHORT = "short:"  # the name prefix of a variant's short backbone (:func:`short`)
INIT_SEED = "init-seed:"  # the name prefix of the reference recipe from other initial conditions (:func:`init_seed`)
DATA_ORDER = "data-order:"  # the prefix of the reference recipe with another order of paragraphs (:func:`data_order`)


def register(system: System, *, replace: bool = False) -> System:
    """Add ``system`` to the registry (``replace``: over one of the same name)."""
    for prefix in (SHORT, INIT_SEED, DATA_ORDER):
        if system.name.startswith(prefix):
            raise ValueError(f"system {system.name!r}: the prefix {prefix!r} is kept for systems made by name")
    if system.name in SYSTEMS and not replace:
        raise ValueError(f"system {system.name!r} is registered already")
    SYSTEMS[system.name] = system
    return system


def unregister(name: str) -> None:
    SYSTEMS.pop(name, None)


def short(variant: str) -> System:
    """The system of variant ``variant``'s backbone at the in-run budget of ``[variants]``."""
    return System(SHORT + variant, f"variant {variant}, pre-trained at [variants]' in-run budget", Short(variant))


def init_seed(seed: int) -> System:
    """The reference's recipe pre-trained from initial conditions ``seed`` (``backbone.seed``: the weights'
    initialisation and the order of the training paragraphs), with its own probes: ``[seeds] backbone``."""
    return System(
        f"{INIT_SEED}{seed}",
        f"the reference's recipe pre-trained with backbone seed {seed}",
        Pretrained(seed=seed),
        token_control=False,
    )


def data_order(seed: int) -> System:
    """The reference's recipe with its own initialisation and another order of the training paragraphs
    (``backbone.data_seed``), with its own probes: ``[seeds] data_order``."""
    return System(
        f"{DATA_ORDER}{seed}",
        f"the reference's recipe pre-trained with the paragraphs in the order of data seed {seed}",
        Pretrained(data_seed=seed),
        token_control=False,
    )


def get(system: System | str) -> System:
    """The system named ``system`` (``short:<variant>`` for a short backbone, ``init-seed:<seed>`` for the
    reference's recipe from other initial conditions, ``data-order:<seed>`` for it with another order of the
    training paragraphs), or ``system`` itself."""
    if isinstance(system, System):
        return system
    if system.startswith(SHORT):
        return short(system.removeprefix(SHORT))
    for prefix, make in ((INIT_SEED, init_seed), (DATA_ORDER, data_order)):
        if system.startswith(prefix):
            seed = system.removeprefix(prefix)
            if not seed.isdigit():
                raise UnknownSystem(f"no system {system!r}: {prefix}<seed> takes a whole number >= 0")
            return make(int(seed))
    if system not in SYSTEMS:
        raise UnknownSystem(f"no system {system!r}: choose one of {', '.join(SYSTEMS)}")
    return SYSTEMS[system]


def token_controls() -> tuple[str, ...]:
    """The systems the token claims can be measured on besides the reference."""
    return tuple(n for n, s in SYSTEMS.items() if s.token_control and n != "reference")


def all_block_controls() -> tuple[str, ...]:
    """The token controls with probes at every block of ``probe.depth_layers`` (the claims that compare blocks
    are measured on these alone: another system's probes at the other blocks would be trained in the run)."""
    return tuple(n for n in token_controls() if SYSTEMS[n].all_blocks)


def fewrel_controls() -> tuple[str, ...]:
    """The systems the label (FewRel) claims can be measured on besides the reference."""
    return tuple(n for n, s in SYSTEMS.items() if s.fewrel_control and n != "reference")


REFERENCE = register(
    System(
        "reference",
        "the profile's pre-trained backbone (fine-tuned for FewRel)",
        Pretrained(),
        fewrel=FewRelPath("finetuned"),
        token_control=False,
        all_blocks=True,
    )
)
register(
    System(
        "no-dropout",
        "the same pre-training without dropout",
        Pretrained("no-dropout"),
        fewrel=FewRelPath("no-dropout"),
    )
)
register(
    System("symmetric", "identical heads: every head starts as head 0, no attention dropout", Pretrained("symmetric"))
)
register(
    System(
        "symmetric-attention-dropout",
        "identical heads with attention dropout (read in the symmetric comparison only)",
        Pretrained("symmetric-attention-dropout"),
        token_control=False,
    )
)
register(
    System(
        "random-init",
        "a randomly initialised, never trained BERT of the same shape, with probes and label heads trained on its "
        "features",
        RandomInit(),
        fewrel=FewRelPath("random", finetune=False, result="trained_head"),
        fewrel_control=True,
        all_blocks=True,  # depth-prominence's control: whatever rises along the blocks without any training
    )
)
register(
    System(
        "control-task",
        "the reference's features through a probe trained on a control task (Hewitt & Liang 2019): each token "
        "type's label re-drawn once from the distribution of the training targets",
        Pretrained(),
        probe=CONTROL_TASK_PROBE,
    )
)
register(
    System(
        "tied-probe",
        "the reference's features through the tied probe (every head's first-layer block starts as head 0's): "
        "whatever sets its heads apart is the backbone's",
        Pretrained(),
        probe=TIED_PROBE,
    )
)
register(
    System(
        "symmetric-tied",
        "the identical-heads backbone read through a tied probe (every head's first-layer block starts as head 0's): "
        "nothing in backbone or probe can set its heads apart",
        Pretrained("symmetric"),
        probe=TIED_PROBE,
    )
)

# A control's node sweep, where only its checks read it: one node and two nodes (node-specialisation) and,
# added by the sweep, all nodes (the end points of the crossover, confidence and empty-column checks), on
# every seed run. The bootstrap pairs a control's group with the reference's when both are drawn in the same
# order: 1 and 2 come first on both, and all nodes is one subset, an exact value. The specificity pass
# (``Resolver.with_whole_curves``, once) sweeps a control at every node count: a curve check's specificity
# is decided on the control's whole curve.
CONTROL_NODE_COUNTS = (1, 2)
# A control's head table where only its checks read it, and the reference's at a block other than the
# probe's: each head alone and all heads together; the groups of 2 and 4 heads, Table 1's curve, are the
# reference's at the probe's block, and a control's in the specificity pass.
CONTROL_HEAD_GROUPS = ("1", "all")
