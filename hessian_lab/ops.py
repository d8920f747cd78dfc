"""The table of primitives, and the functions students call on nodes (hl.sin, hl.exp, hl.sum, hl.dot, ...).

Each primitive is one row, and every rule about it lives in that row: a numpy forward, its local
partials written with these same functions, its domain in code and in words, its linear form if it is
affine, its Taylor-mode recurrence (or none, to have one derived from the partials), how it is written
in text, whether students call it as hl.<name> and in the course syntax, and the function of one float
that compiled kernels call in its place. Because partials are built
from graph ops, a derivative is itself a graph, and derivatives of derivatives come for free. The
functions, Node's operators, the package's exports and the parser's function list all come from here.
The functions students call (sin, exp, ...) are written out below the table, one `def` each.

The same rows serve numbers too: given floats (or arrays), every function here simply computes, so one
backprop routine builds graphs or numbers alike.
"""

import builtins
import math
import numbers
from typing import Callable, NamedTuple, Optional

import numpy as np

from . import series
from .counting import record_partials
from .errors import DomainError, HessianLabError, ShapeError
from .node import Node


class Primitive(NamedTuple):
    """One row of the table: how to compute an op, differentiate it, write it, and where it is defined."""

    forward: Callable  # numpy, on floats or arrays of any shape
    partials: Callable  # (args..., output) -> one local partial per argument, as graph ops
    domain: Optional[Callable] = None  # args -> where the op is defined and differentiable (elementwise bool)
    needs: str = ""  # the domain in words, for error messages
    nary: bool = False  # arguments come as one list (sum, dot)
    param: bool = False  # forward, partials, domain and linear also receive the node's parameter
    linear: Optional[Callable] = None  # (args, param) -> [(arg, weight)] where the node is affine in its args, else None
    taylor: Optional[Callable] = None  # a recurrence of hessian_lab.series; None: derived from the partials
    infix: Optional[str] = None  # the operator that writes it between its operands ("+"; powc's exponent is its param)
    symbol: Optional[str] = None  # how pictures label it ("×"); None: its infix, else its name
    public: bool = False  # a function of one node students call as hl.<name> and write in the course syntax
    scalar: Optional[Callable] = None  # the same function on one Python float, for compiled kernels (math.sin); None: forward


def _powc_defined(a, p):
    """Where a ** p is differentiable: everywhere for whole p >= 0, a != 0 for whole p < 0, else a > 0."""
    if float(p).is_integer():
        return np.ones_like(a, dtype=bool) if p >= 0 else a != 0
    return a > 0


def _softplus(a):
    """log(1 + e^a) without overflow: max(a, 0) + log1p(e^-|a|)."""
    return (np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a))))[()]


def _mul_linear(a, b):
    """a * c or c * b with c a constant node is affine: weight c."""
    if a.op == "const":
        return [(b, a.param)]
    if b.op == "const":
        return [(a, b.param)]
    return None


def _div_linear(a, b):
    """a / c with c a nonzero constant node is affine: weight 1/c (a / 0 stays a division, whose domain names it)."""
    return [(a, 1.0 / b.param)] if b.op == "const" and b.param != 0 else None


