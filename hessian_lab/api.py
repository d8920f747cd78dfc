"""The public layer: every call checks its point, method and options once, runs one method, and attaches its stats.

hl.hessian(f, x0) is hl.trace(f, n, at=x0).hessian(x0): both go through `_run`. The methods below this
layer are pure functions of a graph and a checked point; they count their own work as they go.
"""

import functools
import inspect
import math
import numbers

import numpy as np

from . import graph as graph_module, memory
from .backprop import gradient as backprop_gradient, gradient_graph
from .beyond.edge_pushing import hessian_edge_pushing
from .beyond.taylor import taylor_tensor
from .counting import counting
from .errors import HessianLabError, MemoryLimitError
from .fast.sparse import detected_nnz, hessian_colouring, sparse_hessian as colouring_sparse_hessian, sparse_plan
from .fast.kernel import has_kernel, hessian_kernel
from .fast.tape import hessian_tape, tape_of
from .forward import as_point, check_vector
from .hessian_operator import HessianOperator
from .hessian import (hessian_by_hvp, hessian_forward_over_forward, hessian_naive, hessian_rows, hessian_symmetric,
                      hvp as hessian_vector_product)
from .higher import nested_tensor

HESSIAN_METHODS = {
    "rows": hessian_rows,
    "naive": hessian_naive,
    "symmetric": hessian_symmetric,
    "forward_over_forward": hessian_forward_over_forward,
    "hvp": hessian_by_hvp,
    "edge_pushing": hessian_edge_pushing,
    "tape": hessian_tape,
    "colouring": hessian_colouring,
    "kernel": hessian_kernel,
}
TENSOR_METHODS = {"nested": nested_tensor, "taylor": taylor_tensor}
SPARSE_METHODS = {"colouring", "sparse", "edge_pushing"}  # sized by the Hessian's pattern once it is detected
USES_G = {"rows", "naive", "symmetric", "hvp", "nested"}  # the methods that sweep the gradient graph G, whose size they report

DENSE_LIMIT_BYTES = 2 * 2**30


MAX_ORDER = 32  # numpy arrays have at most 32 axes on numpy 1.x (64 on 2.x)


def check_dense_fits(n, k):
    """Raise a MemoryLimitError if a dense float64 array of shape (n,)*k would exceed DENSE_LIMIT_BYTES (sized by logs)."""
    if n > 1 and k * math.log2(n) + 3 > math.log2(DENSE_LIMIT_BYTES):
        shape = "x".join([str(n)] * k) if k <= 4 else f"{n}^{k}"
        exponent = k * math.log2(n) + 3 - 30
        size = f"{2 ** exponent:.3g} GiB" if exponent < 1000 else f"2^{exponent:.0f} GiB"
        raise MemoryLimitError(
            f"a dense {shape} result needs {size}, more than the "
            f"{DENSE_LIMIT_BYTES / 2**30:.0f} GiB limit; use hl.sparse_hessian or Hessian-vector products (hl.hvp)"
        )


def check_order(n, k):
    """k as an int: a whole number from 1 to MAX_ORDER (numpy integers too) whose dense (n,)*k result fits in memory."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 1:
        raise HessianLabError(f"k must be a whole number >= 1, not {k!r}")
    check_dense_fits(n, int(k))
    if k > MAX_ORDER:
        raise HessianLabError(f"k = {k} is above {MAX_ORDER}, the most axes a numpy array may have (numpy 1.x)")
    return int(k)


def check_method(method, methods, what):
    """The method's name, if it is one of `methods` (or "auto" for Hessians); else a HessianLabError listing them."""
    names = (["auto"] if what == "Hessian" else []) + list(methods)
    if not isinstance(method, str) or method not in names:
        raise HessianLabError(f"unknown {what} method {method!r}; choose one of: {', '.join(names)}")
    return method


@functools.lru_cache(maxsize=64)  # one entry per method function
def accepted_options(function):
    """The options a method function takes: its parameters after (graph, point), k aside (read once per function)."""
    return tuple(p for p in list(inspect.signature(function).parameters)[2:] if p != "k")


def check_options(function, method, options):
    """A HessianLabError naming an option the method does not take, and the options it does."""
    accepted = accepted_options(function)
    unknown = [name for name in options if name not in accepted]
    if unknown:
        offer = f"its options are: {', '.join(accepted)}" if accepted else "it takes no options"
        raise HessianLabError(f"method {method!r} does not take {', '.join(map(repr, unknown))}; {offer}")


REUSED = "reused by auto"  # the key, in a graph's cache, that marks a trace auto has already differentiated once


