"""The sweeps: values (the forward pass), tangents (forward mode), adjoints (backprop), and the gradient graph G.

Each sweep trusts the point it is given: the public layer has checked it once (hessian_lab.tracing.as_point).
A sweep is symbolic, building graph nodes, when it has no values, and numeric when it has them; a numeric
sweep never hands on a number that is not finite, and says which node overflowed.
"""

import math
import numbers

import numpy as np

from . import ops
from .counting import record, record_graph
from .errors import DomainError, HessianLabError, RangeError, ShapeError
from .node import Node, count_edges, name_of, not_finite, topological_order


def backprop(output, wrt, at=None, over=None):
    """Reverse mode: d output / d w for each node w of `wrt`, from one backward sweep.

    Without `at` the adjoints are built as graph nodes: the mirrored adjoint graph, whose nodes can be
    differentiated again. With `at` (node -> value, from a forward pass) they are numbers. The sweep
    visits exactly the nodes `output` depends on, or the topologically ordered list `over` if given
    (all of G, for the unpruned pass). It builds nothing for constants: no `g * 1`, no `0 * g`.
    One call is one pass, and returns its result: nothing accumulates between calls.
    """
    if not isinstance(output, Node):
        return _constant_output(output, wrt, at, over)
    order = topological_order([output]) if over is None else over
    total, partials_of = _arithmetic(at, "adjoint")
    contributions = {output: [1.0]}
    with np.errstate(all="ignore"):  # numpy scalars overflow quietly here; the numeric arithmetic names the node
        for node in reversed(order):
            terms = contributions.get(node)
            if terms is None or not node.args:
                continue
            adjoint = total(terms, node)
            for arg, partial in zip(node.args, partials_of(node)):
                term = None if arg.op == "const" else ops.times(adjoint, partial)
                if term is not None:
                    contributions.setdefault(arg, []).append(term)
        adjoints = [total(contributions[w], w) if w in contributions else 0.0 for w in wrt]
    record_sweep(at, len(order))
    return adjoints


def jvp(outputs, tangents, at=None):
    """Forward mode: the derivative of each output along `tangents` ({input node: tangent}).

    Graph nodes when `at` is None (a symbolic tangent graph), numbers when `at` maps nodes to values.
    One call is one pass; its visits are the nodes the outputs depend on.
    """
    order = topological_order(outputs)
    total, partials_of = _arithmetic(at, "tangent")
    dots = {x: t for x, t in tangents.items() if ops.number_of(t) != 0}
    with np.errstate(all="ignore"):
        for node in order:
            incoming = [(k, dots[a]) for k, a in enumerate(node.args) if a in dots]
            if not incoming:
                continue
            partials = partials_of(node)
            terms = [t for t in (ops.times(partials[k], dot) for k, dot in incoming) if t is not None]
            if terms:
                dots[node] = total(terms, node)
    record_sweep(at, len(order))
    return [dots.get(o, 0.0) if isinstance(o, Node) else 0.0 for o in outputs]


def evaluate(order, point, values=None):
    """Forward pass: the value of each node of `order` (topological) at a checked `point`, added to `values`.

    Each op's domain is checked as it runs (ops.evaluate_op), and a failure names the node.
    """
    values = {} if values is None else values
    computed = 0
    with np.errstate(all="ignore"):
        for node in order:
            if node in values:
                continue
            if node.op == "input":
                if node.param >= len(point):
                    raise ShapeError(f"the graph reads x[{node.param}], but the point has only {len(point)} entries")
                values[node] = point[node.param]
            elif node.op == "const":
                values[node] = node.param
            else:
                try:
                    values[node] = ops.evaluate_op(node.op, [values[a] for a in node.args], node.param)
                except DomainError as error:
                    raise DomainError(f"{error} (at {name_of(node)})") from None
            computed += 1
    record(evaluations=computed)
    return values


