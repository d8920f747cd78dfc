"""Backprop, and the gradient graph G it builds: f's graph plus its mirrored adjoint graph."""

import numpy as np

from . import ops
from .counting import record_graph
from .forward import record_sweep, count_edges, evaluate, topological_order
from .node import Node


def backprop(output, wrt, at=None, over=None):
    """Reverse mode: d output / d w for each node w of `wrt`, from one backward sweep.

    Without `at` the adjoints are built as graph nodes: the mirrored adjoint graph, whose nodes can be
    differentiated again. With `at` (node -> value, from a forward pass) they are numbers. The sweep
    visits exactly the nodes `output` depends on, or the topologically ordered list `over` if given
    (all of G, for the unpruned pass). It builds nothing for constants: no `g * 1`, no `0 * g`.
    One call is one pass, and returns its result: nothing accumulates between calls.
    """
    if not isinstance(output, Node):
        record_sweep(at, 0 if over is None else len(over))
        return [0.0] * len(wrt)
    order = topological_order([output]) if over is None else over
    contributions = {output: [1.0]}
    for node in reversed(order):
        terms = contributions.get(node)
        if terms is None or not node.args:
            continue
        adjoint = ops.sum(terms)
        for arg, partial in zip(node.args, ops.local_partials(node, at)):
            term = None if arg.op == "const" else ops.times(adjoint, partial)
            if term is not None:
                contributions.setdefault(arg, []).append(term)
    record_sweep(at, len(order))
    return [ops.sum(contributions[w]) if w in contributions else 0.0 for w in wrt]


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
        self._highest_input = None

    def output(self, i):
        """G_i's output: x̄_i = e_iᵀ∇f, a node of G (or a number, when ∂f/∂x_i is constant)."""
        return self.outputs[i]

    def evaluate(self, x0):
        """The value of every node of G at x0 (one forward pass over G)."""
        return evaluate(self.nodes, self.f.point(x0))

    def ratio(self):
        """|G| / |f| in edges: the assignment says at most 2, Baur–Strassen's bound is about 3."""
        return self.num_edges / self.f.m if self.f.m else float("nan")

    def highest_input(self):
        """For each node of G, the largest index i of an input x_i it depends on (-1 for none)."""
        if self._highest_input is None:
            highest = {}
            for node in self.nodes:
                if node.op == "input":
                    highest[node] = node.param
                else:
                    highest[node] = max((highest[a] for a in node.args), default=-1)
            self._highest_input = highest
        return self._highest_input

    def __repr__(self):
        return f"<GradientGraph |f| = {self.f.m} edges, |G| = {self.num_edges} edges ({len(self.nodes)} nodes)>"


def gradient(graph, x0):
    """∇f(x0) by one numeric backward pass over f's graph: O(m)."""
    values = evaluate(graph.nodes, graph.point(x0))
    return np.array(backprop(graph.output, graph.inputs, at=values), dtype=float)