def fastest_exact(graph):
    """The method "auto" stands for: the compiled kernel from auto's second call on a trace on, where its source is
    short; else colouring when the pattern needs fewer products than n; else the tape.

    Compiling a kernel costs as much as a few hundred of its calls, so a trace used once (hl.hessian(f, x0)) never
    pays for it; a trace that is reused (Newton's method) pays once, on auto's second call. Calls that name a
    method do not count.
    """
    if graph.has_cached(REUSED) and has_kernel(graph):
        return "kernel"
    graph.cached(REUSED, lambda: True)
    plan = sparse_plan(graph)
    return "colouring" if plan is not None and plan.num_colours < graph.n else "tape"


def work_report(graph, method, counter, **extra):
    """The stats dict of a call: sizes of f (and of G, for the methods that sweep it) and the counts of one call.

    n: inputs; m: edges of f's graph; f_nodes: its nodes; G_nodes, G_edges: the gradient graph's;
    G_over_f: |G| / |f| in edges; then the Counter's fields (passes, visits, builds, build_visits,
    evaluations) and whatever the method measured.
    """
    report = {"method": method, "n": graph.n, "m": graph.m, "f_nodes": graph.num_nodes}
    if method in USES_G:
        G = gradient_graph(graph)
        report.update(G_nodes=len(G.nodes), G_edges=G.num_edges, G_over_f=G.ratio())
    report.update(counter.as_dict())
    report.update(counter.details)
    report.update(extra)
    return report


def check_memory(graph, method, k=2):
    """Refuse a method whose working memory would not fit, before it starts; sparse methods are sized by their pattern.

    Before the pattern is detected, a sparse method is sized as if H were dense, plus the detection; if that does
    not fit, the pattern is detected (its memory is bounded) and the method sized by it.
    """
    if method not in SPARSE_METHODS:
        memory.check(graph, method, k)
        return
    nnz = detected_nnz(graph)
    try:
        memory.check(graph, method, k, pattern_nnz=nnz)
    except MemoryLimitError:
        if nnz is not None:
            raise
        sparse_plan(graph)
        memory.check(graph, method, k, pattern_nnz=detected_nnz(graph))


def _run(graph, method, compute, return_stats, **extra):
    """compute(), and with return_stats also the report of the exact work it did on `graph`."""
    with counting() as counter:
        result = compute()
    return (result, work_report(graph, method, counter, **extra)) if return_stats else result


# Each public call checks its arguments once, then runs one of these on a checked point.

def _gradient(graph, point, return_stats):
    """∇f by one backward pass over f's graph."""
    return _run(graph, "gradient", lambda: backprop_gradient(graph, point), return_stats)


def _hessian(graph, point, method, return_stats, options):
    """∇²f by a checked method; "auto" resolves here, and its choice is checked against the options."""
    chosen = fastest_exact(graph) if method == "auto" else method
    if method == "auto" and options:
        try:
            check_options(HESSIAN_METHODS[chosen], chosen, options)
        except HessianLabError as error:
            raise HessianLabError(f"the default method \"auto\" chose {chosen!r} here: {error}; name the method "
                                  "the option belongs to, e.g. method='rows'") from None
    extra = {"chosen_by": "auto"} if method == "auto" else {}
    check_memory(graph, chosen)
    return _run(graph, chosen, lambda: HESSIAN_METHODS[chosen](graph, point, **options), return_stats, **extra)


def _hvp(graph, point, direction, return_stats):
    """∇²f v by one forward-over-reverse pass over G."""
    return _run(graph, "hvp", lambda: hessian_vector_product(graph, point, direction), return_stats)


def _derivative_tensor(graph, point, k, method, return_stats, options):
    """The k-th derivative tensor by a checked method."""
    check_memory(graph, method, k)
    return _run(graph, method, lambda: TENSOR_METHODS[method](graph, point, k, **options), return_stats)


def _sparse_hessian(graph, point, return_stats):
    """∇²f as CSR, by colouring."""
    check_memory(graph, "sparse")
    return _run(graph, "sparse", lambda: colouring_sparse_hessian(graph, point), return_stats)


def _checked_hessian_call(n, method, options):
    """The checks of a Hessian call that need no trace: the result fits, the method exists, it takes the options."""
    check_dense_fits(n, 2)
    check_method(method, HESSIAN_METHODS, "Hessian")
    if method != "auto":
        check_options(HESSIAN_METHODS[method], method, options)


def _checked_tensor_call(n, k, method, options):
    """The checks of a derivative_tensor call that need no trace; returns k as an int."""
    k = check_order(n, k)
    check_method(method, TENSOR_METHODS, "derivative_tensor")
    check_options(TENSOR_METHODS[method], method, options)
    return k


