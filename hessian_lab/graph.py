"""Tracing f into a computation graph, and the Graph that a trace returns."""

import gc
import numbers
import operator
from contextlib import contextmanager

import numpy as np

from . import backprop, hessian as hessian_methods, higher, sparse, tape
from .counting import run_counted
from .errors import BranchError, HessianLabError, ShapeError, TraceError
from .forward import count_edges, evaluate, topological_order
from .node import Comparison, Node, to_text
from .ops import constant


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while millions of nodes are made.

    Nodes only point to older nodes, so they never form cycles and reference counting frees them;
    without the pause, the collector rescans every live node again and again (1.7x slower at 10^5).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


def as_point(x0, n=None, name="x0"):
    """x0 as a finite float64 vector (of length n, if given), or a ShapeError / HessianLabError saying why not."""
    try:
        point = np.asarray(x0, dtype=float)
    except (TypeError, ValueError):
        raise HessianLabError(f"{name} must be a 1-D array of numbers, not {type(x0).__name__} {x0!r:.60}") from None
    if point.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, but it has shape {point.shape}")
    if n is not None and len(point) != n:
        raise ShapeError(f"{name} has {len(point)} entries, but the trace has n = {n} inputs")
    bad = np.flatnonzero(~np.isfinite(point))
    if bad.size:
        raise HessianLabError(f"{name}[{bad[0]}] = {point[bad[0]]} is not a finite number")
    return point


class _Tracer:
    """State of one running trace: the point that decides branches, values known there, and the branches taken."""

    def __init__(self, point):
        self.point = point
        self.values = {}
        self.branches = []

    def value(self, operand):
        """The value of a node (or number) at the trace point."""
        if not isinstance(operand, Node):
            return operand
        return evaluate(topological_order([operand]), self.point, self.values)[operand]


_tracers = []


def decide_branch(comparison):
    """Decide `if x[0] > 0:` inside a trace at its point, and record the outcome for later checks."""
    if not _tracers:
        raise TraceError(f"`{comparison}` compares graph nodes outside a trace; there is no value to compare")
    tracer = _tracers[-1]
    if tracer.point is None:
        raise TraceError(
            f"f branches on `{comparison}`, and a branch can only be decided at a point: "
            "trace with hl.trace(f, n, at=x0) (hl.hessian(f, x0) and friends do this for you)"
        )
    outcome = comparison.holds(tracer.value(comparison.left), tracer.value(comparison.right))
    tracer.branches.append((comparison, outcome))
    return outcome


def trace(f, n, at=None):
    """Run f once on n input nodes and return its computation Graph.

    `at` is needed only if f branches on a value (`if x[0] > 0`, `max(x[0], x[1])`): the branch is
    decided there, recorded, and checked whenever the graph is reused at another point.
    """
    if not callable(f):
        raise TraceError(f"f must be a function of x, not {type(f).__name__}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ShapeError(f"n must be a positive whole number of inputs, not {n!r}")
    tracer = _Tracer(None if at is None else as_point(at, n, "at"))
    inputs = [Node("input", (), i) for i in range(n)]
    _tracers.append(tracer)
    try:
        with gc_paused():
            result = f(Inputs(inputs))
            return Graph(inputs, _as_output(result), tracer.branches)
    finally:
        _tracers.pop()


def _as_output(result):
    """f's result as a node: a node as is, a number as a constant; anything else is a TraceError."""
    if isinstance(result, np.ndarray) and result.ndim == 0:
        result = result.item()
    if isinstance(result, Node):
        return result
    if isinstance(result, numbers.Real) and not isinstance(result, (bool, np.bool_)):
        return constant(result)
    kind = f"an array of shape {result.shape}" if isinstance(result, np.ndarray) else f"a {type(result).__name__}"
    raise TraceError(f"f must return one scalar (a node or a number), but it returned {kind}: {result!r:.60}")


class Graph:
    """A traced f: R^n -> R, a straight-line program reusable at every x0 of length n.

    Sizes: `m` is the number of edges (one per node-argument pair) of f's graph, the m of the
    assignment; `num_nodes` counts its nodes (inputs and constants included). A graph traced where f
    branched remembers each branch, and raises a BranchError at any point where one would go the other way.
    """

    def __init__(self, inputs, output, branches=()):
        self.inputs = inputs
        self.output = output
        self.branches = list(branches)
        self.n = len(inputs)
        self.nodes = topological_order([output])
        self.m = count_edges(self.nodes)
        self._gradient_graph = None
        self._tape = None
        self._sparse_plan = None

    @property
    def num_nodes(self):
        """Nodes of f's graph, inputs and constants included."""
        return len(self.nodes)

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

    def value(self, x0):
        """f(x0)."""
        return float(evaluate(self.nodes, self.point(x0))[self.output])

    def gradient_graph(self):
        """The gradient graph G, built once per trace and reused by every row and every call."""
        if self._gradient_graph is None:
            self._gradient_graph = backprop.GradientGraph(self)
        return self._gradient_graph

    def tape(self):
        """The graph compiled for vectorised sweeps (hessian_lab.tape.Tape), built once per trace."""
        if self._tape is None:
            with gc_paused():
                self._tape = tape.Tape(self)
        return self._tape

    def sparse_plan(self):
        """The Hessian's sparsity pattern, star colouring and recovery map, built once per trace; None if dense."""
        if self._sparse_plan is None:
            with gc_paused():
                pattern = sparse.hessian_pattern(self.tape())
                self._sparse_plan = sparse.SparsePlan(self.tape(), pattern) if pattern is not None else False
        return self._sparse_plan or None

    def sparse_hessian(self, x0, return_stats=False):
        """∇²f(x0) as a scipy.sparse CSR matrix, by one vectorised product per colour."""
        return sparse.sparse_hessian(self, x0, return_stats)

    def gradient(self, x0, return_stats=False):
        """∇f(x0) by one backward pass: O(m)."""
        return run_counted(self, "gradient", lambda: backprop.gradient(self, x0), return_stats)

    def hessian(self, x0, method="auto", return_stats=False, **options):
        """∇²f(x0) by `method` (see hl.hessian); with return_stats, also the exact work done."""
        return hessian_methods.hessian(self, x0, method, return_stats, **options)

    def hvp(self, x0, v, return_stats=False):
        """∇²f(x0) v in one forward-over-reverse pass over G: O(m) (Pearlmutter)."""
        return run_counted(self, "hvp", lambda: hessian_methods.hvp(self, x0, v), return_stats, uses_G=True)

    def derivative_tensor(self, x0, k, return_stats=False, **options):
        """All k-th partial derivatives at x0, an array of shape (n,)*k (see hl.derivative_tensor)."""
        return higher.derivative_tensor(self, x0, k, return_stats, **options)

    def __repr__(self):
        return f"<Graph n = {self.n}, m = {self.m} edges, {self.num_nodes} nodes: {to_text(self.output)}>"
