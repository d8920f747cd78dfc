"""What a hand-written sweep calls, so that the self-check can count its work node by node."""

from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar

from .. import ops
from ..counting import record

_tallies = ContextVar("hessian_lab_exercise_tallies", default=())  # this context's open tallies, like counting's blocks


def local_partials(node, values=None):
    """The local partials of `node`, one per argument: numbers at `values` (node -> value), else graph nodes.

    Call it once per node in your sweep. Each call counts as one visit (with `values`) or one build
    visit (without), and the self-check also notes which node it was, so a node visited twice shows.
    Inputs and constants have no arguments, hence no partials: () and no visit.
    """
    if not node.args:
        return ()
    record(**({"build_visits": 1} if values is None else {"visits": 1}))
    for tally in _tallies.get():
        tally[node] += 1
    return ops.local_partials(node, values)


@contextmanager
def tally():
    """Inside the block, count how often local_partials was called for each node: `with tally() as t: ...; t[node]`."""
    counts = Counter()
    token = _tallies.set(_tallies.get() + (counts,))
    try:
        yield counts
    finally:
        _tallies.reset(token)
