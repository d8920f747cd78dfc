"""hessian-lab: computation graphs, backprop, and Hessians by every method of the assignment, with exact work counts.

    import hessian_lab as hl
    f = lambda x: hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1]
    hl.hessian(f, [1.0, 2.0], method="rows", return_stats=True)

The functions of nodes (hl.sin, hl.exp, ..., hl.log1p, hl.softplus) are those of the primitive table, hessian_lab.ops;
numpy's own (np.sin(x), np.sum, x @ A) map to the same rows (hessian_lab.arrays).
"""

from . import exercises  # hl.exercises.check(name, student_fn)
from .api import (HESSIAN_METHODS, TENSOR_METHODS, Graph, derivative_tensor, evaluate, gradient, hessian,
                  hessian_operator, hvp, sparse_hessian, trace)
from .backprop import GradientGraph, backprop, jvp
from .counting import Counter, counting, uncounted
from .errors import (
    BranchError,
    DomainError,
    HessianLabError,
    MemoryLimitError,
    NodeConversionError,
    ParseError,
    RangeError,
    ShapeError,
    TraceError,
)
from .node import Node, count_edges, to_text, topological_order
from .ops import (abs, arctan, arctan2, ceil, cos, cosh, dot, exp, expm1, floor, hypot, log, log1p,  # noqa: A004
                  log2, log10, relu, round, sigmoid, sign, sin, sinh, softplus, sqrt, sum, tan, tanh)
from .parse import parse

__version__ = "0.1.0"
__all__ = ["Counter", "Graph", "GradientGraph", "HESSIAN_METHODS", "Node", "TENSOR_METHODS", "backprop", "count_edges",
           "counting", "derivative_tensor", "dot", "evaluate", "exercises", "gradient", "hessian", "hessian_operator",
           "hvp", "jvp", "parse", "sparse_hessian", "sum", "to_text", "topological_order", "trace", "uncounted",
           "BranchError", "DomainError", "HessianLabError", "MemoryLimitError", "NodeConversionError", "ParseError",
           "RangeError", "ShapeError", "TraceError", "abs", "arctan", "arctan2", "ceil", "cos", "cosh", "exp", "expm1",
           "floor", "hypot", "log", "log10", "log1p", "log2", "relu", "round", "sigmoid", "sign", "sin", "sinh", "softplus",
           "sqrt", "tan", "tanh"]
