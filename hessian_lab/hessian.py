"""The assignment's Hessian methods, each reading like its sentence, plus the Hessian-vector product.

Each method is a pure function of a traced graph and a point that the public layer (hessian_lab.api)
has already checked; it returns the dense Hessian as an (n, n) array and counts its work as it goes.
"""

import numpy as np

from .backprop import backprop, evaluate, gradient_graph, jvp
from .counting import record_details, record_method
from .node import topological_order


def row_pass(graph, point, prune=True):
    """backprop_row(i): one numeric backprop over G_i at the point, which yields the whole row i of H.

    With prune (the default) a pass visits only the nodes x̄_i depends on; without, it sweeps all of G.
    """
    G = gradient_graph(graph)
    values = G.values(point)
    over = None if prune else G.nodes
    return lambda i: backprop(G.output(i), graph.inputs, at=values, over=over)


def hessian_rows(graph, point, prune=True):
    """Row i of H is ∇(e_iᵀ∇f): one backprop over G_i (G with output x̄_i) back to x. n passes, O(n m)."""
    record_method("rows")
    backprop_row = row_pass(graph, point, prune)
    H = np.empty((graph.n, graph.n))
    for i in range(graph.n):
        H[i] = backprop_row(i)
    return H


def hessian_naive(graph, point, prune=True):
    """Each entry H[i, j] by its own backward pass over G_i, read at x_j. n² passes, O(n² m).

    The strawman of the assignment: every pass computes the whole row and keeps one entry of it,
    so its visits are exactly n times those of the rows method.
    """
    record_method("naive")
    backprop_row = row_pass(graph, point, prune)
    H = np.empty((graph.n, graph.n))
    for i in range(graph.n):
        for j in range(graph.n):
            H[i, j] = backprop_row(i)[j]
    return H


def hessian_symmetric(graph, point):
    """The rows method computing only H[i, j] with j >= i, then mirroring: H is symmetric.

    Row i's pass sweeps only the nodes of G_i that depend on some x_j with j >= i; the others cannot
    reach the entries it keeps. The stats report `rows_visits`, the visits the rows method would make,
    so the saving is rows_visits - visits.
    """
    record_method("symmetric")
    G = gradient_graph(graph)
    values = G.values(point)
    highest = G.highest_input()
    upper = np.zeros((graph.n, graph.n))
    rows_visits = 0
    for i in range(graph.n):
        row_nodes = topological_order([G.output(i)])
        rows_visits += len(row_nodes)
        over = [v for v in row_nodes if highest[v] >= i]
        upper[i, i:] = backprop(G.output(i), graph.inputs, at=values, over=over)[i:]
    record_details(rows_visits=rows_visits)
    return upper + np.triu(upper, 1).T


def hessian_forward_over_forward(graph, point):
    """The fair per-entry baseline: H[i, j] = a tangent pass along e_j through f's tangent graph along e_i.

    n symbolic tangent graphs, then n(n+1)/2 numeric passes, one per entry with j >= i; no backprop at all.
    f's values are computed once (which checks f's domain) and shared by every tangent graph.
    """
    record_method("forward_over_forward")
    f_values = graph.values(point)
    n = graph.n
    upper = np.zeros((n, n))
    for i in range(n):
        (tangent,) = jvp([graph.output], {graph.inputs[i]: 1.0})
        values = evaluate(topological_order([tangent]), point, dict(f_values))
        for j in range(i, n):
            (upper[i, j],) = jvp([tangent], {graph.inputs[j]: 1.0}, at=values)
    return upper + np.triu(upper, 1).T


def hessian_by_hvp(graph, point):
    """Column j of H is the Hessian-vector product H e_j: n forward-over-reverse passes over G, O(n m)."""
    record_method("hvp")
    H = np.empty((graph.n, graph.n))
    for j in range(graph.n):
        H[:, j] = hvp(graph, point, np.eye(1, graph.n, j)[0])
    return H


def hvp(graph, point, v):
    """H v in one pass: push the tangent v forward through G and read it at G's outputs x̄ (Pearlmutter 1994)."""
    record_method("hvp product")
    G = gradient_graph(graph)
    values = G.values(point)
    tangents = {x: float(vi) for x, vi in zip(graph.inputs, v)}
    return np.array(jvp(G.outputs, tangents, at=values), dtype=float)
