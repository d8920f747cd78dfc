"""Part (c): all k-th order derivatives by nesting the gradient-graph construction."""

import math

import numpy as np

from .memory import NODE, check_fits, dense_bytes
from .backprop import backprop, evaluate, gradient_graph
from .counting import record_details, record_method
from .node import count_edges, next_node_id, topological_order


def nested_tensor(graph, point, k, symmetric=True):
    """All k-th partial derivatives of f at a checked point, an array of shape (n,)*k.

    Level 1 is G's outputs ∂f/∂x_i. Each further level backprops symbolically from every node of the
    level before, combining that graph with its mirror; the last level backprops numerically. That is
    Σ_{j=1..k} n^(j-1) passes, O(n^(k-1) m) for fixed k; with `symmetric`, only sorted multi-indices are
    computed, C(n+j-2, j-1) passes at level j, and the rest is filled in by symmetry.
    """
    record_method("nested")
    n = graph.n
    f_values = graph.values(point)  # f's own domain is checked even where no derivative graph reaches it
    levels = [{(): graph.output}]
    for order in range(1, k):  # symbolic levels: each derivative node of the level before, backpropped as a graph
        below, first_id = {}, next_node_id()
        for alpha, node in levels[-1].items():
            adjoints = gradient_graph(graph).outputs if order == 1 else backprop(node, graph.inputs)
            for i in range(alpha[-1] if symmetric and alpha else 0, n):
                below[alpha + (i,)] = adjoints[i]
        levels.append(below)
        if order < k - 1:
            entries_next = math.comb(n + order - 1, order) if symmetric else n ** (order + 1)
            check_next_level(next_node_id() - first_id, len(below), entries_next, k)
    tensor = np.zeros((n,) * k)  # the numeric level writes straight into the result: no dict of n^k floats
    values = evaluate(topological_order(levels[-1].values()), point, dict(f_values))
    for alpha, node in levels[-1].items():
        first = alpha[-1] if symmetric and alpha else 0
        tensor[alpha][first:] = backprop(node, graph.inputs, at=values)[first:]
    record_details(**level_report(n, k, symmetric, levels))
    return fill_symmetric(tensor) if symmetric else tensor


GROWTH = 3.0  # how much a nested derivative's graph grows per order at most (measured: 1.5 to 2.6)
CHEAPER = "a lower order k, or method='taylor' for small n"


DERIVATIVE_EDGE = 600  # one derivative's graph built at a level, per edge of f: its nodes, and the dicts of the sweep


def working_bytes(graph, k, pattern_nnz=None):
    """Peak bytes of nesting, before it starts: the symbolic levels' graphs (C(n+j-2, j-1) derivatives at level j,
    each sized by f's edges: an upper bound where derivatives are local, as in a band), and the tensor; each next
    level is checked again as it is built (check_next_level)."""
    derivatives = sum(math.comb(graph.n + j - 2, j - 1) for j in range(1, k))
    return derivatives * DERIVATIVE_EDGE * graph.m + dense_bytes(graph.n, k)


def check_next_level(built_nodes, entries_now, entries_next, k):
    """Refuse the next level of nested derivatives if it would grow past the memory left, judged by the level just built.

    The next level builds entries_next derivative graphs where this one built entries_now, each up to GROWTH
    times larger: built_nodes * (entries_next / entries_now) * GROWTH new nodes.
    """
    needed = built_nodes * entries_next / max(entries_now, 1) * GROWTH * NODE
    check_fits(needed, "method 'nested'", f"for its next level of derivative graphs (k = {k})", CHEAPER)


def fill_symmetric(tensor):
    """The symmetric tensor whose entries at sorted multi-indices (i1 <= ... <= ik) are given, copied to every permutation.

    Every flat position reads the entry at its own index sorted, in chunks of numpy work: O(1) per entry,
    never the k! loop over permutations. Sorted positions read themselves, so the tensor is filled in place.
    """
    flat = tensor.reshape(-1)
    chunk = max(1, 2**20 // max(tensor.ndim, 1))
    for lo in range(0, flat.size, chunk):
        positions = np.arange(lo, min(lo + chunk, flat.size))
        index = np.sort(np.stack(np.unravel_index(positions, tensor.shape)), axis=0)
        flat[positions] = tensor[tuple(index)]
    return tensor


def level_report(n, k, symmetric, levels):
    """Per level: passes made, the formula they follow, and the mean size of one derivative's graph."""
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
