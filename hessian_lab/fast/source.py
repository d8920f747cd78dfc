"""Straight-line Python source written from a traced graph, and compiled: the writer behind the compiled kernels.

A Writer collects statements over scalar locals, one per node value, local partial and adjoint, folds what is
known while compiling (a weight times 1.0, a product of f's constants that stays a normal float), names every
common subexpression once, and refuses a source longer than MAX_SOURCE characters while it is being written.
write_forward and write_reverse write f's forward sweep (values and local partials, from the templates of
hessian_lab.second_order) and its reverse sweep (the adjoints). A Compiled function runs the statements and
returns what a kernel asked for, or None where a value failed. fast.kernel builds the Hessian from these;
fast.gradient_kernel the value and the gradient.

Why generating and running source is safe here: the source is written only from a traced graph, by this
module. Its names are ours (x3 for the trace's fourth input, v12, a12, row_2, ...), its numbers are `repr` of
Python floats, and the functions it calls are bound by name in its own namespace (a row's scalar function, or
its forward). No text a user typed, and no node's parameter other than a float, is ever placed in it (the
parser's no-eval rule is about that).

A compiled function is optimistic: any exception, a value that is not a finite real number anywhere (it keeps a
probe of every local), or an argument outside its op's domain (checked after the call, one numpy call per op of
the table that has a domain) makes its result None, and its caller then asks the per-node engine, which names
the node and the domain that failed.
"""

import math

import numpy as np

from .. import ops
from ..errors import DomainError, HessianLabError
from ..second_order import second_order_rule

MAX_SOURCE = 200_000  # characters; past this a kernel call is no faster than the sweeps (~0.2 ms), and compiling takes 60 ms
SHORTEST_LINE = 24  # characters that a node's value takes at least: its line and its term of the probe
CHUNK = 64  # terms per `+` chain: a longer chain nests deeper than CPython's compiler may recurse


def python_operator(op):
    """The Python operator that writes op between its operands, from its row's infix (Python writes ^ as **), or None."""
    infix = ops.PRIMITIVES[op].infix
    return "**" if infix == "^" else infix


class TooLarge(HessianLabError):
    """A kernel's source would be longer than MAX_SOURCE characters."""


def too_large(why):
    """The TooLarge error, saying why this Hessian's source would not fit and what to use instead."""
    return TooLarge(f"method 'kernel' compiles Hessians whose source fits in {MAX_SOURCE:,} characters, and {why}; "
                    "use method='tape' or 'colouring'")


class Writer:
    """Collects the kernel's statements, folds constants, and names every local it computes for the probe."""

    def __init__(self):
        self.lines = []
        self.locals = []
        self.functions = {}  # name in the kernel's namespace -> the callable it stands for
        self.row_names = {}  # (op, param) -> the name its row's function has in the namespace
        self.uses_numpy = False  # whether a row's numpy forward is called (numpy scalars warn on overflow)
        self.named = {}  # expression -> the local that already holds it (common subexpressions are computed once)
        self.size = 0  # characters written
        self.guards = {}  # (op, param) -> the argument lists of its nodes, whose domain is checked after a call

    def let(self, name, expression):
        """The local holding `expression`: one already computed, the name itself, or `name` after emitting it.

        Every local is assigned once and every expression is pure, so equal text means an equal value.
        """
        if expression.isidentifier():
            return expression
        if expression in self.named:
            return self.named[expression]
        self.named[expression] = name
        self.lines.append(f"    {name} = {expression}")
        self.locals.append(name)
        self.charge(len(self.lines[-1]))
        return name

    def charge(self, characters):
        """Count characters of source about to be written; a TooLarge error as soon as they pass MAX_SOURCE."""
        self.size += characters
        if self.size > MAX_SOURCE:
            raise too_large("this one needs more (a call would be no faster than colouring's or the tape's sweeps)")

    def term(self, product):
        """A product (source or float) as a term of a sum to be written by `total`: counted as it is made, so that a
        sum too long to write is refused before it is all made."""
        term = _term(product)
        self.charge(_cost(term))
        return term

    def guard(self, op, param, arguments):
        """Check op's domain at these arguments after each call (a fractional power at 0 raises nothing by itself)."""
        self.guards.setdefault((op, param), []).append(arguments)
        self.charge(sum(len(a) + 2 for a in arguments))

    def total(self, name, terms):
        """Emit name = the sum of `terms` (each made by `term`), folding numbers; returns a float or a name.

        The terms were counted when made; the line that writes them is counted instead.
        """
        self.size -= sum(_cost(t) for t in terms)
        numbers = [t for t in terms if isinstance(t, float)]
        number = sum(numbers)
        names = [t for t in terms if not isinstance(t, float)]
        if not math.isfinite(number):  # constants whose sum overflows are added at run time, where names may cancel them
            names += [literal(t) for t in numbers]
        elif not names:
            return number
        elif number:
            names.append(literal(number))
        level = 0
        while len(names) > CHUNK:  # partial sums, named apart at each level (every local is assigned once)
            names = [self.let(f"{name}_s{level}_{k}", " + ".join(names[i:i + CHUNK]))
                     for k, i in enumerate(range(0, len(names), CHUNK))]
            level += 1
        return self.let(name, " + ".join(names))

    def call(self, op, param, arguments):
        """The source of op(arguments): an operator, the row's function of one float, or its own forward."""
        operator = python_operator(op)
        row = ops.PRIMITIVES[op]
        if op == "powc":  # its exponent is its parameter
            arguments = [*arguments, literal(param)]
        # ** of a negative base and a fractional exponent makes a complex number (numpy then warns); the row's
        # scalar function (math.pow) raises instead. A whole exponent stays the operator.
        if operator and (row.scalar is None or op == "powc" and float(param).is_integer()):
            return f"{_group(arguments[0])} {operator} {_group(arguments[1])}"
        if op == "neg":
            return f"-{_group(arguments[0])}"
        if op == "sum":
            return " + ".join(arguments)
        if op == "dot":
            return " + ".join(f"{literal(c)} * {_group(a)}" for c, a in zip(param, arguments))
        # The row's function of one float (math.sin is 20x faster than np.sin on a float), else its own forward,
        # under a name of ours (the op's name is table text, not ours).
        scalar, key = row.scalar, (op, None)
        if scalar is None:
            self.uses_numpy = True
            scalar, key = lambda *a, op=op, p=param: ops.call(op, ops.PRIMITIVES[op].forward, a, p), (op, param)  # noqa: E731
        name = self.row_names.setdefault(key, f"row_{len(self.row_names)}")
        self.functions[name] = scalar
        return f"{name}({', '.join(arguments)})"


