"""A traced graph compiled into one straight-line Python function for its Hessian: no loops, no arrays, no lookups.

The Hessian is ∇²f = Σ_v v̄ Σ_kl s_kl J_kᵀ J_l over the nonlinear nodes v (as in fast.tape), where J_k is the
gradient of v's k-th argument with respect to x. Here every term is written out once, as Python source over
scalar locals: the forward sweep, each node's local partials (from the templates of hessian_lab.second_order), the
adjoints v̄, the nonzero entries of each needed J, and one sum per entry of H's upper triangle. Entries known
while compiling (a weight times 1.0, a Jacobian of an affine node) are folded, so only numbers that depend on x
are computed. CPython then runs about 20 ns per statement: at small n this beats any sweep over arrays.

Why generating and running source is safe here: the source is written only from a traced graph, by this
module. Its names are ours (x3 for the trace's fourth input, v12, a12, row_2, ...), its numbers are `repr` of
Python floats, and the functions it calls are bound by name in its own namespace (a row's scalar function, or its forward).
No text a user typed, and no node's parameter other than a float, is ever placed in it (the parser's no-eval
rule is about that).

Kernels are for small Hessians: a kernel runs at about 1 ns and compiles at about 0.3 µs per character of its
source, so one is refused past MAX_SOURCE characters: about 0.2 ms a call, where colouring's and the tape's sweeps
take about as long (measured on Rosenbrock and chain at n = 256, and notebook 7's classifier).
The kernel is optimistic: any exception, a value that is not a finite real number anywhere (it keeps a probe of
every local), or an argument outside its op's domain (checked after the call, one numpy call per op of the table
that has a domain) sends the call to the tape, which names the node and the domain that failed.
"""

import math

import numpy as np

from .. import ops
from ..counting import record, record_details, record_method
from ..errors import DomainError, HessianLabError
from ..second_order import second_order_rule
from ..memory import dense_bytes
from .tape import tape_of

MAX_SOURCE = 200_000  # characters; past this a kernel call is no faster than the sweeps (~0.2 ms), and compiling takes 60 ms
SHORTEST_LINE = 24  # characters that a node's value takes at least: its line and its term of the probe
CHUNK = 64  # terms per `+` chain: a longer chain nests deeper than CPython's compiler may recurse


def python_operator(op):
    """The Python operator that writes op between its operands, from its row's infix (Python writes ^ as **), or None."""
    infix = ops.PRIMITIVES[op].infix
    return "**" if infix == "^" else infix


class TooLarge(HessianLabError):
    """A kernel's source would be longer than MAX_SOURCE characters."""


def _too_large(why):
    """The TooLarge error, saying why this Hessian's source would not fit and what to use instead."""
    return TooLarge(f"method 'kernel' compiles Hessians whose source fits in {MAX_SOURCE:,} characters, and {why}; "
                    "use method='tape' or 'colouring'")


class _Writer:
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
            raise _too_large("this one needs more (a call would be no faster than colouring's or the tape's sweeps)")

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
        number = sum(t for t in terms if isinstance(t, float))
        names = [t for t in terms if not isinstance(t, float)]
        if not names:
            return number
        if number:
            names.append(_literal(number))
        level = 0
        while len(names) > CHUNK:  # partial sums, named apart at each level (every local is assigned once)
            names = [self.let(f"{name}_s{level}_{k}", " + ".join(names[i:i + CHUNK]))
                     for k, i in enumerate(range(0, len(names), CHUNK))]
            level += 1
        return self.let(name, " + ".join(names))

    def call(self, op, param, arguments):
        """The source of op(arguments): an operator, a math function, or the row's own forward."""
        operator = python_operator(op)
        if operator:
            return f"{_group(arguments[0])} {operator} {_group(arguments[1] if op != 'powc' else _literal(param))}"
        if op == "neg":
            return f"-{_group(arguments[0])}"
        if op == "sum":
            return " + ".join(arguments)
        if op == "dot":
            return " + ".join(f"{_literal(c)} * {_group(a)}" for c, a in zip(param, arguments))
        # The row's function of one float (math.sin is 20x faster than np.sin on a float), else its own forward,
        # under a name of ours (the op's name is table text, not ours).
        scalar = ops.PRIMITIVES[op].scalar
        if scalar is None:
            self.uses_numpy = True
            scalar = lambda *a, op=op, p=param: ops.call(op, ops.PRIMITIVES[op].forward, a, p)  # noqa: E731
        name = self.row_names.setdefault((op, param), f"row_{len(self.row_names)}")
        self.functions[name] = scalar
        return f"{name}({', '.join(arguments)})"


class _Overflow(DomainError):
    """A number known while compiling (a product of constant partials) is not finite: at every x, so is H."""


