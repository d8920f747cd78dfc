"""Refuse, before allocating, dense results that would not fit in memory."""

from .errors import MemoryLimitError

DENSE_LIMIT_BYTES = 2 * 2**30


def check_dense_fits(n, k):
    """Raise a MemoryLimitError if a dense float64 array of shape (n,)*k would exceed DENSE_LIMIT_BYTES."""
    needed = 8 * n**k
    if needed > DENSE_LIMIT_BYTES:
        raise MemoryLimitError(
            f"a dense {'x'.join([str(n)] * k)} result needs {needed / 2**30:.1f} GiB, more than the "
            f"{DENSE_LIMIT_BYTES / 2**30:.0f} GiB limit; use hl.sparse_hessian or Hessian-vector products (hl.hvp)"
        )
