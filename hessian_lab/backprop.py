"""Backprop, and the gradient graph G it builds: f's graph plus its mirrored adjoint graph."""

import numbers

import numpy as np

from . import ops
from .counting import record_graph
from .errors import HessianLabError
from .forward import evaluate, finite, local_partials_at, record_sweep
from .node import Node, count_edges, topological_order


def backprop(output, wrt, at=None, over=None):
    """Reverse mode: d output / d w for each node w of `wrt`, from one backward sweep.

    Without `at` the adjoints are built as graph nodes: the mirrored adjoint graph, whose nodes can be
    differentiated again. With `at` (node -> value, from a forward pass) they are numbers. The sweep
    visits exactly the nodes `output` depends on, or the topologically ordered list `over` if given
    (all of G, for the unpruned pass). It builds nothing for constants: no `g * 1`, no `0 * g`.
    One call is one pass, and returns its result: nothing accumulates between calls.
    """
    if not isinstance(output, Node):
        if not isinstance(output, numbers.Real):
            raise HessianLabError(f"backprop differentiates one node (or a number), not a {type(output).__name__}: "
                                  f"{output!r:.60}; for row i of G, pass G.output(i)")
        record_sweep(at, 0 if over is None else len(over))
        return [0.0] * len(wrt)
    order = topological_order([output]) if over is None else over
    contributions = {output: [1.0]}
    with np.errstate(all="ignore"):  # numpy scalars overflow quietly here; `finite` raises the named error instead
        for node in reversed(order):
            terms = contributions.get(node)
            if terms is None or not node.args:
                continue
            adjoint = ops.sum(terms) if at is None else finite(ops.sum(terms), node, "adjoint")
            partials = ops.local_partials(node) if at is None else local_partials_at(node, at)
            for arg, partial in zip(node.args, partials):
                term = None if arg.op == "const" else ops.times(adjoint, partial)
                if term is not None:
                    contributions.setdefault(arg, []).append(term)
        adjoints = [ops.sum(contributions[w]) if w in contributions else 0.0 for w in wrt]
    record_sweep(at, len(order))
    return adjoints if at is None else [finite(a, w, "adjoint") for a, w in zip(adjoints, wrt)]


class GradientGraph:
    """The assignment's G: the graph of f plus its mirrored adjoint graph, with outputs x̄_i = ∂f/∂x_i.

    The assignment's G_i, the graph of e_iᵀ∇f, is not another graph: it is this same G with the output
    x̄_i selected (`G.output(i)`). Row i of the Hessian is one backprop over G_i.
    `outputs` stands in other nodes for the x̄_i: the exercise checker's vector field whose Jacobian is
    not symmetric, which tells a row from a column. By default they are backprop's adjoints of f.
    """

    def __init__(self, graph, outputs=None):
        self.f = graph
        self.outputs = backprop(graph.output, graph.inputs) if outputs is None else list(outputs)
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