def _literal(number):
    """A float as source that reads back to the same float (repr round-trips), in parentheses if negative."""
    if not math.isfinite(number):
        raise _Overflow("a second derivative is not a finite number at any point: a number fixed by f's constants "
                        f"(a sum or product of them) is {number} (overflow beyond 1e308)")
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


def _product(*factors):
    """The product of names and floats, folded: a float if all are floats, else source (None if it is zero)."""
    number = 1.0
    names = []
    for f in factors:
        if isinstance(f, float):
            number *= f
        else:
            names.append(f)
    if not names:
        return number
    if number == 0.0:
        return None
    if number == -1.0:
        return "-" + " * ".join(names)
    return " * ".join(names if number == 1.0 else [_literal(number)] + names)


class Kernel:
    """f's Hessian as one compiled Python function of x's entries; `statements` is the work of one call."""

    def __init__(self, graph):
        self.graph = graph
        self.n = graph.n
        w = _Writer()
        position = {x: i for i, x in enumerate(graph.inputs)}
        value, partials, pairs = self._forward(graph, w, position)
        adjoint = self._reverse(graph, w, value, partials)
        jacobian = self._jacobians(graph, w, pairs, partials, position)
        upper = {}
        for v, rule_pairs in pairs.items():
            for (k, l), s in rule_pairs:
                weight = _product(adjoint.get(v, 0.0), s)  # a node no partial reaches has adjoint 0
                if weight is None:
                    continue
                if not isinstance(weight, float):
                    weight = w.let(f"w{v.id}_{k}_{l}", weight)
                for i, Jki in jacobian[v.args[k]].items():
                    for j, Jlj in jacobian[v.args[l]].items():
                        if i <= j:
                            term = _product(weight, Jki, Jlj)
                            if term is not None:
                                upper.setdefault((i, j), []).append(w.term(term))
        entries = sorted(upper)
        results = [w.total(f"h{i}_{j}", upper[i, j]) for i, j in entries]
        returned = ", ".join(r if isinstance(r, str) else _literal(r) for r in results)
        w.charge(len(returned))
        probe = w.total("probe", [w.term(f"{name} - {name}") for name in list(w.locals)])
        self.guard_keys = list(w.guards)
        guards = ", ".join("(" + ", ".join("(" + ", ".join(column) + ",)" for column in zip(*w.guards[key])) + ",)"
                           for key in self.guard_keys)
        self.statements = len(w.lines)
        self.rows = np.array([i for i, _ in entries], dtype=np.intp)
        self.cols = np.array([j for _, j in entries], dtype=np.intp)
        inputs = ", ".join(f"x{i}" for i in range(self.n))
        last = f"    return [{returned}], {probe}, ({guards}{',' if guards else ''})"
        source = "\n".join([f"def kernel({inputs}):", *w.lines, last, ""])
        namespace = dict(w.functions)
        exec(compile(source, f"<hessian kernel of a graph with {graph.num_nodes} nodes>", "exec"), namespace)
        self.source = source
        self.function = namespace["kernel"]
        self.uses_numpy = w.uses_numpy

    @staticmethod
    def _forward(graph, w, position):
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
            arguments = [value[a] if isinstance(value[a], str) else _literal(value[a]) for a in v.args]
            form = ops.linear_form(v)
            if form is not None:  # affine: an operator as written, or a sum / dot as its weighted terms
                form = [(a, float(weight)) for a, weight in form]
                if python_operator(v.op) or v.op == "neg":
                    value[v] = w.let(f"v{v.id}", w.call(v.op, v.param, arguments))
                else:
                    terms = [_product(weight, value[a]) for a, weight in form if a.op != "const"]
                    bias = float(sum(weight * a.param for a, weight in form if a.op == "const"))
                    value[v] = w.total(f"v{v.id}", [w.term(t) for t in terms if t is not None] + [w.term(bias)])
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
                sources = [template[a] if isinstance(template[a], str) else _literal(template[a]) for a in t.args]
                template[t] = w.let(f"t{v.id}_{t.id}", w.call(t.op, t.param, sources))
            pick = lambda p: template[p] if p in template else float(ops.number_of(p))  # noqa: E731
            partials[v] = [(a, pick(p)) for a, p in zip(v.args, rule.first) if a.op != "const"]
            pairs[v] = [((k, l), pick(rule.second[k][l])) for k, l in rule.structural_second()
                        if v.args[k].op != "const" and v.args[l].op != "const"]
        return value, partials, pairs

    @staticmethod
    def _reverse(graph, w, value, partials):
        """The adjoint v̄ = ∂f/∂v of every node, as a name or a float, in reverse order."""
        terms = {graph.output: [w.term(1.0)]}
        adjoint = {}
        for v in reversed(graph.nodes):
            if v not in terms or v.op in ("input", "const"):
                continue
            adjoint[v] = w.total(f"a{v.id}", terms.pop(v))
            for a, p in partials[v]:
                term = _product(p, adjoint[v])
                if term is not None:
                    terms.setdefault(a, []).append(w.term(term))
        return adjoint

    @staticmethod
    def _jacobians(graph, w, pairs, partials, position):
        """J_u = ∂u/∂x as {input index: name or float} for every argument of a nonlinear pair, and what they need."""
        needed = set()
        stack = [v.args[k] for v, rule_pairs in pairs.items() for pair, _ in rule_pairs for k in pair]
        while stack:
            u = stack.pop()
            if u not in needed and u.op != "const":
                needed.add(u)
                if u.op != "input":
                    stack.extend(a for a, _ in partials[u])
        jacobian = {}
        for u in graph.nodes:
            if u not in needed:
                continue
            if u.op == "input":
                jacobian[u] = {position[u]: 1.0}
                continue
            if len(partials[u]) == 1 and partials[u][0][1] == 1.0:
                jacobian[u] = jacobian[partials[u][0][0]]
                continue
            entries = {}
            for a, p in partials[u]:
                for i, Jai in jacobian[a].items():
                    term = _product(p, Jai)
                    if term is not None:
                        entries.setdefault(i, []).append(w.term(term))
            jacobian[u] = {i: w.total(f"j{u.id}_{i}", t) for i, t in sorted(entries.items())}
        return jacobian

    def hessian_at(self, x):
        """The dense Hessian at a checked point, or None where a local is not a finite real number, an op failed,
        or an argument is outside its op's domain."""
        try:
            if self.uses_numpy:
                with np.errstate(all="ignore"):
                    entries, probe, guards = self.function(*x.tolist())
            else:
                entries, probe, guards = self.function(*x.tolist())
            if not isinstance(probe, float) or not math.isfinite(probe):  # a complex power is no float
                return None
            for (op, param), columns in zip(self.guard_keys, guards):
                if not np.all(ops.call(op, ops.PRIMITIVES[op].domain, [np.array(c) for c in columns], param)):
                    return None
        except (ArithmeticError, ValueError, TypeError):  # overflow, division by zero, a math domain, a complex power
            return None
        H = np.zeros((self.n, self.n))
        H[self.rows, self.cols] = entries
        H[self.cols, self.rows] = entries
        return H


