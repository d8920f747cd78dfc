"""Memory budgets: what this process may still allocate, byte sizes, and the checks that refuse work before it is spent.

A method's own estimate of its working memory lives beside its code (its row in hessian_lab.methods names
it); this file knows budgets, not methods. The budget is what the process may still allocate (its
RLIMIT_AS, and the machine's available memory), so a refusal comes at once, as a MemoryLimitError that
names the work and a cheaper way, instead of a raw MemoryError deep inside.
"""

import math
import numbers
import resource

import numpy as np

from .errors import HessianLabError, MemoryLimitError

FLOAT = 8  # one float64 in an array
PY_FLOAT = 40  # a Python float and the list or dict slot that holds it
NODE = 250  # a graph node, its args tuple, and the dict entries of a sweep that hold its value and adjoint
HEADROOM = 0.8  # the share of the available memory a method may plan to use
SMALL = 16 * 2**20  # below this, work runs without asking the operating system what is left (a hot path)
DENSE_LIMIT_BYTES = 2 * 2**30  # the largest dense result any method returns
MAX_ORDER = 32  # numpy arrays have at most 32 axes on numpy 1.x (64 on 2.x)


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


def check_fits(needed, what, purpose, cheaper):
    """Raise a MemoryLimitError if `what` would need more than HEADROOM of the memory this process may still use.

    The message reads "{what} would need about 3.1 GiB {purpose}, more than ...; use {cheaper}".
    """
    if needed < SMALL:
        return
    available = available_bytes()
    if needed > HEADROOM * available:
        raise MemoryLimitError(f"{what} would need about {needed / 2**30:.1f} GiB {purpose}, more than the "
                               f"{available / 2**30:.1f} GiB this process can still use; use {cheaper}")


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