def literal(number):
    """A float as source that reads back to the same float (repr round-trips), in parentheses if negative."""
    if not math.isfinite(number):  # never written as `inf`: every number the writer folds is kept normal
        raise DomainError(f"a number fixed by f's constants is {number}, beyond the float range")
    text = repr(float(number))
    return f"({text})" if text.startswith("-") else text


def _group(source):
    """source in parentheses unless it is one name or a non-negative literal."""
    return source if source.replace(".", "").replace("_", "").isalnum() else f"({source})"


def _cost(term):
    """The characters a term adds to the line of its sum."""
    return len(term) + 3 if isinstance(term, str) else 24


def _term(source):
    """A product as a term of a sum: a float, a name, or a parenthesized product."""
    return source if isinstance(source, float) or source.isidentifier() else f"({source})"


def product(*factors):
    """The product of names and floats, its floats folded: a float if all are floats, else source (None if it is zero).

    The floats fold into one literal only where their product is a normal float. Where it would underflow or
    overflow (1e-170 * 1e-170), it is kept as normal pieces, written around the names (p1 * w * p2), because a
    factor known only at run time can bring the product back into range: H of sqrt(1e-170 x) is -2.5e-86.
    """
    names = [f for f in factors if not isinstance(f, float)]
    pieces = _constant_pieces([f for f in factors if isinstance(f, float)])
    if not names:
        return pieces[0] if len(pieces) == 1 else " * ".join(literal(p) for p in pieces)
    first, rest = pieces[0], [literal(p) for p in pieces[1:]]
    if first == 0.0:
        return None
    if first == 1.0 and not rest:
        return " * ".join(names)
    if first == -1.0 and not rest:
        return "-" + " * ".join(names)
    return " * ".join([literal(first), *names, *rest])


EXPONENT_STEP = 1000  # binary exponent of a piece, at most: within a float's normal range (2^-1022 to 2^1023)


