"""Tracing f into a computation graph, and the Graph that a trace returns: plain data, reusable at every point."""

import numbers
import operator
import threading

import numpy as np

from .errors import BranchError, DomainError, MemoryLimitError, ShapeError, TraceError
from .forward import as_point, evaluate
from .node import Node, count_edges, current_trace, to_text, topological_order
from .ops import constant


class Inputs:
    """The x that f receives: n input nodes, with a clear ShapeError when f reads past the end."""

    def __init__(self, nodes):
        self._nodes = nodes

    def __len__(self):
        return len(self._nodes)

    def __iter__(self):
        return iter(self._nodes)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._nodes[index]
        try:
            i = operator.index(index)
        except TypeError:
            raise ShapeError(f"x[{index!r}]: the inputs are indexed by whole numbers") from None
        n = len(self._nodes)
        if not -n <= i < n:
            raise ShapeError(f"f reads x[{i}], but x has only {n} entries (n = {n}); is x0 too short?")
        return self._nodes[i]

    def __repr__(self):
        return f"<{len(self._nodes)} input nodes x[0..{len(self._nodes) - 1}]>"


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


def trace(f, n, at=None, graph_class=None):
    """Run f once on n input nodes and return its computation Graph (of `graph_class`, a Graph by default).

    `at` is needed only if f branches on a value (`if x[0] > 0`, `max(x[0], x[1])`): the branch is
    decided there, recorded, and checked whenever the graph is reused at another point. The trace in
    progress belongs to this thread (a ContextVar), so threads tracing at once never decide each other's branches.
    """
    if not callable(f):
        raise TraceError(f"f must be a function of x, not {type(f).__name__}")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
        raise ShapeError(f"n must be a positive whole number of inputs, not {n!r}")
    n = int(n)
    tracer = _Tracer(None if at is None else as_point(at, n, "at"))
    inputs = [Node("input", (), i) for i in range(n)]
    token = current_trace.set(tracer)
    out_of_memory = False
    try:
        result = f(Inputs(inputs))
    except MemoryError:  # raised below, once this handler has let go of the traceback that holds the half-built graph
        out_of_memory = True
    finally:
        current_trace.reset(token)
    if out_of_memory:
        raise MemoryLimitError(f"tracing f on n = {n} inputs ran out of memory while building its graph; "
                               "use a smaller n, or a function written with hl.sum and hl.dot (fewer nodes)")
    return (graph_class or Graph)(inputs, _as_output(result), tracer.branches)


def _as_output(result):
    """f's result as a node: a node as is, a finite number as a constant; anything else is a TraceError."""
    if isinstance(result, np.ndarray) and result.ndim == 0:
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


class Graph:
    """A traced f: R^n -> R, a straight-line program reusable at every x0 of length n.

    Sizes: `m` is the number of edges (one per node-argument pair) of f's graph, the m of the
    assignment; `num_nodes` counts its nodes (inputs and constants included). A graph traced where f
    branched remembers each branch, and raises a BranchError at any point where one would go the other way.
    What is derived from the graph once (G, a compiled tape) is kept by `cached`, built once even under threads.
    """

    def __init__(self, inputs, output, branches=()):
        self.inputs = inputs
        self.output = output
        self.branches = list(branches)
        self.n = len(inputs)
        self.nodes = topological_order([output])
        self.m = count_edges(self.nodes)
        self._cache = {}
        self._cache_lock = threading.RLock()  # a build may ask for another cached part (the plan needs the tape)

    @property
    def num_nodes(self):
        """Nodes of f's graph, inputs and constants included."""
        return len(self.nodes)

    def cached(self, key, build):
        """build(), computed once per graph and key and then reused (G, the tape, the sparse plan)."""
        with self._cache_lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    def has_cached(self, key):
        """Whether `cached(key, ...)` has already been built on this graph (it then costs nothing to ask for)."""
        with self._cache_lock:
            return key in self._cache

    def point(self, x0):
        """x0 checked: a finite vector of length n at which every recorded branch goes the traced way."""
        point = as_point(x0, self.n)
        if self.branches:
            values = {}
            for comparison, outcome in self.branches:
                sides = [c for c in (comparison.left, comparison.right) if isinstance(c, Node)]
                evaluate(topological_order(sides), point, values)
                left, right = (values.get(c, c) for c in (comparison.left, comparison.right))
                if comparison.holds(left, right) != outcome:
                    raise BranchError(
                        f"this graph was traced where `{comparison}` was {outcome}, but at this x0 it is "
                        f"{not outcome}; f takes another branch here. Trace again: hl.trace(f, n, at=x0)"
                    )
        return point

    def values(self, point):
        """The value of every node of f at a checked point: the forward pass, which also checks f's domain."""
        return evaluate(self.nodes, point)

    def value(self, x0):
        """f(x0)."""
        return float(self.values(self.point(x0))[self.output])

    def __repr__(self):
        return f"<Graph n = {self.n}, m = {self.m} edges, {self.num_nodes} nodes: {to_text(self.output)}>"

