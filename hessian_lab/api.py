"""The function-first API: trace f at x0, then ask the trace. Each call here equals hl.trace(f, n, at=x0).<same>."""

from .graph import as_point, trace
from .graph_limits import check_dense_fits
from .higher import check_order


def _trace_at(f, x0):
    """Trace f at x0 (so that branches are decided there) and return the graph and the checked point."""
    point = as_point(x0)
    return trace(f, len(point), at=point), point


def gradient(f, x0, return_stats=False):
    """∇f(x0), an ndarray of shape (n,), by one backward pass."""
    graph, point = _trace_at(f, x0)
    return graph.gradient(point, return_stats)


def hessian(f, x0, method="auto", return_stats=False, **options):
    """∇²f(x0), an (n, n) ndarray.

    Methods: "rows" (row i = one backprop over G_i: n passes, O(n m)), "naive" (one pass per entry:
    n² passes, O(n² m)), "symmetric" (rows, upper triangle only), "forward_over_forward" (one tangent
    pass per entry j >= i), "hvp" (n Hessian-vector products); "auto" is the fastest exact one.
    With return_stats=True, returns (H, stats) with the exact work done (see hl.counting.work_report).
    """
    check_dense_fits(len(as_point(x0)), 2)  # before tracing: refuse at once what could never be returned
    graph, point = _trace_at(f, x0)
    return graph.hessian(point, method, return_stats, **options)


def hvp(f, x0, v, return_stats=False):
    """∇²f(x0) v in O(m), forward-over-reverse (Pearlmutter)."""
    graph, point = _trace_at(f, x0)
    return graph.hvp(point, v, return_stats)


def derivative_tensor(f, x0, k, return_stats=False, **options):
    """All k-th partial derivatives of f at x0, an ndarray of shape (n,)*k.

    method="nested" (the default) nests the gradient-graph construction as part (c) describes;
    method="taylor" propagates univariate Taylor series and interpolates (Griewank, Utke, Walther 2000).
    """
    check_order(len(as_point(x0)), k)  # before tracing, as for hessian
    graph, point = _trace_at(f, x0)
    return graph.derivative_tensor(point, k, return_stats, **options)


def sparse_hessian(f, x0, return_stats=False):
    """∇²f(x0) as a scipy.sparse CSR matrix: sparsity detected from the graph, star colouring, direct recovery."""
    graph, point = _trace_at(f, x0)
    return graph.sparse_hessian(point, return_stats)
