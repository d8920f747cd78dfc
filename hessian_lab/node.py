"""Scalar graph nodes, one per elementary operation, and the structure of the graphs they form.

Node's arithmetic operators (`+`, `*`, `**`, ...) are attached by hessian_lab.ops, where the table of
primitives lives, and numpy's functions by hessian_lab.arrays; this file knows nodes, their order and their
comparisons (and the steps that count as comparisons), and nothing of any operation.
"""

import itertools
from contextvars import ContextVar

import numpy as np

from .errors import DomainError, NodeConversionError, TraceError

# Node ids, shared by all threads on purpose: a single increasing count (atomic under the GIL) keeps
# "arguments have smaller ids than their users" true for graphs built in any thread.
_next_id = itertools.count().__next__


def next_node_id():
    """The id the next node will get (taking it, harmlessly): how many nodes a step built is a difference of two."""
    return _next_id()


class Node:
    """One elementary operation: its op name, its argument nodes, and a parameter.

    The parameter is a constant's value, an input's index, a constant exponent, or dot coefficients.
    Ids grow with creation and arguments exist before their users, so sorting nodes by id is a
    topological order: no recursion is ever needed, whatever the depth.
    """

    __slots__ = ("op", "args", "param", "id")
    INFIX = {}  # op -> the operator written between its operands ("+"); set from the primitive table by ops
    FUNCTIONS = frozenset()  # the names of hl's functions of nodes (hl.sin, ...); set from the table by ops

    def __init__(self, op, args=(), param=None):
        self.op = op
        self.args = args
        self.param = param
        self.id = _next_id()

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<Node #{self.id} {self.op}: {to_text(self)}>"

    # Comparisons do not answer at once: they become branches that a trace records and checks. Against a numpy
    # array they answer NotImplemented, as a float does, so that numpy compares entry by entry.
    def __lt__(self, other):
        return NotImplemented if isinstance(other, np.ndarray) else Comparison("<", self, other)

    def __le__(self, other):
        return NotImplemented if isinstance(other, np.ndarray) else Comparison("<=", self, other)

    def __gt__(self, other):
        return NotImplemented if isinstance(other, np.ndarray) else Comparison(">", self, other)

    def __ge__(self, other):
        return NotImplemented if isinstance(other, np.ndarray) else Comparison(">=", self, other)

    # Two nodes are equal when they are the same node, so `node in list` and list.index(node) work;
    # a node against a number is a value question, recorded as a branch like `<`.
    def __eq__(self, other):
        if isinstance(other, np.ndarray):
            return NotImplemented
        return self is other if isinstance(other, Node) else Comparison("==", self, other)

    def __ne__(self, other):
        if isinstance(other, np.ndarray):
            return NotImplemented
        return self is not other if isinstance(other, Node) else Comparison("!=", self, other)

    # Turning a node into a number would cut its derivative to zero without a word, so it is refused.
    def __float__(self):
        raise NodeConversionError(
            f"{to_text(self)} is a graph node, and float(), int() or math.* would turn it into a plain "
            "number whose derivative is lost. Use hessian_lab's functions instead: hl.sin, hl.exp, hl.log, ..."
        )

    __int__ = __index__ = __complex__ = __float__

    def _not_differentiable(self, *other):
        raise NodeConversionError(
            f"{to_text(self)} is a graph node: //, % and math.trunc have no row in the primitive table; write "
            "a // b as hl.floor(a / b) (or np.floor), and a % b as a - b * hl.floor(a / b)"
        )

    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __divmod__ = __rdivmod__ = __trunc__ = _not_differentiable

    def __bool__(self):
        raise NodeConversionError(
            f"the truth value of the node {to_text(self)} is undefined; compare it explicitly, e.g. `if x[0] > 0:`"
        )


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
        tracer = current_trace.get()
        if tracer is None:
            raise TraceError(f"`{self}` compares graph nodes outside a trace; there is no value to compare")
        return tracer.decide(self)

    def _combined(self, other):
        raise TraceError(f"`{self}` combined with & | ^ or ~: comparisons of nodes are branches, decided one at a "
                         "time; write `if a and b:` (or nest the ifs) instead of `(a) & (b)`")

    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __invert__ = _combined

    def holds(self, left_value, right_value):
        """Whether the comparison is true for these two values."""
        return bool(self.TESTS[self.op](left_value, right_value))

    def __repr__(self):
        return f"{_operand_text(self.left)} {self.op} {_operand_text(self.right)}"


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
    if node.op == "powc":
        return f"{args[0]}{Node.INFIX[node.op]}{node.param:.6g}"
    if node.op in Node.INFIX:
        return f"({args[0]} {Node.INFIX[node.op]} {args[1]})"
    if node.op == "neg":
        return f"-{args[0]}"
    if len(args) > 4:
        args = args[:3] + [f"… {len(args) - 3} more"]
    return f"{node.op}({', '.join(args)})"


def name_of(node):
    """How every error names a node: `node #7: log(x[1])`."""
    return f"node #{node.id}: {to_text(node)}"


def not_finite(what, node, value, error, why):
    """The one error (a DomainError or a RangeError) for a number of a node that is not finite:
    `the adjoint of node #7: ... is inf, ...`."""
    return error(f"{what} of {name_of(node)} is {value}, not a finite number: {why}")


def _operand_text(value):
    """Text for one side of a comparison."""
    return to_text(value) if isinstance(value, Node) else repr(value)


# The trace running in this context (thread, asyncio task), which decides and records comparisons; None outside one.
current_trace = ContextVar("hessian_lab_current_trace", default=None)


def hold_piece(node):
    """While f is traced, a node constant between jumps (floor, sign, ...) is a branch: `node == its value there`,
    decided and recorded by the trace like any comparison, so a reused trace refuses a point past a jump."""
    tracer = current_trace.get()
    if tracer is not None and isinstance(node, Node):
        tracer.hold(node)
    return node


def topological_order(outputs):
    """Every node the outputs depend on, arguments before users.

    Sorting by creation id is a topological order, and the walk uses an explicit stack, so a graph of
    any depth works (no recursion).
    """
    seen = {}
    stack = [o for o in outputs if isinstance(o, Node)]
    while stack:
        node = stack.pop()
        if node.id not in seen:
            seen[node.id] = node
            stack.extend(node.args)
    return [seen[k] for k in sorted(seen)]


def count_edges(nodes):
    """Edges of a graph: one per (node, argument) pair, constants included."""
    return sum(len(node.args) for node in nodes)
