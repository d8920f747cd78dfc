"""The table of primitives, and the functions students call on nodes (hl.sin, hl.exp, hl.sum, hl.dot, ...).

Each primitive is one row: a numpy forward, its local partials written with these same functions, and
its domain. Because the partials are built from graph ops, a derivative is itself a graph, and
derivatives of derivatives come for free. The same rows serve numbers too: given floats (or arrays),
every function here simply computes, so one backprop routine builds graphs or numbers alike.
"""

import builtins
import math
import numbers
from typing import Callable, NamedTuple

import numpy as np

from .errors import DomainError, HessianLabError, ShapeError
from .node import Node, to_text


class Primitive(NamedTuple):
    """One row of the table: how to compute an op, differentiate it, and where it is defined."""

    forward: Callable  # numpy, on floats or arrays of any shape
    partials: Callable  # (args..., output) -> one local partial per argument, as graph ops
    domain: Callable = None  # args -> where the op is defined and differentiable (elementwise bool)
    needs: str = ""  # the domain in words, for error messages
    nary: bool = False  # arguments come as one list (sum, dot)
    param: bool = False  # forward, partials and domain also receive the node's parameter


def _powc_defined(a, p):
    """Where a ** p is differentiable: everywhere for whole p >= 0, a != 0 for whole p < 0, else a > 0."""
    if float(p).is_integer():
        return np.ones_like(a, dtype=bool) if p >= 0 else a != 0
    return a > 0


def _logistic(a):
    """1 / (1 + e^-a) without overflow for any a: exp only ever sees -|a|."""
    e = np.exp(-np.abs(a))
    return np.where(np.greater_equal(a, 0), 1 / (1 + e), e / (1 + e))[()]


PRIMITIVES = {
    "add": Primitive(np.add, lambda a, b, y: (1.0, 1.0)),
    "sub": Primitive(np.subtract, lambda a, b, y: (1.0, -1.0)),
    "mul": Primitive(np.multiply, lambda a, b, y: (b, a)),
    "div": Primitive(np.divide, lambda a, b, y: (1 / b, -y / b), lambda a, b: b != 0, "a nonzero divisor"),
    "neg": Primitive(np.negative, lambda a, y: (-1.0,)),
    "powc": Primitive(np.power, lambda a, y, p: (p * power(a, p - 1),), _powc_defined,
                      "a base where this power is differentiable (a > 0 for fractional exponents, a != 0 for negative ones)",
                      param=True),
    "pow": Primitive(np.power, lambda a, b, y: (b * a ** (b - 1), y * log(a)), lambda a, b: a > 0,
                     "a positive base (x ** y means exp(y log x))"),
    "sin": Primitive(np.sin, lambda a, y: (cos(a),)),
    "cos": Primitive(np.cos, lambda a, y: (-sin(a),)),
    "tan": Primitive(np.tan, lambda a, y: (1 + y * y,), lambda a: np.cos(a) != 0, "cos(a) != 0"),
    "exp": Primitive(np.exp, lambda a, y: (y,)),
    "log": Primitive(np.log, lambda a, y: (1 / a,), lambda a: a > 0, "a positive argument"),
    "sqrt": Primitive(np.sqrt, lambda a, y: (0.5 / y,), lambda a: a > 0,
                      "a positive argument (sqrt is not differentiable at 0)"),
    "tanh": Primitive(np.tanh, lambda a, y: (1 - y * y,)),
    "sigmoid": Primitive(_logistic, lambda a, y: (y * (1 - y),)),
    # Kinks: the derivative at 0 is taken as 0, as PyTorch and JAX do; AD differentiates the branch that ran.
    "abs": Primitive(np.abs, lambda a, y: (sign(a),)),
    "relu": Primitive(lambda a: np.maximum(a, 0.0), lambda a, y: (step(a),)),
    "sign": Primitive(np.sign, lambda a, y: (0.0,)),
    "step": Primitive(lambda a: np.greater(a, 0) * 1.0, lambda a, y: (0.0,)),
    "sum": Primitive(lambda xs: builtins.sum(xs), lambda xs, y: (1.0,) * len(xs), nary=True),
    "dot": Primitive(lambda xs, c: np.tensordot(c, np.asarray(xs), 1), lambda xs, y, c: tuple(c), nary=True, param=True),
}


def call(node_op, rule, args, param, *extra):
    """Call a primitive's forward, partials or domain rule with the argument convention of its row."""
    prim = PRIMITIVES[node_op]
    head = (list(args),) if prim.nary else tuple(args)
    return rule(*head, *extra, param) if prim.param else rule(*head, *extra)


def evaluate_op(op, args, param=None):
    """The value of `op` on numeric args, with its domain checked: a DomainError names the op and the value.

    Callers looping over many nodes wrap the loop in np.errstate(all="ignore"); this function checks instead.
    """
    prim = PRIMITIVES[op]
    if prim.domain is not None and not np.all(call(op, prim.domain, args, param)):
        shown = ", ".join(_format(a) for a in args)
        raise DomainError(f"{op}({shown}) is outside the domain of {op}: it needs {prim.needs}")
    value = call(op, prim.forward, args, param)
    if not _all_finite(value):
        shown = ", ".join(_format(a) for a in args)
        raise DomainError(f"{op}({shown}) = {_format(value)} is not a finite number (overflow?)")
    return value


def _all_finite(value):
    """math.isfinite for scalars (fast), np.isfinite for arrays."""
    try:
        return math.isfinite(value)
    except TypeError:
        return bool(np.all(np.isfinite(value)))


def _format(value):
    """A number or array, short, for messages."""
    return f"{value:.6g}" if np.ndim(value) == 0 else np.array2string(np.asarray(value), precision=4, threshold=6)