PRIMITIVES = {
    "add": Primitive(np.add, lambda a, b, y: (1.0, 1.0), linear=lambda a, b: [(a, 1.0), (b, 1.0)], infix="+"),
    "sub": Primitive(np.subtract, lambda a, b, y: (1.0, -1.0), linear=lambda a, b: [(a, 1.0), (b, -1.0)], infix="-",
                     symbol="−"),
    "mul": Primitive(np.multiply, lambda a, b, y: (b, a), linear=_mul_linear, taylor=series.mul, infix="*", symbol="×"),
    "div": Primitive(np.divide, lambda a, b, y: (1 / b, -y / b), lambda a, b: b != 0, "a nonzero divisor",
                     linear=_div_linear, taylor=series.div, infix="/", symbol="÷"),
    "neg": Primitive(np.negative, lambda a, y: (-1.0,), linear=lambda a: [(a, -1.0)], symbol="−"),
    "powc": Primitive(np.power, lambda a, y, p: (p * power(a, p - 1),), _powc_defined,
                      "a base where this power is differentiable (a > 0 for fractional exponents, a != 0 for negative ones)",
                      param=True, taylor=series.powc, infix="^", scalar=math.pow),
    "pow": Primitive(np.power, lambda a, b, y: (b * a ** (b - 1), y * log(a)), lambda a, b: a > 0,
                     "a positive base (x ** y means exp(y log x))", taylor=series.pow_, infix="^", scalar=math.pow),
    "sin": Primitive(np.sin, lambda a, y: (cos(a),), taylor=series.sin, public=True, scalar=math.sin),
    "cos": Primitive(np.cos, lambda a, y: (-sin(a),), taylor=series.cos, public=True, scalar=math.cos),
    "tan": Primitive(np.tan, lambda a, y: (1 + y * y,), lambda a: np.cos(a) != 0, "cos(a) != 0", taylor=series.tan,
                     public=True, scalar=math.tan),
    "exp": Primitive(np.exp, lambda a, y: (y,), taylor=series.exp, public=True, scalar=math.exp),
    "log": Primitive(np.log, lambda a, y: (1 / a,), lambda a: a > 0, "a positive argument", taylor=series.log,
                     public=True, scalar=math.log),
    "log1p": Primitive(np.log1p, lambda a, y: (1 / (1 + a),), lambda a: a > -1, "an argument above -1",
                       public=True, scalar=math.log1p),
    "sqrt": Primitive(np.sqrt, lambda a, y: (0.5 / y,), lambda a: a > 0,
                      "a positive argument (sqrt is not differentiable at 0)", taylor=series.sqrt,
                      public=True, scalar=math.sqrt),
    "tanh": Primitive(np.tanh, lambda a, y: (1 - y * y,), taylor=series.tanh, public=True, scalar=math.tanh),
    "sigmoid": Primitive(series.logistic, lambda a, y: (y * (1 - y),), taylor=series.sigmoid, public=True),
    "softplus": Primitive(_softplus, lambda a, y: (sigmoid(a),), public=True),
    # Kinks: the derivative at 0 is taken as 0, as PyTorch does (and JAX for relu; its abs takes 1 there, jax#37820);
    # AD differentiates the branch that ran.
    # Every method, Taylor mode included, reads this convention from these partials.
    "abs": Primitive(np.abs, lambda a, y: (sign(a),), public=True),
    "relu": Primitive(lambda a: np.maximum(a, 0.0), lambda a, y: (step(a),), public=True),
    "sign": Primitive(np.sign, lambda a, y: (0.0,)),
    "step": Primitive(lambda a: np.greater(a, 0) * 1.0, lambda a, y: (0.0,)),
    "sum": Primitive(lambda xs: builtins.sum(xs), lambda xs, y: (1.0,) * len(xs), nary=True,
                     linear=lambda xs: [(a, 1.0) for a in xs], symbol="Σ"),
    "dot": Primitive(lambda xs, c: np.tensordot(c, np.asarray(xs), 1), lambda xs, y, c: tuple(c), nary=True, param=True,
                     linear=lambda xs, c: list(zip(xs, c))),
}


def call(node_op, rule, args, param, *extra):
    """Call a primitive's forward, partials, domain or linear rule with the argument convention of its row."""
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
    if not all_finite(value):
        shown = ", ".join(_format(a) for a in args)
        raise DomainError(f"{op}({shown}) = {_format(value)} is not a finite number (overflow?)")
    return value


def all_finite(value):
    """math.isfinite for scalars (fast), np.isfinite for arrays (numpy 1.26 warns on math.isfinite of a 1-element array)."""
    if type(value) is float or np.ndim(value) == 0:
        return math.isfinite(value)
    return bool(np.all(np.isfinite(value)))


def _format(value):
    """A number or array, short, for messages."""
    return f"{value:.6g}" if np.ndim(value) == 0 else np.array2string(np.asarray(value), precision=4, threshold=6)


def linear_form(node):
    """[(argument, weight), ...] if the node is affine in its arguments (constants allowed), else None."""
    rule = PRIMITIVES[node.op].linear if node.args else None
    return None if rule is None else call(node.op, rule, node.args, node.param)


def number_of(value):
    """The plain number a value stands for (a number, or a constant node), else None."""
    if isinstance(value, Node):
        return value.param if value.op == "const" else None
    return value if isinstance(value, numbers.Real) else None


def constant(value):
    """A constant node, so that a number can stand as an argument of a graph node."""
    return Node("const", (), float(value))