class Graph(graph_module.Graph):
    """A traced f, with every method of the package: the same path as hl.gradient, hl.hessian, ... at a new point.

    The graph itself (inputs, output, nodes, m, n, branches, point(), value()) is hessian_lab.graph.Graph.
    """

    def gradient_graph(self):
        """The gradient graph G, built once per trace and reused by every row and every call."""
        return gradient_graph(self)

    def tape(self):
        """The graph compiled for vectorised sweeps (hessian_lab.fast.tape.Tape), built once per trace."""
        return tape_of(self)

    def sparse_plan(self):
        """The Hessian's sparsity pattern, star colouring and recovery map, built once per trace; None if dense."""
        return sparse_plan(self)

    def gradient(self, x0, return_stats=False):
        """∇f(x0) by one backward pass: O(m)."""
        return _gradient(self, self.point(x0), return_stats)

    def hessian(self, x0, method="auto", return_stats=False, **options):
        """∇²f(x0) by `method` (see hl.hessian); with return_stats, also the exact work done."""
        _checked_hessian_call(self.n, method, options)
        return _hessian(self, self.point(x0), method, return_stats, options)

    def hvp(self, x0, v, return_stats=False):
        """∇²f(x0) v in one forward-over-reverse pass over G: O(m) (Pearlmutter)."""
        direction = check_vector(v, self.n)
        return _hvp(self, self.point(x0), direction, return_stats)

    def derivative_tensor(self, x0, k, return_stats=False, method="nested", **options):
        """All k-th partial derivatives at x0, an array of shape (n,)*k (see hl.derivative_tensor)."""
        k = _checked_tensor_call(self.n, k, method, options)
        return _derivative_tensor(self, self.point(x0), k, method, return_stats, options)

    def sparse_hessian(self, x0, return_stats=False):
        """∇²f(x0) as a scipy.sparse CSR matrix, by one vectorised product per colour."""
        return _sparse_hessian(self, self.point(x0), return_stats)

    def hessian_operator(self, x0):
        """∇²f(x0) as a scipy LinearOperator whose every product is one hvp (for scipy's cg and eigsh); it counts them."""
        return HessianOperator(self, x0)


def trace(f, n, at=None):
    """Run f once on n input nodes and return its computation Graph.

    `at` is needed only if f branches on a value (`if x[0] > 0`, `max(x[0], x[1])`): the branch is
    decided there, recorded, and checked whenever the graph is reused at another point.
    """
    return graph_module.trace(f, n, at, graph_class=Graph)


def _trace_at(f, point):
    """Trace f at a checked point (so that branches are decided there)."""
    return trace(f, len(point), at=point)


def gradient(f, x0, return_stats=False):
    """∇f(x0), an ndarray of shape (n,), by one backward pass."""
    point = as_point(x0)
    return _gradient(_trace_at(f, point), point, return_stats)


def hessian(f, x0, method="auto", return_stats=False, **options):
    """∇²f(x0), an (n, n) ndarray.

    Methods: "rows" (row i = one backprop over G_i: n passes, O(n m)), "naive" (one pass per entry:
    n² passes, O(n² m)), "symmetric" (rows, upper triangle only), "forward_over_forward" (one tangent
    pass per entry j >= i), "hvp" (n Hessian-vector products), "edge_pushing", "tape", "colouring";
    "auto" (the default) is the fastest exact one, and its stats name the method it chose.
    With return_stats=True, returns (H, stats) with the exact work done (see hessian_lab.api.work_report).
    """
    point = as_point(x0)
    _checked_hessian_call(len(point), method, options)  # before tracing: refuse at once what could never run
    return _hessian(_trace_at(f, point), point, method, return_stats, options)


def hvp(f, x0, v, return_stats=False):
    """∇²f(x0) v in O(m), forward-over-reverse (Pearlmutter)."""
    point = as_point(x0)
    direction = check_vector(v, len(point))
    return _hvp(_trace_at(f, point), point, direction, return_stats)


def derivative_tensor(f, x0, k, return_stats=False, method="nested", **options):
    """All k-th partial derivatives of f at x0, an ndarray of shape (n,)*k.

    method="nested" (the default) nests the gradient-graph construction as part (c) describes;
    method="taylor" propagates univariate Taylor series and interpolates (Griewank, Utke, Walther 2000).
    """
    point = as_point(x0)
    k = _checked_tensor_call(len(point), k, method, options)  # before tracing, as for hessian
    return _derivative_tensor(_trace_at(f, point), point, k, method, return_stats, options)


def sparse_hessian(f, x0, return_stats=False):
    """∇²f(x0) as a scipy.sparse CSR matrix: sparsity detected from the graph, star colouring, direct recovery."""
    point = as_point(x0)
    return _sparse_hessian(_trace_at(f, point), point, return_stats)


def hessian_operator(f, x0):
    """∇²f(x0) as a scipy LinearOperator (hessian_lab.hessian_operator.HessianOperator): H is never formed."""
    point = as_point(x0)
    return HessianOperator(_trace_at(f, point), point)
