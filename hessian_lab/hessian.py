"""Every Hessian method of the assignment, each reading like its sentence, plus the Hessian-vector product."""

import inspect

import numpy as np

from .backprop import backprop
from .counting import record_details, run_counted
from .edge_pushing import hessian_edge_pushing
from .errors import HessianLabError, ShapeError
from .forward import evaluate, jvp, topological_order
from .graph_limits import check_dense_fits


def hessian_rows(graph, x0, prune=True):
    """Row i of H is ∇(e_iᵀ∇f): one backprop over G_i (G with output x̄_i) back to x. n passes, O(n m).

    With prune (the default) a pass visits only the nodes x̄_i depends on; without, it sweeps all of G.
    """
    G = graph.gradient_graph()
    values = G.evaluate(x0)
    over = None if prune else G.nodes
    rows = [backprop(G.output(i), graph.inputs, at=values, over=over) for i in range(graph.n)]
    return np.array(rows, dtype=float)


def hessian_naive(graph, x0, prune=True):
    """Each entry H[i, j] by its own backward pass over G_i, read at x_j. n² passes, O(n² m).

    The strawman of the assignment: every pass computes the whole row and keeps one entry of it,
    so its visits are exactly n times those of the rows method.
    """
    G = graph.gradient_graph()
    values = G.evaluate(x0)
    over = None if prune else G.nodes
    n = graph.n
    return np.array(
        [[backprop(G.output(i), graph.inputs, at=values, over=over)[j] for j in range(n)] for i in range(n)],
        dtype=float,
    )


def hessian_symmetric(graph, x0):
    """The rows method computing only H[i, j] with j >= i, then mirroring: H is symmetric.

    Row i's pass sweeps only the nodes of G_i that depend on some x_j with j >= i; the others cannot
    reach the entries it keeps. The stats report `rows_visits`, the visits the rows method would make,
    so the saving is rows_visits - visits.
    """
    G = graph.gradient_graph()
    values = G.evaluate(x0)
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


def hessian_forward_over_forward(graph, x0):
    """The fair per-entry baseline: H[i, j] = a tangent pass along e_j through f's tangent graph along e_i.

    n symbolic tangent graphs, then n(n+1)/2 numeric passes, one per entry with j >= i; no backprop at all.
    """
    point = graph.point(x0)
    n = graph.n
    upper = np.zeros((n, n))
    for i in range(n):
        (tangent,) = jvp([graph.output], {graph.inputs[i]: 1.0})
        values = evaluate(topological_order([tangent]), point)
        for j in range(i, n):
            (upper[i, j],) = jvp([tangent], {graph.inputs[j]: 1.0}, at=values)
    return upper + np.triu(upper, 1).T


def hessian_by_hvp(graph, x0):
    """Column j of H is the Hessian-vector product H e_j: n forward-over-reverse passes over G, O(n m)."""
    columns = [hvp(graph, x0, np.eye(graph.n)[j]) for j in range(graph.n)]
    return np.array(columns, dtype=float).T


def hvp(graph, x0, v):
    """H v in one pass: push the tangent v forward through G and read it at G's outputs x̄ (Pearlmutter 1994)."""
    v = np.asarray(v, dtype=float)
    if v.shape != (graph.n,):
        raise ShapeError(f"v must have shape ({graph.n},) to match x0, not {v.shape}")
    if not np.all(np.isfinite(v)):
        raise HessianLabError("v has an entry that is not a finite number")
    G = graph.gradient_graph()
    values = G.evaluate(x0)
    tangents = {x: float(vi) for x, vi in zip(graph.inputs, v)}
    return np.array(jvp(G.outputs, tangents, at=values), dtype=float)


def hessian_tape(graph, x0):
    """All n directions at once through the compiled tape (vectorised forward-over-reverse): O(n m) flops,
    but Python work only per group of like nodes, not per node."""
    return graph.tape().hessian(graph.point(x0))


def hessian_colouring(graph, x0):
    """One vectorised Hessian-vector product per colour of H's star colouring, recovered into a dense array."""
    plan = graph.sparse_plan()
    if plan is None:
        return hessian_tape(graph, x0)
    record_details(colours=plan.num_colours)
    return plan.hessian(graph.point(x0)).toarray()


METHODS = {
    "rows": hessian_rows,
    "naive": hessian_naive,
    "symmetric": hessian_symmetric,
    "forward_over_forward": hessian_forward_over_forward,
    "hvp": hessian_by_hvp,
    "edge_pushing": hessian_edge_pushing,
    "tape": hessian_tape,
    "colouring": hessian_colouring,
}


USES_G = {"rows", "naive", "symmetric", "hvp"}  # the methods that sweep the gradient graph G


def fastest_exact(graph):
    """The method "auto" stands for: colouring when the pattern needs fewer products than n, else the tape."""
    plan = graph.sparse_plan()
    return "colouring" if plan is not None and plan.num_colours < graph.n else "tape"


def _check_options(method, options):
    """A HessianLabError naming the option a method does not take, and the options it does."""
    accepted = list(inspect.signature(METHODS[method]).parameters)[2:]
    unknown = [name for name in options if name not in accepted]
    if unknown:
        offer = f"its options are: {', '.join(accepted)}" if accepted else "it takes no options"
        raise HessianLabError(f"method {method!r} does not take {', '.join(map(repr, unknown))}; {offer}")


def hessian(graph, x0, method="auto", return_stats=False, **options):
    """∇²f(x0) by one of METHODS ("auto" picks the fastest exact one); with return_stats, also the work done."""
    if method != "auto" and method not in METHODS:
        raise HessianLabError(f"unknown Hessian method {method!r}; choose one of: auto, {', '.join(METHODS)}")
    check_dense_fits(graph.n, 2)
    chosen = fastest_exact(graph) if method == "auto" else method
    _check_options(chosen, options)
    return run_counted(graph, chosen, lambda: METHODS[chosen](graph, x0, **options), return_stats,
                       uses_G=chosen in USES_G)