def _constant_pieces(numbers):
    """Floats whose product is that of `numbers`: one float where it is normal (or 0), else a few normal pieces.

    The product is formed as mantissa and binary exponent (math.frexp), so it never leaves the range on the way;
    each mantissa product rounds as the float product would, so one piece equals the plain product bit for bit.
    """
    mantissa, exponent = 1.0, 0
    for number in numbers:
        m, e = math.frexp(number)
        mantissa, carry = math.frexp(mantissa * m)
        exponent += e + carry
    if mantissa == 0.0 or -1021 <= exponent <= 1024:
        return [math.ldexp(mantissa, exponent)]
    count = -(-abs(exponent) // EXPONENT_STEP)
    step = int(exponent / count)
    return [math.ldexp(mantissa, exponent - (count - 1) * step)] + [math.ldexp(1.0, step)] * (count - 1)


def write_forward(graph, w, position):
    """Values and local partials of every node; pairs[v] = [((k, l), s_kl)] for each nonlinear node v."""
    value, partials, pairs = {}, {}, {}
    for v in graph.nodes:
        if v.op == "input":
            if v not in position:
                raise HessianLabError(f"node #{v.id} is an input of another trace; a graph mixes two traces")
            value[v] = f"x{position[v]}"
            continue
        if v.op == "const":
            value[v] = float(v.param)
            continue
        arguments = [value[a] if isinstance(value[a], str) else literal(value[a]) for a in v.args]
        form = ops.linear_form(v)
        if form is not None:  # affine: an operator as written, or a sum / dot as its weighted terms
            form = [(a, float(weight)) for a, weight in form]
            if python_operator(v.op) or v.op == "neg":
                value[v] = w.let(f"v{v.id}", w.call(v.op, v.param, arguments))
            else:
                terms = [product(weight, value[a] if a.op != "const" else float(a.param)) for a, weight in form]
                value[v] = w.total(f"v{v.id}", [w.term(t) for t in terms if t is not None])
            partials[v] = [(a, weight) for a, weight in form if a.op != "const"]
            continue
        value[v] = w.let(f"v{v.id}", w.call(v.op, v.param, arguments))
        if ops.PRIMITIVES[v.op].domain is not None:
            w.guard(v.op, v.param, arguments)
        rule = second_order_rule(v.op, v.param, len(v.args))
        template = dict(zip(rule.inputs, (value[a] for a in v.args)))
        template[rule.output] = value[v]
        template.update(rule.constants)
        for t in rule.order:
            sources = [template[a] if isinstance(template[a], str) else literal(template[a]) for a in t.args]
            template[t] = w.let(f"t{v.id}_{t.id}", w.call(t.op, t.param, sources))
        pick = lambda p: template[p] if p in template else float(ops.number_of(p))  # noqa: E731
        partials[v] = [(a, pick(p)) for a, p in zip(v.args, rule.first) if a.op != "const"]
        pairs[v] = [((k, l), pick(rule.second[k][l])) for k, l in rule.structural_second()
                    if v.args[k].op != "const" and v.args[l].op != "const"]
    return value, partials, pairs


def write_reverse(graph, w, value, partials):
    """The adjoint v̄ = ∂f/∂v of every node but the inputs, as a name or a float, in reverse order."""
    terms = {graph.output: [w.term(1.0)]}
    adjoint = {}
    for v in reversed(graph.nodes):
        if v not in terms or v.op in ("input", "const"):
            continue
        adjoint[v] = w.total(f"a{v.id}", terms.pop(v))
        for a, p in partials[v]:
            term = product(p, adjoint[v])
            if term is not None:
                terms.setdefault(a, []).append(w.term(term))
    return adjoint


class Compiled:
    """The writer's statements as one Python function of x's entries, returning `returned` (source), a probe of
    every local, and the arguments of every op with a domain; `statements` is the work of one call."""

    def __init__(self, graph, w, returned, what):
        probe = w.total("probe", [w.term(f"{name} - {name}") for name in list(w.locals)])
        self.guard_keys = list(w.guards)
        guards = ", ".join("(" + ", ".join("(" + ", ".join(column) + ",)" for column in zip(*w.guards[key])) + ",)"
                           for key in self.guard_keys)
        w.charge(len(returned))  # the guards were charged as they were added
        self.statements = len(w.lines)
        inputs = ", ".join(f"x{i}" for i in range(graph.n))
        last = f"    return {returned}, {probe}, ({guards}{',' if guards else ''})"
        self.source = "\n".join([f"def kernel({inputs}):", *w.lines, last, ""])
        namespace = dict(w.functions)
        exec(compile(self.source, f"<{what} kernel of a graph with {graph.num_nodes} nodes>", "exec"), namespace)
        self.function = namespace["kernel"]
        self.uses_numpy = w.uses_numpy  # numpy scalars warn on overflow

    def run(self, x):
        """What the function returns at a checked point, or None where a local is not a finite real number, an op
        failed, or an argument is outside its op's domain."""
        try:
            if self.uses_numpy:
                with np.errstate(all="ignore"):
                    result, probe, guards = self.function(*x.tolist())
            else:
                result, probe, guards = self.function(*x.tolist())
            if not isinstance(probe, float) or not math.isfinite(probe):  # a complex power is no float
                return None
            for (op, param), columns in zip(self.guard_keys, guards):
                if not np.all(ops.call(op, ops.PRIMITIVES[op].domain, [np.array(c) for c in columns], param)):
                    return None
        except (ArithmeticError, ValueError, TypeError):  # overflow, division by zero, a math domain, a complex power
            return None
        return result
