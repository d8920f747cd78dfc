"""Judging cost: the counts of a student's code over a range of n, against the bound its method must meet."""

import re
from typing import Callable, NamedTuple, Optional

from ..scaling import fit_slope
from .result import FORMULAS, describe_growth, number, slope_text


class Bound(NamedTuple):
    """A counted quantity and the most (and fewest) a method may spend on it at size n.

    most and least receive (n, counts), where counts also holds the reference sizes the exercise measured
    (operation nodes of f, edges of the engine's G), for bounds that depend on the graph and not on n alone.
    `unit` names what the method spends one of them on ("row": one pass per row), so that a count that is
    a whole multiple of the bound is diagnosed as such: "2 per row".
    """

    field: str  # a key of the counts: passes, visits, builds, G_edges, ...
    what: str  # the same in words, for messages
    most: Optional[Callable]
    needs: str  # what the method needs, in words: "the row method needs n"
    least: Optional[Callable] = None
    unit: str = ""


def singular(what):
    """`pass` for `passes`, `build visit` for `build visits`: the noun after a count of 1."""
    return re.sub(r"(pass)es|(\w)s\b", r"\1\2", what, count=1)


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


def judge_cost(result, name, measured, bounds):
    """Record in `result` the counts and the fitted slope of each, and a failure for each bound broken at some n."""
    sizes = sorted(measured)
    result.counts.update(measured)
    for field in measured[sizes[0]]:
        result.slopes[field] = fit_slope(sizes, [measured[n][field] for n in sizes])
    for bound in bounds:
        counts = [measured[n][bound.field] for n in sizes]
        slope = result.slopes[bound.field]
        too_few = bound.least is not None and any(c < bound.least(n, measured[n]) for n, c in zip(sizes, counts))
        too_many = bound.most is not None and any(c > bound.most(n, measured[n]) for n, c in zip(sizes, counts))
        target = bound.least if bound.most is None else bound.most  # what the needs text states
        targets = [target(n, measured[n]) for n in sizes]
        growth = describe_growth(sizes, counts)
        growth = f"{growth} {singular(bound.what) if growth == '1' else bound.what}"
        needs = bound.needs
        if bound.most is None:
            needs += f": at least {describe_growth(sizes, targets)}"
        elif describe_growth(sizes, targets) not in FORMULAS:
            needs += f": {describe_growth(sizes, targets)}"
        if len(set(counts)) > 1:
            growth += f" (slope {slope_text(slope)} in n)"
        if len(set(targets)) > 1:
            needs += f" (slope {number(round(fit_slope(sizes, targets), 1), 'g')})"
        if too_few or too_many:
            diagnosis = multiple(sizes, counts, targets, bound.unit) if too_many else ""
            result.fail(bound.field, f"cost: your {name} made {growth}; {needs}{diagnosis}")
        else:
            result.note(f"cost: {growth}, within the bound: {needs}")
