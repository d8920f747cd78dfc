"""Tracing f into the parts of a graph, and the rule for a point: finite, of length n, on the traced branches.

The point is checked here, once per public call; every sweep below trusts the point it is handed.
"""

import numbers

import numpy as np

from .backprop import evaluate
from .errors import BranchError, DomainError, HessianLabError, MemoryLimitError, ShapeError, TraceError
from .arrays import NodeArray
from .memory import NODE, check_fits
from .node import Comparison, Node, current_trace, to_text, topological_order
from .ops import constant


def as_point(x0, n=None, name="x0"):
    """x0 as a finite float64 vector (of length n, if given), or a ShapeError / HessianLabError saying why not.

    Only real numbers are accepted: text ("1"), booleans and complex numbers are refused, not converted.
    """
    raw = np.asarray(x0) if not isinstance(x0, np.ndarray) else x0
    if isinstance(x0, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in x0):
        raise HessianLabError(f"{name} must hold real numbers, not booleans: {x0!r:.60}")
    bad_kind = raw.dtype.kind in "USVbcmM" or (raw.dtype.kind == "O" and not all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in raw.ravel()))
    if bad_kind or raw.dtype.kind == "O" and raw.ndim == 0:
        raise HessianLabError(f"{name} must be a 1-D array of real numbers, not {type(x0).__name__} {x0!r:.60}")
    try:
        point = raw.astype(float)
    except OverflowError:
        raise HessianLabError(f"{name} holds a number too large for a float: {x0!r:.60}") from None
    if point.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, but it has shape {point.shape}")
    if n is not None and len(point) != n:
        raise ShapeError(f"{name} has {len(point)} entries, but the trace has n = {n} inputs")
    bad = np.flatnonzero(~np.isfinite(point))
    if bad.size:
        raise HessianLabError(f"{name}[{bad[0]}] = {point[bad[0]]} is not a finite number")
    return point


def check_vector(v, n):
    """v as a finite float vector of length n, the direction of a Hessian-vector product."""
    shape = np.shape(v) if not isinstance(v, str) else ()
    if shape != (n,):
        raise ShapeError(f"v must have shape ({n},) to match x0, not {shape}")
    return as_point(v, n, "v")


def check_branches(branches, point):
    """Raise a BranchError if some recorded comparison comes out at `point` other than where f was traced."""
    values = {}
    for comparison, outcome in branches:
        sides = [c for c in (comparison.left, comparison.right) if isinstance(c, Node)]
        evaluate(topological_order(sides), point, values)
        left, right = (values.get(c, c) for c in (comparison.left, comparison.right))
        if comparison.holds(left, right) != outcome:
            raise BranchError(
                f"this graph was traced where `{comparison}` was {outcome}, but at this x0 it is "
                f"{not outcome}; f takes another branch here. Trace again: hl.trace(f, n, at=x0)"
            )


class Inputs(NodeArray):
    """The x that f receives: a 1-D numpy array of the n input nodes, so numpy code slices and broadcasts it
    (`x[1:] - x[:-1] ** 2`) while x[0], len(x), iteration and sum(x) work as on a list; reading past the end is
    a ShapeError that names n. Its slices and results are plain NodeArrays."""

    def __getitem__(self, index):
        try:
            item = super().__getitem__(index)
        except IndexError as error:
            n = len(self)
            if isinstance(index, numbers.Integral):
                raise ShapeError(f"f reads x[{index}], but x has only {n} entries (n = {n}); is x0 too short?") from None
            raise ShapeError(f"x[{index!r}]: {error} (x has n = {n} entries)") from None
        return item.view(NodeArray) if isinstance(item, np.ndarray) else item

    def __iter__(self):
        return iter(self.view(np.ndarray))

    def __repr__(self):
        return f"<{len(self)} input nodes x[0..{len(self) - 1}]>"


def _inputs(nodes):
    """The input nodes as the Inputs array f receives."""
    x = np.empty(len(nodes), dtype=object)
    x[:] = nodes
    return x.view(Inputs)


class _Tracer:
    """One running trace: the point that decides branches, the values known there, and the branches taken."""

    def __init__(self, point):
        self.point = point
        self.values = {}
        self.branches = []

    def value(self, operand):
        """The value of a node (or number) at the trace point."""
        if not isinstance(operand, Node):
            return operand
        return evaluate(topological_order([operand]), self.point, self.values)[operand]

    def hold(self, node):
        """Record that a node constant between jumps (floor, sign, ...) keeps its value here: `node == value`, a branch."""
        if self.point is None:
            raise TraceError(
                f"f uses {to_text(node)}, which is constant between jumps, and which piece it is on can only be "
                "decided at a point: trace with hl.trace(f, n, at=x0) (hl.hessian(f, x0) and friends do this for you)"
            )
        self.decide(Comparison("==", node, float(self.value(node))))

    def decide(self, comparison):
        """Decide `if x[0] > 0:` at the trace point, and record the outcome for later checks."""
        if self.point is None:
            raise TraceError(
                f"f branches on `{comparison}`, and a branch can only be decided at a point: "
                "trace with hl.trace(f, n, at=x0) (hl.hessian(f, x0) and friends do this for you)"
            )
        outcome = comparison.holds(self.value(comparison.left), self.value(comparison.right))
        self.branches.append((comparison, outcome))
        return outcome


def record(f, n, at=None):
    """Run f once on n input nodes: (inputs, output node, branches taken), the parts of a Graph.

    `at`, a checked point, decides the branches f takes (`if x[0] > 0`, `max(x[0], x[1])`); they are
    recorded so that a reused graph can check them. The trace in progress belongs to this thread (a
    ContextVar), so threads tracing at once never decide each other's branches.
    """
    if not callable(f):
        raise TraceError(f"f must be a function of x, not {type(f).__name__}")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
        raise ShapeError(f"n must be a positive whole number of inputs, not {n!r}")
    n = int(n)
    check_fits(n * NODE, "tracing f", f"for its n = {n} input nodes alone", "a smaller n")
    tracer = _Tracer(at)
    out_of_memory = False
    token = current_trace.set(tracer)
    try:
        inputs = [Node("input", (), i) for i in range(n)]
        result = f(_inputs(inputs))
    except MemoryError:  # raised below, once this handler has let go of the traceback that holds the half-built graph
        out_of_memory = True
    finally:
        current_trace.reset(token)
    if out_of_memory:
        raise MemoryLimitError(f"tracing f on n = {n} inputs ran out of memory while building its graph; "
                               "use a smaller n, or a function written with hl.sum and hl.dot (fewer nodes)")
    return inputs, _as_output(result), tracer.branches


def _as_output(result):
    """f's result as a node: a node as is (or the one entry of an array), a finite number as a constant; anything
    else is a TraceError."""
    if isinstance(result, np.ndarray) and result.size == 1:
        result = result.item()
    if isinstance(result, Node):
        return result
    if isinstance(result, numbers.Real) and not isinstance(result, (bool, np.bool_)):
        try:
            value = float(result)
        except OverflowError:
            value = float("inf")
        if not np.isfinite(value):
            raise DomainError(f"f returned {result!r:.40}, which is not a finite number")
        return constant(value)
    kind = f"an array of shape {result.shape}" if isinstance(result, np.ndarray) else f"a {type(result).__name__}"
    raise TraceError(f"f must return one scalar (a node or a number), but it returned {kind}: {result!r:.60}")
