"""hessian-lab: computation graphs, backprop, and Hessians by every method of the assignment, with exact work counts.

    import hessian_lab as hl
    f = lambda x: hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1]
    hl.hessian(f, [1.0, 2.0], method="rows", return_stats=True)
"""

from .api import derivative_tensor, gradient, hessian, hvp, sparse_hessian
from .backprop import GradientGraph, backprop
from .counting import Counter, counting
from .errors import (
    BranchError,
    DomainError,
    HessianLabError,
    MemoryLimitError,
    NodeConversionError,
    ParseError,
    ShapeError,
    TraceError,
)
from .forward import count_edges, evaluate, jvp, topological_order
from .graph import Graph, trace
from .hessian import METHODS as HESSIAN_METHODS
from .node import Node, to_text
from . import exercises  # hl.exercises.check(name, student_fn)
from .ops import abs, cos, dot, exp, log, relu, sigmoid, sin, sqrt, sum, tan, tanh  # noqa: A004
from .parse import parse

__version__ = "0.1.0"
