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
from .errors import DomainError, HessianLabError, NodeConversionError, ShapeError
from .node import Node, hold_piece


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
    public: bool = False  # a function students call as hl.<name> and write in the course syntax
    scalar: Optional[Callable] = None  # the same function on one Python float, for compiled kernels (math.sin); None: forward
    jumps: bool = False  # constant between jumps (floor, sign): derivative 0, and a traced f records its piece as a branch
    arity: int = 1  # how many arguments a public row takes in the course syntax (arctan2(y, x) takes 2)


def _powc_defined(a, p):
    """Where a ** p is differentiable: everywhere for whole p >= 0, a != 0 for whole p < 0, else a > 0."""
    if float(p).is_integer():
        return np.ones_like(a, dtype=bool) if p >= 0 else a != 0
    return a > 0


def _softplus(a):
    """log(1 + e^a) without overflow: max(a, 0) + log1p(e^-|a|)."""
    return (np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a))))[()]


def _off_the_cut(y, x):
    """Where arctan2(y, x) is differentiable: off its cut y = 0, x <= 0 (a jump of 2π, and (0, 0) itself)."""
    return (y != 0) | (x > 0)


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
    "sinh": Primitive(np.sinh, lambda a, y: (cosh(a),), taylor=series.sinh, public=True, scalar=math.sinh),
    "cosh": Primitive(np.cosh, lambda a, y: (sinh(a),), taylor=series.cosh, public=True, scalar=math.cosh),
    "arctan": Primitive(np.arctan, lambda a, y: (1 / (1 + a * a),), public=True, scalar=math.atan),
    "arctan2": Primitive(np.arctan2, lambda a, b, y: (b / (a * a + b * b), -a / (a * a + b * b)), _off_the_cut,
                         "a point off the cut y = 0, x <= 0, where arctan2(y, x) jumps by 2π (or is undefined at 0, 0)",
                         public=True, scalar=math.atan2, arity=2),
    "hypot": Primitive(np.hypot, lambda a, b, y: (a / y, b / y), lambda a, b: (a != 0) | (b != 0),
                       "a point other than (0, 0), where hypot is not differentiable", taylor=series.hypot,
                       public=True, scalar=math.hypot, arity=2),
    "log10": Primitive(np.log10, lambda a, y: (1 / (a * math.log(10)),), lambda a: a > 0, "a positive argument",
                       taylor=series.log10, public=True, scalar=math.log10),
    "log2": Primitive(np.log2, lambda a, y: (1 / (a * math.log(2)),), lambda a: a > 0, "a positive argument",
                      taylor=series.log2, public=True, scalar=math.log2),
    "expm1": Primitive(np.expm1, lambda a, y: (y + 1,), taylor=series.expm1, public=True, scalar=math.expm1),
    "sigmoid": Primitive(series.logistic, lambda a, y: (y * (1 - y),), taylor=series.sigmoid, public=True),
    "softplus": Primitive(_softplus, lambda a, y: (sigmoid(a),), public=True),
    # Kinks: the derivative at 0 is taken as 0, as PyTorch does (and JAX for relu; its abs takes 1 there, jax#37820);
    # AD differentiates the branch that ran.
    # Every method, Taylor mode included, reads this convention from these partials.
    "abs": Primitive(np.abs, lambda a, y: (apply("sign", a),), public=True),
    "relu": Primitive(lambda a: np.maximum(a, 0.0), lambda a, y: (step(a),), public=True),
    # Steps: constant between jumps, derivative 0 (as JAX takes it). sign is also abs's derivative, and step relu's.
    # np.floor(-0.5) is -0.0: a float like math.floor's int, so the kernel calls the forward (scalar None).
    "floor": Primitive(np.floor, lambda a, y: (0.0,), taylor=series.step, public=True, jumps=True),
    "ceil": Primitive(np.ceil, lambda a, y: (0.0,), taylor=series.step, public=True, jumps=True),
    "round": Primitive(np.rint, lambda a, y: (0.0,), taylor=series.step, public=True, jumps=True),
    "sign": Primitive(np.sign, lambda a, y: (0.0,), taylor=series.step, public=True, jumps=True),
    "step": Primitive(lambda a: np.greater(a, 0) * 1.0, lambda a, y: (0.0,), taylor=series.step),
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


