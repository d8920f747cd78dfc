"""Scalar graph nodes: one node per elementary operation, made by ordinary Python arithmetic on nodes."""

import itertools

import numpy as np

from .errors import NodeConversionError

_next_id = itertools.count().__next__


class Node:
    """One elementary operation: its op name, its argument nodes, and a parameter.

    The parameter is a constant's value, an input's index, a constant exponent, or dot coefficients.
    Ids grow with creation and arguments exist before their users, so sorting nodes by id is a
    topological order: no recursion is ever needed, whatever the depth.
    """

    __slots__ = ("op", "args", "param", "id")

    def __init__(self, op, args=(), param=None):
        self.op = op
        self.args = args
        self.param = param
        self.id = _next_id()

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<Node #{self.id} {self.op}: {to_text(self)}>"

    # Arithmetic builds new nodes. `0 + x` is x itself, so that Python's sum() adds no spurious node.
    def __add__(self, other):
        return self if _is_int_zero(other) else ops.add(self, other)

    def __radd__(self, other):
        return self if _is_int_zero(other) else ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    # Comparisons do not answer at once: they become branches that a trace records and checks.
    def __lt__(self, other):
        return Comparison("<", self, other)

    def __le__(self, other):
        return Comparison("<=", self, other)

    def __gt__(self, other):
        return Comparison(">", self, other)

    def __ge__(self, other):
        return Comparison(">=", self, other)

    # Two nodes are equal when they are the same node, so `node in list` and list.index(node) work;
    # a node against a number is a value question, recorded as a branch like `<`.
    def __eq__(self, other):
        return self is other if isinstance(other, Node) else Comparison("==", self, other)

    def __ne__(self, other):
        return self is not other if isinstance(other, Node) else Comparison("!=", self, other)

    # Turning a node into a number would cut its derivative to zero without a word, so it is refused.
    def __float__(self):
        raise NodeConversionError(
            f"{to_text(self)} is a graph node, and float(), int() or math.* would turn it into a plain "
            "number whose derivative is lost. Use hessian_lab's functions instead: hl.sin, hl.exp, hl.log, ..."
        )

    __int__ = __index__ = __complex__ = __float__

    def __bool__(self):
        raise NodeConversionError(
            f"the truth value of the node {to_text(self)} is undefined; compare it explicitly, e.g. `if x[0] > 0:`"
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy arithmetic (np.float64 * node, array * node) works elementwise; other ufuncs are refused."""
        if ufunc in _ARITHMETIC_UFUNCS and method == "__call__" and not kwargs:
            return ufunc(*(np.asarray(value).astype(object) for value in inputs))
        name = ufunc.__name__
        hint = f"hl.{name}" if name in _HL_FUNCTIONS else "hessian_lab's functions (hl.sin, hl.exp, ...)"
        raise NodeConversionError(
            f"numpy's {name} got the graph node {to_text(self)}; numpy cannot differentiate it. Use {hint} instead."
        )


_ARITHMETIC_UFUNCS = {np.add, np.subtract, np.multiply, np.true_divide, np.power, np.negative, np.positive}
_HL_FUNCTIONS = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "abs", "absolute", "sum", "dot"}


def _is_int_zero(value):
    """True for the int 0 that Python's sum() starts from."""
    return type(value) is int and value == 0


class Comparison:
    """The result of comparing nodes, like `x[0] > 0`.

    It becomes a bool only inside a trace that has a point to decide at; the trace records the outcome,
    so that reusing the graph where the comparison comes out the other way raises a BranchError.
    """

    __slots__ = ("op", "left", "right")

    TESTS = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }

    def __init__(self, op, left, right):
        self.op = op
        self.left = left
        self.right = right

    def __bool__(self):
        from .graph import decide_branch

        return decide_branch(self)

    def holds(self, left_value, right_value):
        """Whether the comparison is true for these two values."""
        return bool(self.TESTS[self.op](left_value, right_value))

    def __repr__(self):
        return f"{_operand_text(self.left)} {self.op} {_operand_text(self.right)}"


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def to_text(node, depth=4):
    """A short infix rendering of a node for messages and labels, elided below `depth` levels."""
    if not isinstance(node, Node):
        return f"{node:.6g}" if isinstance(node, float) else str(node)
    if node.op == "const":
        return f"{node.param:.6g}"
    if node.op == "input":
        return f"x[{node.param}]"
    if depth == 0:
        return "…"
    args = [to_text(a, depth - 1) for a in node.args]
    if node.op in _INFIX:
        return f"({args[0]} {_INFIX[node.op]} {args[1]})"
    if node.op == "neg":
        return f"-{args[0]}"
    if node.op == "powc":
        return f"{args[0]}^{node.param:.6g}"
    if len(args) > 4:
        args = args[:3] + [f"… {len(args) - 3} more"]
    return f"{node.op}({', '.join(args)})"


def _operand_text(value):
    """Text for one side of a comparison."""
    return to_text(value) if isinstance(value, Node) else repr(value)


from . import ops  # noqa: E402  (ops builds on Node, and Node's operators call ops)
