"""The measures' registry: each measure's needs and declared quantities (``ssb/measures/__init__.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import systems


class MeasureError(RuntimeError):
    """A check names a quantity that the run did not produce, or a curve too short for its shape, or a measure
    cannot be taken as asked (a control without the sweeps its comparison needs)."""


SCALAR, CURVE, INFO = "scalar", "curve", "info"
EXPERIMENTS = (
    "heads",
    "token-nodes",
    "token-nodes-within-head",
    "fewrel-finetuned",
    "fewrel-random",
    "symmetric",
    "heads-no-dropout",
    "fewrel-no-dropout",
    "depth",
    "validation-scale",
    "seed-backbones",
)
METRICS = ("n_pos", "apt", "random_guess", "diagonal_confidence", "n_predicted", "zero_diagonal_fraction")
_WILDCARDS = {"{n}": r"\d+", "{g}": r"(?:\d+|all)"}


# The controls a measure can be taken on besides the reference, by the side of the systems it reads
# (``ssb/systems.py``): a spec's check may name one as its control (``control = "symmetric"``) and is then
# decided on the paired difference reference - control. Read from the registry when asked, so a control
# registered after import is one at once.
TOKEN_SYSTEMS, FEWREL_SYSTEMS, ALL_BLOCK_SYSTEMS = "tokens", "fewrel", "tokens at every block"
CONTROLS = {
    TOKEN_SYSTEMS: systems.token_controls,
    FEWREL_SYSTEMS: systems.fewrel_controls,
    ALL_BLOCK_SYSTEMS: systems.all_block_controls,
}


@dataclass(frozen=True)
class Measure:
    name: str
    needs: tuple[str, ...]
    outputs: dict[str, str]  # quantity (may hold {n} / {g}) -> scalar | curve | info
    fn: Callable[..., dict[str, Any]]  # fn(pipeline, system="reference")
    controls: str = ""  # a key of CONTROLS: the registered controls of that side ("": none)

    @property
    def systems(self) -> tuple[str, ...]:
        """The controls it can be measured on (the registry's, now)."""
        return CONTROLS[self.controls]() if self.controls else ()

    def kind(self, quantity: str) -> str | None:
        """The declared kind of ``quantity``, or None if this measure does not produce it."""
        if quantity in self.outputs:
            return self.outputs[quantity]
        for pattern, kind in self.outputs.items():
            if "{" in pattern:
                regex = re.escape(pattern)
                for wildcard, sub in _WILDCARDS.items():
                    regex = regex.replace(re.escape(wildcard), sub)
                if re.fullmatch(regex, quantity):
                    return kind
        return None

    def checkable(self) -> list[str]:
        return [q for q, k in self.outputs.items() if k != INFO]


MEASURES: dict[str, Measure] = {}


def measure(
    needs: tuple[str, ...],
    scalars: tuple[str, ...] = (),
    curves: tuple[str, ...] = (),
    info: tuple[str, ...] = (),
    systems: str = "",
) -> Callable[[Callable], Callable]:
    """Register a measure under its function's name (``head_specialisation`` -> ``head-specialisation``).
    ``systems``: TOKEN_SYSTEMS, FEWREL_SYSTEMS or ALL_BLOCK_SYSTEMS (the token controls with probes at every
    block), whose controls it can also be measured on (its function then takes ``system=``)."""
    unknown = set(needs) - set(EXPERIMENTS)
    if unknown:
        raise ValueError(f"unknown experiments {sorted(unknown)}")
    if systems and systems not in CONTROLS:
        raise ValueError(f"systems must be one of {', '.join(CONTROLS)}, got {systems!r}")

    def register(fn: Callable) -> Callable:
        name = fn.__name__.replace("_", "-")
        outputs = {**{q: SCALAR for q in scalars}, **{q: CURVE for q in curves}, **{q: INFO for q in info}}
        MEASURES[name] = Measure(name, tuple(needs), outputs, fn, systems)
        return fn

    return register
