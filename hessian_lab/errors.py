"""The one exception hierarchy: every error hessian-lab raises on purpose is a HessianLabError."""

import math
import sys

TINY = sys.float_info.min  # the smallest normal float, 2.2e-308: below it a product keeps fewer than 53 bits, or none
MANTISSA_BITS = sys.float_info.mant_dig  # 53: a term 2^53 times smaller than a sum is below its last bit


def would_show(lost, entry=0.0):
    """Whether a term of about 2**lost, lost to underflow, would have shown in an entry of size |entry|: it is a
    normal number with all its bits (a term near 1e-308 is imprecise in every order) and not below entry's last bit
    (where the entry is not known, as in a compressed product that mixes entries, 0)."""
    return lost >= math.log2(TINY) + MANTISSA_BITS and lost > math.log2(max(abs(entry), TINY)) - MANTISSA_BITS


class HessianLabError(ValueError):
    """Base class of every deliberate hessian-lab error; a ValueError, so plain `except ValueError` also works."""


class ShapeError(HessianLabError):
    """An input has the wrong shape or length: x0 is not 1-D, f reads x[5] with n = 3, v does not match n."""


class DomainError(HessianLabError):
    """An elementary operation left its domain or produced a non-finite number: log(-1), 1/0, exp(1000)."""


class RangeError(DomainError):
    """A number one method forms in its own order of products left the float range (1e-308 to 1e308) at this point,
    though f and its Hessian may not: method "rows" multiplies in another order, and "auto" falls back to it."""


class TraceError(HessianLabError):
    """f cannot be traced as written: it returns no scalar, or it branches on a value with no point to decide at."""


class BranchError(TraceError):
    """A trace is reused at a point where one of its recorded comparisons comes out the other way."""


class NodeConversionError(HessianLabError, TypeError):
    """A graph node was handed to float(), math.* or a numpy ufunc, which would silently cut its derivative."""


class ParseError(HessianLabError):
    """Expression text outside the course's grammar; says where and what was expected."""


class MemoryLimitError(HessianLabError):
    """A dense result would not fit in the memory budget; the message suggests the sparse method."""