KERNEL = "kernel"  # the key of the kernel in its graph's cache


def kernel_of(graph):
    """The graph's Hessian kernel, compiled once per trace; where there is none, the error that says why (also kept)."""
    kernel = _kernel_or_reason(graph)
    if isinstance(kernel, HessianLabError):
        raise kernel
    return kernel


def has_kernel(graph):
    """Whether the graph has a kernel, compiling it if this is the first time anyone asks."""
    return not isinstance(_kernel_or_reason(graph), HessianLabError)


def _kernel_or_reason(graph):
    """The kernel or the error, from the graph's cache (built by _build the first time)."""
    return graph.cached(KERNEL, lambda: _build(graph))


def _build(graph):
    """A Kernel, or the error that says why there is none (kept, so the attempt is made once): TooLarge, or a
    DomainError where a constant factor of H overflows (then every method raises one, at every point)."""
    if (graph.num_nodes - graph.n) * SHORTEST_LINE > MAX_SOURCE:  # refused without writing a line
        return _too_large(f"f's graph alone, {graph.num_nodes:,} nodes, needs more")
    try:
        return Kernel(graph)
    except TooLarge as error:
        return error
    except _Overflow as error:
        return DomainError(str(error))


SOURCE_BYTES = 10  # compiling, per character of source: the text, its syntax tree and code (measured 6 to 14)


def working_bytes(graph, k=2, pattern_nnz=None):
    """Peak bytes of method "kernel": writing and compiling its source (at most MAX_SOURCE characters), unless
    that was done, and H with its entries."""
    compiling = 0 if graph.has_cached(KERNEL) else SOURCE_BYTES * MAX_SOURCE
    return compiling + 2 * dense_bytes(graph.n, 2)


def hessian_kernel(graph, point):
    """The dense Hessian by the graph's compiled straight-line kernel; where a value fails, by the tape, which names it."""
    kernel = kernel_of(graph)
    record_method("kernel")
    H = kernel.hessian_at(point)
    if H is None:  # the tape raises the DomainError that names the node; should it not, its Hessian stands
        H = tape_of(graph).hessian_at(point)
        record_details(fallback="tape")
        return H
    record(evaluations=graph.num_nodes, passes=1, visits=kernel.statements)
    return H