def as_number(value, what):
    """A finite Python float for a real number (numpy scalars, Fractions and big ints included), or a named error."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        kind = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
        error = ShapeError if isinstance(value, (np.ndarray, list, tuple)) else HessianLabError
        raise error(f"{what} got {kind} ({value!r:.60}); it works on one scalar node or number at a time")
    try:
        number = float(value)
    except OverflowError:
        raise DomainError(f"{what} got the number {value!r:.40}, too large for a float") from None
    if not math.isfinite(number):
        raise DomainError(f"{what} got the constant {value!r:.40}; constants must be finite numbers")
    return number


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
        elif isinstance(a, Node):
            checked.append(a)
        else:
            checked.append(as_number(a, op))
    if not any(type(a) is Node for a in checked):
        with np.errstate(all="ignore"):
            return float(evaluate_op(op, checked, param))
    return Node(op, tuple(a if type(a) is Node else constant(a) for a in checked), param)


# The functions of one node or number, one per row above: hl.sin & co. for the public rows; sign and step are
# the derivatives of abs and relu, which their partials call.

def sin(x):
    """Sine of a node or number."""
    return apply("sin", x)


def cos(x):
    """Cosine of a node or number."""
    return apply("cos", x)


def tan(x):
    """Tangent; a DomainError where cos(x) = 0."""
    return apply("tan", x)


def exp(x):
    """e ** x."""
    return apply("exp", x)


def log(x):
    """Natural logarithm; a DomainError for x <= 0."""
    return apply("log", x)


def log1p(x):
    """log(1 + x), exact for tiny x; a DomainError for x <= -1."""
    return apply("log1p", x)


def sqrt(x):
    """Square root; a DomainError for x <= 0, where it is not differentiable."""
    return apply("sqrt", x)


def tanh(x):
    """Hyperbolic tangent."""
    return apply("tanh", x)


def sigmoid(x):
    """The logistic function 1 / (1 + e ** -x), computed stably."""
    return apply("sigmoid", x)


def softplus(x):
    """log(1 + e ** x), computed stably: a smooth relu whose derivative is sigmoid(x)."""
    return apply("softplus", x)


def abs(x):  # noqa: A001  (hl.abs is the course's name)
    """|x|, with derivative sign(x), taken as 0 at the kink x = 0."""
    return apply("abs", x)


def relu(x):
    """max(x, 0), with derivative 1 for x > 0 and 0 for x <= 0 (the kink takes 0)."""
    return apply("relu", x)


def sign(x):
    """The sign of x (-1, 0 or 1): abs's derivative, whose own derivative is 0."""
    return apply("sign", x)


def step(x):
    """1 where x > 0 and 0 elsewhere: relu's derivative, whose own derivative is 0."""
    return apply("step", x)


FUNCTIONS = {name: globals()[name] for name, row in PRIMITIVES.items() if row.public}  # hl.<name>, exported


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
    p = as_number(exponent, "**")
    if p == 0:
        return 1.0
    if p == 1:
        return base
    return apply("powc", base, param=p)


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
    if np.asarray(coefficients).dtype.kind in "USVbcmMO" and not all(
            isinstance(c, numbers.Real) and not isinstance(c, (bool, np.bool_)) for c in np.ravel(coefficients)):
        raise HessianLabError(f"hl.dot's coefficients must be real numbers, not {coefficients!r:.60}")
    try:
        c = np.asarray(coefficients, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise HessianLabError(f"hl.dot's coefficients must be numbers, not {coefficients!r:.60}") from None
    if c.shape != (len(terms),):
        raise ShapeError(f"hl.dot got {c.shape} coefficients for {len(terms)} terms; they must match one to one")
    if not np.all(np.isfinite(c)):
        raise DomainError("hl.dot got a coefficient that is not a finite number")
    if not any(isinstance(t, Node) for t in terms):
        return float(np.dot(c, [as_number(t, "hl.dot") for t in terms]))
    return apply("dot", *terms, param=c)


def local_partials(node, values=None):
    """The node's local partials, one per argument: graph nodes when `values` is None, else numbers at those values.

    Every sweep, the engine's and a student's, differentiates through here, so each call is counted in the
    process-wide tally (counting.record_partials), which the exercise checker reads.
    """
    record_partials()
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


def _is_int_zero(value):
    """True for the int 0 that Python's sum() starts from."""
    return type(value) is int and value == 0


def _attach_operators():
    """Give Node its arithmetic from this table: `x + y` is add, `x ** 2` is powc, `-x` is neg, `abs(x)` is abs.

    `0 + x` is x itself, so that Python's sum() adds no spurious node. Comparisons stay Node's own.
    """
    binary = {"+": add, "-": sub, "*": mul, "/": div, "^": power}
    dunder = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "^": "pow"}
    for row in PRIMITIVES.values():
        if row.infix:
            operation, name = binary[row.infix], dunder[row.infix]
            setattr(Node, f"__{name}__", lambda self, other, operation=operation: operation(self, other))
            setattr(Node, f"__r{name}__", lambda self, other, operation=operation: operation(other, self))
    Node.__add__ = lambda self, other: self if _is_int_zero(other) else add(self, other)
    Node.__radd__ = lambda self, other: self if _is_int_zero(other) else add(other, self)
    Node.__neg__ = neg
    Node.__pos__ = lambda self: self
    Node.__abs__ = abs
    Node.INFIX = {op: row.infix for op, row in PRIMITIVES.items() if row.infix}
    Node.FUNCTIONS = frozenset(FUNCTIONS)


_attach_operators()

__all__ = ["PRIMITIVES", "Primitive", "FUNCTIONS", "apply", "add", "sub", "mul", "div", "neg", "power", "sum", "dot",
           *FUNCTIONS]
