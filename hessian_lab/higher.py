"""Part (c): all k-th order derivatives by nesting the gradient-graph construction."""

import itertools
import math

import numpy as np

from .backprop import backprop
from .counting import run_counted
from .errors import HessianLabError
from .forward import count_edges, evaluate, topological_order
from .graph_limits import check_dense_fits
from .taylor import taylor_tensor


def derivative_tensor(graph, x0, k, return_stats=False, method="nested", **options):
    """All k-th partial derivatives of f at x0, an array of shape (n,)*k, by one of TENSOR_METHODS."""
    if method not in TENSOR_METHODS:
        raise HessianLabError(f"unknown derivative_tensor method {method!r}; choose one of: {', '.join(TENSOR_METHODS)}")
    check_order(graph.n, k)
    return TENSOR_METHODS[method](graph, x0, k, return_stats, **options)


def check_order(n, k):
    """k must be a whole number >= 1, and the dense (n,)*k result must fit in memory."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise HessianLabError(f"k must be a whole number >= 1, not {k!r}")
    check_dense_fits(n, k)


def nested_tensor(graph, x0, k, return_stats=False, symmetric=True):
    """All k-th partial derivatives of f at x0, an array of shape (n,)*k.

    Level 1 is G's outputs ∂f/∂x_i. Each further level backprops symbolically from every node of the
    level before, combining that graph with its mirror; the last level backprops numerically. That is
    Σ_{j=1..k} n^(j-1) passes, O(n^(k-1) m) for fixed k; with `symmetric`, only sorted multi-indices are
    computed, C(n+j-2, j-1) passes at level j, and the rest is filled in by symmetry.
    """
    levels = []
    return run_counted(
        graph, "nested", lambda: _nested(graph, x0, k, symmetric, levels), return_stats,
        uses_G=True, details=lambda: _level_report(graph, k, symmetric, levels),
    )


def _nested(graph, x0, k, symmetric, levels):
    """The nested construction itself; appends each level's derivative nodes, keyed by multi-index, to `levels`."""
    point = graph.point(x0)
    n = graph.n
    level = {(): graph.output}
    for order in range(1, k + 1):
        numeric = order == k
        values = evaluate(topological_order(level.values()), point) if numeric else None
        below = {}
        for alpha, node in level.items():
            if order == 1 and not numeric:
                adjoints = graph.gradient_graph().outputs
            else:
                adjoints = backprop(node, graph.inputs, at=values)
            first = alpha[-1] if symmetric and alpha else 0
            for i in range(first, n):
                below[alpha + (i,)] = adjoints[i]
        levels.append(level)
        level = below
    tensor = np.zeros((n,) * k)
    for alpha, value in level.items():
        for index in set(itertools.permutations(alpha)) if symmetric else [alpha]:
            tensor[index] = value
    return tensor


def _level_report(graph, k, symmetric, levels):
    """Per level: passes made, the formula they follow, and the mean size of one derivative's graph."""
    n = graph.n
    sizes = [np.mean([count_edges(topological_order([v])) for v in level.values()]) for level in levels]
    return {
        "k": k,
        "symmetric": symmetric,
        "passes_per_level": [len(level) for level in levels],
        "passes_total": sum(len(level) for level in levels),
        "passes_without_symmetry": sum(n ** (j - 1) for j in range(1, k + 1)),
        "passes_with_symmetry": sum(math.comb(n + j - 2, j - 1) for j in range(1, k + 1)),
        "edges_per_derivative": [float(s) for s in sizes],
        "growth_per_level": [float(b / a) if a else float("nan") for a, b in zip(sizes, sizes[1:])],
    }


TENSOR_METHODS = {"nested": nested_tensor, "taylor": taylor_tensor}