def number_of(value):
    """The plain number a value stands for (a number, or a constant node), else None."""
    if isinstance(value, Node):
        return value.param if value.op == "const" else None
    return value if isinstance(value, numbers.Real) else None


def constant(value):
    """A constant node, so that a number can stand as an argument of a graph node."""
    return Node("const", (), float(value))


def _operand(value, op):
    """Check one argument of `op`: a node stays a node, a constant node or finite real number becomes a float."""
    if isinstance(value, Node):
        return float(value.param) if value.op == "const" else value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return _operand(value.item(), op)
        kind = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
        error = ShapeError if isinstance(value, (np.ndarray, list, tuple)) else HessianLabError
        raise error(f"{op} got {kind} ({value!r:.60}); it works on one scalar node or number at a time")
    if not np.isfinite(value):
        raise DomainError(f"{op} got the constant {value}; constants must be finite numbers")
    return float(value)


def apply(op, *args, param=None):
    """A new node computing `op` on args; with no node among them, just the number (constants fold)."""
    for a in args:
        if type(a) is not Node or a.op == "const":
            return _apply_mixed(op, args, param)
    return Node(op, args, param)


def _apply_mixed(op, args, param):
    """apply() where some argument is a number or a constant node: check, fold, or wrap numbers as constants."""
    checked = []
    for a in args:
        if type(a) is Node:
            checked.append(a.param if a.op == "const" else a)
        elif type(a) is float and math.isfinite(a):
            checked.append(a)
        elif type(a) is int and -(2**53) <= a <= 2**53:
            checked.append(float(a))
        else:
            checked.append(_operand(a, op))
    if not any(type(a) is Node for a in checked):
        with np.errstate(all="ignore"):
            return float(evaluate_op(op, checked, param))
    return Node(op, tuple(a if type(a) is Node else constant(a) for a in checked), param)


def add(a, b):
    """a + b."""
    return apply("add", a, b)


def sub(a, b):
    """a - b."""
    return apply("sub", a, b)


def mul(a, b):
    """a * b."""
    return apply("mul", a, b)


def div(a, b):
    """a / b; dividing by zero is a DomainError."""
    return apply("div", a, b)


def neg(a):
    """-a."""
    return apply("neg", a)


def power(base, exponent):
    """base ** exponent: a constant exponent is a `powc` node (defined for negative bases too), a node one is `pow`."""
    if isinstance(exponent, Node):
        return apply("pow", base, exponent)
    p = _operand(exponent, "**")
    if p == 0:
        return 1.0
    if p == 1:
        return base
    return apply("powc", base, param=p)


def sin(x):
    """Sine of a node or number."""
    return apply("sin", x)


def cos(x):
    """Cosine of a node or number."""
    return apply("cos", x)


def tan(x):
    """Tangent of a node or number."""
    return apply("tan", x)


def exp(x):
    """e ** x."""
    return apply("exp", x)


def log(x):
    """Natural logarithm; a DomainError for x <= 0."""
    return apply("log", x)


def sqrt(x):
    """Square root; a DomainError for x <= 0, where it is not differentiable."""
    return apply("sqrt", x)


def tanh(x):
    """Hyperbolic tangent."""
    return apply("tanh", x)


def sigmoid(x):
    """The logistic function 1 / (1 + e ** -x), computed stably."""
    return apply("sigmoid", x)


def abs(x):  # noqa: A001  (hl.abs is the course's name)
    """|x|, with derivative sign(x), taken as 0 at the kink x = 0."""
    return apply("abs", x)


def relu(x):
    """max(x, 0), with derivative 1 for x > 0 and 0 for x <= 0 (the kink takes 0)."""
    return apply("relu", x)


def sign(x):
    """The sign of x (-1, 0 or 1): the derivative of abs, whose own derivative is 0."""
    return apply("sign", x)


def step(x):
    """1 where x > 0 and 0 elsewhere: the derivative of relu, whose own derivative is 0."""
    return apply("step", x)


def sum(terms):  # noqa: A001  (hl.sum is the course's name)
    """One n-ary sum node for many terms; Python's sum() works too but builds a chain of n adds."""
    terms = list(terms)
    if len(terms) == 1:
        return terms[0]
    if not any(isinstance(t, Node) for t in terms):
        return builtins.sum(terms, 0.0)
    return apply("sum", *terms)


def dot(coefficients, terms):
    """Σ_k coefficients[k] * terms[k] as one node, for fixed numeric coefficients (a row of A in A @ x)."""
    terms = list(terms)
    c = np.asarray(coefficients, dtype=float)
    if c.shape != (len(terms),):
        raise ShapeError(f"hl.dot got {c.shape} coefficients for {len(terms)} terms; they must match one to one")
    if not np.all(np.isfinite(c)):
        raise DomainError("hl.dot got a coefficient that is not a finite number")
    if not any(isinstance(t, Node) for t in terms):
        return float(np.dot(c, np.asarray(terms, dtype=float)))
    return apply("dot", *terms, param=c)


def local_partials(node, values=None):
    """The node's local partials, one per argument: graph nodes when `values` is None, else numbers at those values."""
    if values is None:
        return call(node.op, PRIMITIVES[node.op].partials, node.args, node.param, node)
    args = [values[a] for a in node.args]
    return call(node.op, PRIMITIVES[node.op].partials, args, node.param, values[node])


def times(a, b):
    """a * b for backprop and tangents, folding the products with 0 and 1 (no `g * 1`, no `0 * g`); None means 0."""
    na, nb = number_of(a), number_of(b)
    if na == 0 or nb == 0:
        return None
    if na == 1:
        return b
    if nb == 1:
        return a
    return a * b


__all__ = ["PRIMITIVES", "Primitive", "apply", "to_text"]
