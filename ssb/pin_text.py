"""A pin's text carries its argument, and no number typed by hand.

The numbers beside a pinned check (its value, interval and evidence) are printed from the run; a number typed
into the pin's text goes stale when the run moves (another draw, another profile, a fix), and one that happens
to match the run says nothing. So a pin's text quotes no measured number at all: every number in it must be
one of the profile's fields, of the check's own (its threshold, the paper's scale of its knob) or of the
paper's sentence (the spec's quote), within the rounding it is written with. References (Fig. 4, Table 1,
§3, #36, Appendix 3, Eq. 2) and names with digits (BERT-6, block6) are not numbers.

Pure functions: :func:`quoted_numbers` reads the numbers of a text, :func:`numbers_in` gathers the numbers of
any JSON-like value, and :func:`unreproduced` lists the quoted numbers that none of those reproduces.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

# a reference to a part of the paper or an issue, whose number is a label
_REFERENCE = re.compile(
    r"(?:Figs?\.|Tables?|§|#|Appendix|Eqs?\.|Sec\.)\s*\(?\d+[A-Za-z]?\)?(?:\s*(?:,|and|-|/)\s*\d+[A-Za-z]?)*"
)
_NAME = re.compile(r"(?<=[A-Za-z]{2})-\d+")  # BERT-6, MiniLM-L6: a name's digits, not a number
# 1,234.5 | 0.25 | .5 | -0.1 | 1e-05 | 25 % | 1.5x: a number not glued to a word (block6 is a name)
_NUMBER = re.compile(
    r"(?<![\w.])-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?:\s*%|x)?(?!\w)(?!\.\d)"
)


@dataclass(frozen=True)
class Quoted:
    text: str  # as written
    value: float  # its value (a percentage divided by 100)
    tolerance: float  # half a unit of its last significant digit: the rounding it is written with


def _tolerance(digits: str, exponent: int) -> float:
    """Half a unit of the last digit written in ``digits`` (a plain decimal, no sign or exponent): 0.215 is
    0.215 +- 0.0005, 2,600 is 2,600 +- 0.5 (a rounded count is a typed number like any other)."""
    _, _, frac = digits.partition(".")
    return 0.5 * 10.0 ** (exponent - len(frac))


def quoted_numbers(text: str) -> list[Quoted]:
    """The numbers written in ``text``, references to figures, tables, sections and issues left out."""
    text = _NAME.sub("", _REFERENCE.sub(" ", text))
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        percent = raw.rstrip().endswith("%")
        body = raw.rstrip("%x ").replace(",", "")
        mantissa, _, exp = body.lower().partition("e")
        exponent = int(exp) if exp else 0
        value = float(body)
        tolerance = _tolerance(mantissa.lstrip("-"), exponent)
        if percent:
            value, tolerance = value / 100, tolerance / 100
        out.append(Quoted(raw.strip(), value, tolerance))
    return out


def numbers_in(value: Any) -> list[float]:
    """Every finite number in a JSON-like value (dicts' keys and values, lists, dataclasses, numpy arrays)."""
    out: list[float] = []

    def walk(v: Any) -> None:
        if isinstance(v, bool) or v is None:
            return
        if hasattr(v, "reps") and hasattr(v, "interval"):  # an estimate: its value and interval, not its replicates
            walk(v.value)
            walk(v.interval())
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            walk(dataclasses.asdict(v))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, (list, tuple, set, np.ndarray)):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            try:
                walk(float(v))
            except ValueError:
                return
        elif isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(float(v)):
            out.append(float(v))

    walk(value)
    return out


def unreproduced(text: str, sources: Iterable[float]) -> list[str]:
    """The numbers quoted in ``text`` that no number of ``sources`` reproduces within the quote's rounding
    (a number or its negative, and for a percentage the share it stands for)."""
    pool = np.array(sorted({abs(x) for x in sources}), dtype=np.float64)
    missing = []
    for q in quoted_numbers(text):
        target = abs(q.value)
        if pool.size == 0 or np.min(np.abs(pool - target)) > q.tolerance * (1 + 1e-9):
            missing.append(q.text)
    return missing