def _arithmetic(at, what):
    """A sweep's two operations, sum of terms and local partials: graph ops without values, checked numbers with.

    Numbers are checked finite as they are made: a non-finite adjoint or tangent, or a partial that a
    skipped 0 * inf would hide, is a DomainError naming the node.
    """
    if at is None:
        return (lambda terms, node: ops.sum(terms)), ops.local_partials

    def total(terms, node):
        value = ops.sum(terms)
        if not math.isfinite(value):
            raise not_finite(f"the {what}", node, value, RangeError, "a derivative overflows at this point (beyond "
                             "1e308, or inf - inf), at least in the order this method multiplies")
        return value

    def partials_of(node):
        try:
            partials = ops.local_partials(node, at)
        except KeyError as missing:
            raise HessianLabError(
                f"`at` has no value for {name_of(missing.args[0])}; compute the values of every node the sweep "
                "reads with hl.evaluate(hl.topological_order([output]), point)"
            ) from None
        for partial in partials:
            if not math.isfinite(partial):
                raise not_finite("a local partial", node, partial, DomainError, "a derivative overflows at this point")
        return partials

    return total, partials_of


def _constant_output(output, wrt, at, over):
    """backprop of a number (x̄_i when ∂f/∂x_i is constant): zero adjoints, still one pass; anything else is named."""
    if not isinstance(output, numbers.Real):
        raise HessianLabError(f"backprop differentiates one node (or a number), not a {type(output).__name__}: "
                              f"{output!r:.60}; for row i of G, pass G.output(i)")
    record_sweep(at, 0 if over is None else len(over))
    return [0.0] * len(wrt)


def record_sweep(at, visits):
    """Count one sweep: numeric when it had values, else a symbolic build."""
    if at is None:
        record(builds=1, build_visits=visits)
    else:
        record(passes=1, visits=visits)


class GradientGraph:
    """The assignment's G: the graph of f plus its mirrored adjoint graph, with outputs x̄_i = ∂f/∂x_i.

    The assignment's G_i, the graph of e_iᵀ∇f, is not another graph: it is this same G with the output
    x̄_i selected (`G.output(i)`). Row i of the Hessian is one backprop over G_i.
    """

    def __init__(self, graph):
        self.f = graph
        self.outputs = backprop(graph.output, graph.inputs)
        self.nodes = topological_order([graph.output, *self.outputs])
        self.num_edges = count_edges(self.nodes)
        record_graph("G", len(self.nodes), self.num_edges)

    def output(self, i):
        """G_i's output: x̄_i = e_iᵀ∇f, a node of G (or a number, when ∂f/∂x_i is constant)."""
        return self.outputs[i]

    def values(self, point):
        """The value of every node of G at a checked point: one forward pass over G, f's nodes first (lower ids)."""
        return evaluate(self.nodes, point)

    def evaluate(self, x0):
        """The value of every node of G at x0, after checking x0 as f's graph does."""
        return self.values(self.f.point(x0))

    def ratio(self):
        """|G| / |f| in edges: the assignment says at most 2, Baur–Strassen's bound is about 3."""
        return self.num_edges / self.f.m if self.f.m else float("nan")

    def highest_input(self):
        """For each node of G, the largest index i of an input x_i it depends on (-1 for none)."""
        highest = {}
        for node in self.nodes:
            if node.op == "input":
                highest[node] = node.param
            else:
                highest[node] = max((highest[a] for a in node.args), default=-1)
        return highest

    def __repr__(self):
        return f"<GradientGraph |f| = {self.f.m} edges, |G| = {self.num_edges} edges ({len(self.nodes)} nodes)>"


def gradient_graph(graph):
    """The graph's G, built once per trace and reused by every row and every call."""
    return graph.cached("G", lambda: GradientGraph(graph))


def gradient(graph, point):
    """∇f at a checked point by one numeric backward pass over f's graph: O(m)."""
    values = graph.values(point)
    return np.array(backprop(graph.output, graph.inputs, at=values), dtype=float)