def apply_row(op, *args):
    """op on nodes or numbers as f calls it (hl.floor, np.floor, the course syntax): a row that jumps also records,
    while f is traced, the piece it is on as a branch (node.hold_piece)."""
    y = apply(op, *args)
    return hold_piece(y) if PRIMITIVES[op].jumps else y


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


# The functions of nodes or numbers, one per row above: hl.sin & co. for the public rows; step is relu's
# derivative, which its partial calls.

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


def sinh(x):
    """Hyperbolic sine."""
    return apply("sinh", x)


def cosh(x):
    """Hyperbolic cosine."""
    return apply("cosh", x)


def arctan(x):
    """The inverse tangent, in (-π/2, π/2)."""
    return apply("arctan", x)


def arctan2(y, x):
    """The angle of the point (x, y), in (-π, π], as np.arctan2(y, x); a DomainError on its cut y = 0, x <= 0."""
    return apply("arctan2", y, x)


def hypot(a, b):
    """sqrt(a² + b²) without overflow; a DomainError at (0, 0), where it is not differentiable."""
    return apply("hypot", a, b)


def log10(x):
    """Logarithm to base 10; a DomainError for x <= 0."""
    return apply("log10", x)


def log2(x):
    """Logarithm to base 2; a DomainError for x <= 0."""
    return apply("log2", x)


def expm1(x):
    """e ** x - 1, exact for tiny x."""
    return apply("expm1", x)


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


def floor(x):
    """The largest whole number <= x, derivative 0; a traced f records the piece it is on as a branch."""
    return apply_row("floor", x)


def ceil(x):
    """The smallest whole number >= x, derivative 0; a traced f records the piece it is on as a branch."""
    return apply_row("ceil", x)


def round(x):  # noqa: A001  (np.round's name)
    """x rounded to the nearest whole number, halves to even (np.round), derivative 0; recorded as a branch."""
    return apply_row("round", x)


def sign(x):
    """The sign of x (-1, 0 or 1), derivative 0; a traced f records which it is as a branch."""
    return apply_row("sign", x)


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


def _round_to_whole(x, ndigits=None):
    """round(node): the round row; round(node, ndigits) has no row, and says so."""
    if ndigits is not None:
        raise NodeConversionError(f"round({x!r:.40}, {ndigits!r}) has no row in the primitive table; only round(x) "
                                  "(to a whole number) does")
    return round(x)


def _is_int_zero(value):
    """True for the int 0 that Python's sum() starts from."""
    return type(value) is int and value == 0


def _operator(operation, reflected):
    """Node's `node op other` (or `other op node`): a new node; with a numpy array on the other side, NotImplemented,
    as a float answers, so that numpy broadcasts the node over the array (hessian_lab.arrays); `0 + x` is x itself,
    so that Python's sum() adds no spurious node."""
    def method(self, other):
        if isinstance(other, np.ndarray):
            return NotImplemented
        if operation is add and _is_int_zero(other):
            return self
        return operation(other, self) if reflected else operation(self, other)
    return method


def _attach_operators():
    """Give Node its arithmetic from this table: `x + y` is add, `x ** 2` is powc, `-x` is neg, `abs(x)` is abs,
    and math.floor / math.ceil / round() the rows that jump. Comparisons stay Node's own."""
    binary = {"+": add, "-": sub, "*": mul, "/": div, "^": power}
    dunder = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "^": "pow"}
    for row in PRIMITIVES.values():
        if row.infix:
            operation, name = binary[row.infix], dunder[row.infix]
            setattr(Node, f"__{name}__", _operator(operation, reflected=False))
            setattr(Node, f"__r{name}__", _operator(operation, reflected=True))
    Node.__neg__ = neg
    Node.__pos__ = lambda self: self
    Node.__abs__ = abs
    Node.__floor__ = floor
    Node.__ceil__ = ceil
    Node.__round__ = _round_to_whole
    Node.INFIX = {op: row.infix for op, row in PRIMITIVES.items() if row.infix}
    Node.FUNCTIONS = frozenset(FUNCTIONS)


_attach_operators()

__all__ = ["PRIMITIVES", "Primitive", "FUNCTIONS", "apply", "add", "sub", "mul", "div", "neg", "power", "sum", "dot",
           *FUNCTIONS]
