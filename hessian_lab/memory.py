"""The working memory of every method, estimated from the graph before it runs, so that memory is refused before it is spent.

Each estimate counts what the method holds at its peak: the dense result, the graphs it builds (G,
tangent and nested derivative graphs, the compiled tape), the pattern and edge maps of the sparse
methods, and Taylor mode's series for every direction. They are deliberate over-estimates, sized from
measurements on this engine; the budget is what this process may still allocate (its RLIMIT_AS, and
the machine's available memory), so a refusal comes at once, as a MemoryLimitError naming the method
and a cheaper one, instead of a raw MemoryError deep inside.
"""

import math
import resource

from .errors import MemoryLimitError
from .fast.kernel import MAX_SOURCE
from .fast.tape import BLOCK_BYTES, JACOBIAN_BYTES

FLOAT = 8  # one float64 in an array
PY_FLOAT = 40  # a Python float and the list or dict slot that holds it
NODE = 250  # a graph node, its args tuple, and the dict entries of a sweep that hold its value and adjoint
EDGE = 200  # one weight of edge pushing's edge map (a dict of dicts, stored both ways)
PATTERN_BYTES = 256 * 2**20  # sparsity detection gives up (the Hessian is treated as dense) past this many bytes
SET_ENTRY = 64  # one index in a row set of the sparsity pattern
KERNEL_BYTES = 64 * MAX_SOURCE  # a kernel's source, its syntax tree while compiling, and its code
GROWTH = 3.0  # how much a nested derivative's graph grows per order at most (measured: 1.5 to 2.6)
HEADROOM = 0.8  # the share of the available memory a method may plan to use
SMALL = 64 * 2**20  # below this, a method runs without asking the operating system what is left (a hot path)
CHEAPER = {
    "rows": "hl.hvp for a few products, or hl.sparse_hessian if H is sparse",
    "naive": "method='rows' (n times fewer visits) or hl.hvp",
    "symmetric": "hl.hvp for a few products, or hl.sparse_hessian if H is sparse",
    "forward_over_forward": "hl.hvp for a few products, or hl.sparse_hessian if H is sparse",
    "hvp": "hl.hvp for the products you need, not all n of them",
    "tape": "hl.hvp for a few products, or hl.sparse_hessian if H is sparse",
    "colouring": "hl.sparse_hessian (a sparse result), or hl.hvp",
    "kernel": "method='tape', or hl.sparse_hessian",
    "edge_pushing": "method='tape', or hl.sparse_hessian",
    "sparse": "hl.hvp for the products you need",
    "nested": "a lower order k, or method='taylor' for small n",
    "taylor": "method='nested', or a lower order k",
}


def available_bytes():
    """What this process may still allocate: its address-space limit less what it uses, and the machine's free memory."""
    limits = []
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    status = _read_kib("/proc/self/status", "VmSize:")
    if soft != resource.RLIM_INFINITY:
        limits.append(soft - (status or 0))
    free = _read_kib("/proc/meminfo", "MemAvailable:")
    if free is not None:
        limits.append(free)
    return max(min(limits), 0) if limits else math.inf


def _read_kib(path, field):
    """The number of bytes in a `field: N kB` line of a /proc file, or None where there is no such file or line."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def dense_bytes(n, k):
    """A dense float64 array of shape (n,)*k."""
    return FLOAT * n**k


def estimate(graph, method, k=2, pattern_nnz=None, live_series=None):
    """Peak working bytes of `method` on `graph` for a k-th derivative (k = 2 for Hessians).

    pattern_nnz: the Hessian's structural nonzeros once its pattern is detected (n² if dense); None before
    detection, which the sparse methods then also pay for (PATTERN_BYTES at most); live_series: the most series
    Taylor mode holds at once (from live_nodes).
    """
    n, nodes = graph.n, graph.num_nodes
    result = dense_bytes(n, k)
    G = 4 * nodes * NODE  # |G| is at most about 4 times |f| in nodes, each held with its value
    tape = nodes * 4 * FLOAT  # slots and groups
    jacobian = min(FLOAT * nodes * n, JACOBIAN_BYTES)  # the dense tape keeps the Jacobian of every slot
    sweeps = 4 * BLOCK_BYTES  # a product H D sweeps values, tangents and their adjoints in blocks of directions
    if method in ("rows", "naive", "symmetric", "hvp", "forward_over_forward"):  # G (or a tangent graph) and H
        return G + 2 * result
    if method == "tape":
        return tape + jacobian + 4 * result
    if method in ("colouring", "sparse"):
        detection, nnz = (PATTERN_BYTES, n * n) if pattern_nnz is None else (0, pattern_nnz)
        return detection + tape + sweeps + 3 * FLOAT * nnz + (result if method == "colouring" else 0)
    if method == "kernel":  # its source and code, bounded by MAX_SOURCE; the tape if a value fails (to name it)
        return KERNEL_BYTES + tape + jacobian + 2 * result
    if method == "edge_pushing":
        pairs = n * (n + 1) // 2 if pattern_nnz is None else 2 * pattern_nnz
        return EDGE * pairs + nodes * NODE + result
    if method == "nested":  # the levels' growth is checked as they are built (check_next_level)
        graphs = sum(math.comb(n + j - 2, j - 1) for j in range(1, k)) * nodes * NODE
        return G + graphs + result
    if method == "taylor":
        directions = math.comb(n + k - 1, k)
        return directions * n + (live_series + 4) * directions * (k + 1) * FLOAT + result
    raise ValueError(f"no memory model for method {method!r}")


def live_nodes(graph):
    """The most nodes whose values a forward sweep must hold at once: each lives from its creation to its last use."""
    last_use = {a: position for position, node in enumerate(graph.nodes) for a in node.args}
    ends = sorted(last_use.values())
    most = live = 0
    j = 0
    for position in range(len(graph.nodes)):
        live += 1
        while j < len(ends) and ends[j] < position:
            live -= 1
            j += 1
        most = max(most, live)
    return most


def check_next_level(built_nodes, entries_now, entries_next, k):
    """Refuse the next level of nested derivatives if it would grow past the memory left, judged by the level just built.

    The next level builds entries_next derivative graphs where this one built entries_now, each up to GROWTH
    times larger: built_nodes * (entries_next / entries_now) * GROWTH new nodes.
    """
    needed = built_nodes * entries_next / max(entries_now, 1) * GROWTH * NODE
    if needed < SMALL:
        return
    available = available_bytes()
    if needed > HEADROOM * available:
        raise MemoryLimitError(
            f"method 'nested' would need about {needed / 2**30:.1f} GiB for its next level of derivative graphs "
            f"(k = {k}), more than the {available / 2**30:.1f} GiB this process can still use; use {CHEAPER['nested']}"
        )


def check(graph, method, k=2, pattern_nnz=None):
    """Raise a MemoryLimitError if `method` would need more than HEADROOM of the memory this process may use."""
    live = live_nodes(graph) if method == "taylor" else None
    needed = estimate(graph, method, k, pattern_nnz, live)
    if needed < SMALL:
        return
    available = available_bytes()
    if needed > HEADROOM * available:
        raise MemoryLimitError(
            f"method {method!r} would need about {needed / 2**30:.1f} GiB of working memory for n = {graph.n}"
            f"{f', k = {k}' if k != 2 else ''}, more than the {available / 2**30:.1f} GiB this process can still "
            f"use; use {CHEAPER[method]}"
        )
