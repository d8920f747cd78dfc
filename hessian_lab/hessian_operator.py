"""The Hessian of a traced f at a point as a scipy LinearOperator, so scipy's cg and eigsh can use it without H.

    op = hl.hessian_operator(f, x0)   # or g.hessian_operator(x0) to reuse a trace g = hl.trace(f, n)
    scipy.sparse.linalg.cg(op, -g)    # each product is one hvp: one forward-over-reverse pass of G, O(m)
    op.products                       # how many products scipy asked for
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .hessian import hvp
from .tracing import check_vector


class HessianOperator(LinearOperator):
    """∇²f(x) of a traced graph as an n × n LinearOperator whose matvec is one hvp at x; it counts its products.

    x is a checked point (the public layer checks it once); the operator keeps its own read-only copy, so the
    caller's array is never changed. H is symmetric, so the adjoint is the operator itself. matmat makes one
    product per column (exact, and each product shows in hl.counting() as the hvp's own passes and visits).
    """

    def __init__(self, graph, point, check_memory):
        self.graph = graph
        self.check_memory = check_memory  # called before each product: the public layer's memory check
        self.x = np.array(point, dtype=float)
        self.x.flags.writeable = False
        self.products = 0
        super().__init__(dtype=np.float64, shape=(graph.n, graph.n))

    def matvec(self, v):
        """H v; v is checked as hl.hvp checks it (shape (n,) or (n, 1), finite real numbers), with named errors."""
        if np.shape(v) == (self.graph.n, 1):  # a column, as scipy allows: checked flat, returned as a column
            return super().matvec(check_vector(np.ravel(np.asarray(v, dtype=object)), self.graph.n)[:, None])
        return super().matvec(check_vector(v, self.graph.n))

    def _matvec(self, v):
        """One Hessian-vector product at the checked point: a tangent pushed forward through G."""
        self.check_memory()
        Hv = hvp(self.graph, self.x, np.ravel(v))
        self.products += 1
        return Hv

    def _matmat(self, X):
        """H X, one product per column; a block of no columns gives an (n, 0) result."""
        return np.column_stack([self._matvec(column) for column in X.T]) if X.shape[1] else np.empty((self.graph.n, 0))

    def _rmatvec(self, v):
        """Hᵀ v = H v: the Hessian is symmetric."""
        return self._matvec(v)

    def _adjoint(self):
        """The operator itself, since H is symmetric."""
        return self
