"""Judging cost: the counts of a student's code over a range of n, against the bound its method must meet."""

import re
from typing import Callable, NamedTuple, Optional

import numpy as np

from ..scaling import fit_slope
from .result import FORMULAS, describe_growth, slope_text


class Bound(NamedTuple):
    """A counted quantity and the most (and fewest) a method may spend on it at size n.

    most and least receive (n, counts), where counts also holds the reference sizes the exercise measured
    (operation nodes of f, edges of the engine's G), for bounds that depend on the graph and not on n alone.
    `unit` names what the method spends one of them on ("row": one pass per row), so that a count that is
    a whole multiple of the bound is diagnosed as such: "2 per row". A `guard` (no shortcuts, nothing hidden)
    is a rule, not a cost: it speaks only when it is broken.
    """

    field: str  # a key of the counts: passes, visits, builds, G_edges, ...
    what: str  # the same in words, for messages
    most: Optional[Callable]
    needs: str  # what the method needs, in words: "the row method needs n"
    least: Optional[Callable] = None
    unit: str = ""
    guard: bool = False


def singular(what):
    """`pass` for `passes`, `build visit` for `build visits`: the noun after a count of 1."""
    return re.sub(r"(pass)es|(\w)s\b", r"\1\2", what, count=1)


def amount(sizes, counts, what, sizes_said=False):
    """`n^2 passes`, `1 symbolic build`, or `15, 23, 39 visits (at n = 4, 8, 16)`: counts in words, each number once
    (with sizes_said, the sizes were written earlier in the line, so only the numbers come)."""
    growth = describe_growth(sizes, counts)
    if growth in FORMULAS:
        return f"{growth} {singular(what) if growth == '1' else what}"
    numbers = ", ".join(f"{c:,}" for c in counts)
    return numbers if sizes_said else f"{numbers} {what} (at n = {', '.join(map(str, sizes))})"


def multiple(sizes, counts, targets, unit):
    """`: 2 per row, ...` if each count is one same whole multiple k >= 2 of its target, `: n per row, ...` if n times."""
    if not unit or not all(targets):
        return ""
    ratios = {c / t for c, t in zip(counts, targets)}
    if len(ratios) == 1 and (k := ratios.pop()) >= 2 and k.is_integer():
        return f": {int(k)} per {unit}, where the method makes 1"
    if all(c == n * t for n, c, t in zip(sizes, counts, targets)):
        return f": n per {unit}, where the method makes 1"
    return ""


def slopes_apart(sizes, counts, targets):
    """`(slope 1.9 in n, where the bound's is 1.0)`, only where the counts follow no formula and the two slopes
    differ by half a power of n or more; at the few small n measured, closer slopes say nothing."""
    if describe_growth(sizes, counts) in FORMULAS or len(set(counts)) < 2:
        return ""
    mine, bound = fit_slope(sizes, counts), fit_slope(sizes, targets)
    if np.isnan(mine) or np.isnan(bound) or abs(mine - bound) < 0.5:
        return ""
    return f" (slope {slope_text(mine)} in n, where the bound's is {slope_text(bound)})"


def judge_cost(result, name, measured, bounds):
    """Record in `result` the counts and the fitted slope of each, and a failure for each bound broken at some n."""
    sizes = sorted(measured)
    result.counts.update(measured)
    for field in measured[sizes[0]]:
        result.slopes[field] = fit_slope(sizes, [measured[n][field] for n in sizes])
    for bound in bounds:
        counts = [measured[n][bound.field] for n in sizes]
        too_few = bound.least is not None and any(c < bound.least(n, measured[n]) for n, c in zip(sizes, counts))
        too_many = bound.most is not None and any(c > bound.most(n, measured[n]) for n, c in zip(sizes, counts))
        if bound.guard and not (too_few or too_many):
            continue
        target = bound.least if bound.most is None else bound.most  # what the needs text states
        targets = [target(n, measured[n]) for n in sizes]
        needs = bound.needs
        if counts == targets and not (too_few or too_many):
            per = f", one per {bound.unit}" if bound.unit and describe_growth(sizes, counts) not in FORMULAS else ""
            result.note(f"cost: {amount(sizes, counts, bound.what)}{per}, within the bound: {needs}")
            continue
        said = describe_growth(sizes, counts) not in FORMULAS  # the counts' line already names the sizes
        if describe_growth(sizes, targets) not in FORMULAS:
            needs += f": {'at least' if bound.most is None else 'at most'} {amount(sizes, targets, bound.what, said)}"
        elif bound.most is None:
            needs += f": at least {amount(sizes, targets, bound.what, said)}"
        if too_few or too_many:
            diagnosis = multiple(sizes, counts, targets, bound.unit) if too_many else ""
            result.fail(bound.field, f"cost: your {name} made {amount(sizes, counts, bound.what)}; {needs}"
                                     f"{slopes_apart(sizes, counts, targets)}{diagnosis}")
        else:
            result.note(f"cost: {amount(sizes, counts, bound.what)}, within the bound: {needs}")
