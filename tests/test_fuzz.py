"""Fuzzing with hypothesis: random expressions in the course syntax against sympy, and random or hostile text.

Random expression trees are printed in the course syntax (fewest parentheses, plus some spare ones),
parsed by hl.parse and differentiated by hessian-lab; the same trees are built directly as sympy
expressions (never by parsing text) for the reference derivatives. Trees stay inside the domain:
log and sqrt see 1 + u^2, division is by 1 + v^2, tan sees sigmoid(u), fractional and variable
powers have a positive base. Text fuzzing checks that the parser raises nothing but ParseError and
that nothing is executed, imported or opened (a sys.audit hook watches). Together the tests below
run 3,400 hypothesis examples in about a minute.
"""

import itertools
import math
import operator
import string
import sys

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import hessian_lab as hl

NAMES = ["x", "y2", "Z_a"]
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4, "**": 4, "atom": 5}


# ---- random expression trees: ("var", name) ("num", v) ("neg", t) ("call", fn, t) ("bin", op, a, b, spare) ----

def positive(tree):
    """1 + tree^2, a tree that is positive everywhere: the argument of log and sqrt, a divisor, a power's base."""
    return ("bin", "+", ("num", 1.0), ("bin", "^", tree, ("num", 2.0), False), False)


def unary(kind, u):
    """A one-argument node that stays inside its domain whatever u is."""
    if kind == "neg":
        return ("neg", u)
    if kind in ("log", "sqrt"):
        return ("call", kind, positive(u))
    if kind == "tan":
        return ("call", "tan", ("call", "sigmoid", u))
    return ("call", kind, u)


def binary(kind, a, b, power, spare):
    """A two-argument node that stays inside its domain: the power symbol (^ or **) and spare parentheses vary."""
    if kind in ("+", "-", "*"):
        return ("bin", kind, a, b, spare)
    if kind == "/":
        return ("bin", "/", a, positive(b), spare)
    if kind == "square":
        return ("bin", power, a, ("num", 2.0), spare)
    if kind == "cube":
        return ("bin", power, a, ("num", 3.0), spare)
    if kind == "root":
        return ("bin", power, positive(a), ("num", 0.5), spare)
    return ("bin", power, positive(a), b, spare)  # a variable exponent


LEAVES = st.sampled_from([("var", name) for name in NAMES * 2] + [("num", v) for v in (0.5, 2.0, 3.0, 1e-3, 1.5e2)])
UNARY = ["neg", "exp", "sin", "cos", "tanh", "sigmoid", "log", "sqrt", "tan"]
BINARY = ["+", "-", "*", "/", "square", "cube", "root", "power"]


def operations(below):
    """A unary or binary operation on trees drawn from `below`."""
    return st.one_of(
        st.builds(unary, st.sampled_from(UNARY), below),
        st.builds(binary, st.sampled_from(BINARY), below, below, st.sampled_from(["^", "**"]), st.booleans()),
    )


def trees(depth):
    """Expression trees of at most `depth` levels of operations."""
    return LEAVES if depth == 0 else st.one_of(LEAVES, operations(trees(depth - 1)))


def expressions(depth):
    """Trees with at least one operation at the top, and at most `depth` levels of them."""
    return operations(trees(depth - 1))


def to_text(tree):
    """(course-syntax text, precedence) of a tree, with only the parentheses precedence needs, plus spare ones."""
    kind = tree[0]
    if kind == "var":
        return tree[1], PRECEDENCE["atom"]
    if kind == "num":
        return repr(tree[1]), PRECEDENCE["atom"]
    if kind == "call":
        return f"{tree[1]}({to_text(tree[2])[0]})", PRECEDENCE["atom"]
    if kind == "neg":
        text, inner = to_text(tree[1])
        return "-" + (f"({text})" if inner < PRECEDENCE["neg"] else text), PRECEDENCE["neg"]
    _, op, a, b, spare = tree
    mine = PRECEDENCE[op]
    (left, left_prec), (right, right_prec) = to_text(a), to_text(b)
    if op in ("^", "**"):  # right-associative, and its exponent may be a negation: x^-y
        left_needs, right_needs = left_prec <= mine, right_prec < PRECEDENCE["neg"]
    else:
        left_needs, right_needs = left_prec < mine, right_prec <= mine
    left = f"({left})" if left_needs else left
    right = f"({right})" if right_needs else right
    text = f"{left} {op} {right}" if op in "+-" else f"{left}{op}{right}"
    return (f"({text})", PRECEDENCE["atom"]) if spare else (text, mine)


SYMBOLS = {name: sympy.Symbol(name, real=True) for name in NAMES}
SYMPY_CALLS = {"exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
               "sqrt": sympy.sqrt, "tanh": sympy.tanh, "sigmoid": lambda u: 1 / (1 + sympy.exp(-u))}
SYMPY_BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
                "/": lambda a, b: a / b, "^": lambda a, b: a**b, "**": lambda a, b: a**b}


def to_sympy(tree):
    """The same tree built directly as a sympy expression (no text involved)."""
    kind = tree[0]
    if kind == "var":
        return SYMBOLS[tree[1]]
    if kind == "num":
        return sympy.Float(tree[1], 30)  # never an Integer: 150^150^150 would be computed exactly, without end
    if kind == "call":
        return SYMPY_CALLS[tree[1]](to_sympy(tree[2]))
    if kind == "neg":
        return -to_sympy(tree[1])
    return SYMPY_BINARY[tree[1]](to_sympy(tree[2]), to_sympy(tree[3]))


def real_value(expression, at):
    """The value of a sympy expression with 30-digit Floats substituted (at = {symbol: Float}), or None if not real."""
    try:
        value = complex(expression.xreplace(at))
    except (TypeError, ValueError, OverflowError):
        return None
    return value.real if value.imag == 0 and math.isfinite(value.real) else None


def subtrees(tree):
    """The tree and all its subtrees."""
    yield tree
    for part in tree[1:]:
        if isinstance(part, tuple):
            yield from subtrees(part)


FLOAT_CALLS = {"exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos, "tan": math.tan,
               "sqrt": math.sqrt, "tanh": math.tanh, "sigmoid": lambda u: 1 / (1 + math.exp(-u))}
FLOAT_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
                "^": operator.pow, "**": operator.pow}


def float_value(tree, at, values, jitter=0.0):
    """The tree's value in plain floats at `at` ({name: value}), appending every subtree's value to `values`.

    With a jitter, every computed value is scaled by (1 + jitter) before it is used, as rounding would nudge it.
    """
    kind = tree[0]
    if kind == "var":
        value = at[tree[1]]
    elif kind == "num":
        value = tree[1]
    elif kind == "neg":
        value = -float_value(tree[1], at, values, jitter)
    elif kind == "call":
        value = FLOAT_CALLS[tree[1]](float_value(tree[2], at, values, jitter)) * (1 + jitter)
    else:
        value = FLOAT_BINARY[tree[1]](float_value(tree[2], at, values, jitter),
                                      float_value(tree[3], at, values, jitter)) * (1 + jitter)
    values.append(value)
    return value


NUDGE = 1e-14  # about 45 ulps: ten times the rounding of an operation or a few, so a nudge bounds what float64 loses


def moderate(tree, names, point):
    """Whether every subexpression is a real number of size at most 1e8 at point, and the value is well conditioned
    there (nudging every intermediate by NUDGE moves it by less than the comparisons' 1e-9), so that float64 can
    follow it: sin of (x - 5^4.5)^6, an argument near 7e18, is within the size bound's reach but not float64's.

    Checked in plain floats, which never hang; sympy can, on sin(1e9000) (it reduces modulo pi to 9000 digits).
    """
    at = dict(zip(names, point))
    values = []
    try:
        value = float_value(tree, at, values)
        if not all(isinstance(v, float) and abs(v) <= 1e8 for v in values):
            return False
        nudged = [float_value(tree, at, [], jitter) for jitter in (NUDGE, -NUDGE)]
    except (OverflowError, ValueError, TypeError):
        return False
    return all(abs(v - value) <= 1e-9 * abs(value) + 1e-12 for v in nudged)


def reference(expression, names, point, order):
    """All derivatives of order 1..order of a sympy expression at point, as dense arrays, or None if they overflow.

    The values come from substituting 30-digit Floats, which evaluates at that fixed precision; evalf(subs=)
    would raise its precision without bound where a derivative is exactly 0 by cancellation.
    """
    symbols = [SYMBOLS[name] for name in names]
    at = {symbol: sympy.Float(value, 30) for symbol, value in zip(symbols, point)}
    results = []
    derivatives = {(): expression}
    for k in range(1, order + 1):
        n = len(names)
        tensor = np.zeros((n,) * k)
        for alpha in itertools.combinations_with_replacement(range(n), k):
            derivatives[alpha] = sympy.diff(derivatives[alpha[:-1]], symbols[alpha[-1]])
            value = real_value(derivatives[alpha], at)
            if value is None or abs(value) > 1e8:
                return None
            for index in set(itertools.permutations(alpha)):
                tensor[index] = value
        results.append(tensor)
    return results


def assert_close(actual, expected, what):
    """Agreement to 1e-8 relative to the largest entry (sympy evaluates to 30 digits, the engine in float64)."""
    scale = 1.0 + float(np.max(np.abs(expected)))
    assert np.allclose(actual, expected, rtol=1e-8, atol=1e-8 * scale), (what, actual, expected)


POINTS = st.lists(st.floats(-1.5, 1.5, allow_nan=False).map(lambda v: round(v, 3)), min_size=3, max_size=3)


def parsed(tree):
    """The tree printed and parsed: (text, f, names), with names checked against the tree's variables."""
    text = to_text(tree)[0]
    f, names = hl.parse(text)
    assert names == sorted(_variables(tree))
    return text, f, names


def _variables(tree):
    """The names of the variables a tree mentions."""
    return {part[1] for part in subtrees(tree) if part[0] == "var"}


def with_reference(tree, values, order):
    """The tree printed and parsed, its point, and sympy's derivatives up to `order` there; trees sympy cannot judge are skipped."""
    text, f, names = parsed(tree)
    assume(names)
    point = [values[NAMES.index(name)] for name in names]
    assume(moderate(tree, names, point))
    expected = reference(to_sympy(tree), names, point, order)
    assume(expected is not None)
    return text, f, point, expected


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(4), POINTS, st.sampled_from(["auto", *hl.HESSIAN_METHODS]))
def test_gradient_and_hessian_of_random_expressions_match_sympy(tree, values, method):
    """Printed, parsed and differentiated: the gradient and the Hessian (any method) equal sympy's."""
    text, f, point, expected = with_reference(tree, values, 2)
    assert_close(hl.gradient(f, point), expected[0], f"gradient of {text}")
    assert_close(hl.hessian(f, point, method=method), expected[1], f"Hessian ({method}) of {text}")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(3), POINTS)
def test_third_order_tensor_of_random_expressions_matches_sympy(tree, values):
    """The third-order tensor by nested gradient graphs equals sympy's third derivatives."""
    text, f, point, expected = with_reference(tree, values, 3)
    assert_close(hl.derivative_tensor(f, point, 3), expected[2], f"third derivatives of {text}")


# ---- extreme constants: coefficients from 1e-300 to 1e300, every method against rows ----

def _term(kind, scale, other, outer):
    """One term of two inputs of its own: outer * g(scale * x_i ...), with g one of sqrt, exp, log, tanh, a dot squared.

    The inner scale reaches 1e-300 and 1e300; the outer one mostly balances it, so that products of f's constants
    leave the float range (1e-170 * 1e-170) while the Hessian does not: the case where folding them first loses it.
    """
    def term(x, i):
        u, v = x[i], x[i + 1]
        if kind == "sqrt":
            return outer * hl.sqrt(scale * (1 + u ** 2))
        if kind == "log":
            return outer * hl.log(scale * (1 + u ** 2))
        if kind == "exp":
            return outer * hl.exp(hl.dot([scale, other], [u, v]))
        if kind == "tanh":
            return outer * hl.tanh(scale * u + v)
        return outer * hl.dot([scale, other], [u, v]) ** 2
    return term


# Inner scales 10^a with |a| at most this, per kind: beyond it a local second partial itself leaves the float range
# (sqrt's at 1e300 is 1e-450), which the README's floating-point section says the tape-like methods cannot recover.
LARGEST_EXPONENT = {"sqrt": 200, "log": 150, "exp": 300, "tanh": 300, "dot": 150}
BALANCE = {"sqrt": -0.5, "log": 0.0, "exp": 0.0, "tanh": -1.0, "dot": -2.0}  # outer = 10^(BALANCE * a) * 10^(±20)


@st.composite
def extreme_programs(draw):
    """f as a sum of one to three terms with extreme constants, each on inputs of its own, and a point in [-2, 2]."""
    terms, described = [], []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(LARGEST_EXPONENT)))
        a = draw(st.floats(-LARGEST_EXPONENT[kind], LARGEST_EXPONENT[kind]))
        other = draw(st.sampled_from([-1.0, 1.0])) * 10.0 ** draw(st.floats(-150, 0 if kind == "exp" else 150))
        outer = draw(st.sampled_from([-1.0, 1.0])) * 10.0 ** min(300.0, BALANCE[kind] * a + draw(st.floats(-20, 20)))
        terms.append(_term(kind, 10.0 ** a, other, outer))
        described.append((kind, 10.0 ** a, other, outer))
    n = 2 * len(terms)
    point = draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n))
    return described, (lambda x: sum(term(x, 2 * k) for k, term in enumerate(terms))), n, point


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_programs())
def test_every_method_agrees_with_rows_on_extreme_constants(program):
    """Where rows answers, auto (on its first, second and third call) gives the same Hessian, and every other
    method gives it too or says by a RangeError that its own order of products leaves the float range here.
    Each term has inputs of its own, so H is block diagonal, and each block is compared at its own scale."""
    described, f, n, point = program
    g = hl.trace(f, n)
    try:
        expected = g.hessian(point, method="rows")
    except hl.DomainError:
        return
    for method in ["auto", "auto", "auto", *hl.HESSIAN_METHODS]:
        try:
            H = g.hessian(point, method=method)
        except hl.RangeError:
            assert method not in ("auto", "rows")
            continue
        for k, (kind, scale, _, outer) in zip(range(0, n, 2), described):  # each term's 2 x 2 block on its own scale:
            block, reference = H[k:k + 2, k:k + 2], expected[k:k + 2, k:k + 2]  # its largest entry, and the size of
            cancelling = abs(outer) * {"log": 1.0, "sqrt": scale ** 0.5}.get(kind, 0.0)  # the parts log's and sqrt's
            tolerance = 1e-9 * np.max(np.abs(reference)) + 1e-12 * cancelling + 1e-200  # second partials cancel
            assert np.all(np.abs(block - reference) <= tolerance), (method, described, H, expected)
        assert np.count_nonzero(H) <= 4 * len(described), (method, described, H)


# ---- hostile text: nothing but ParseError, and nothing executed ----

_watching = []


def _audit(event, args):
    """Record every audited event (exec, compile, import, open, os.system, ...) while a check is watching."""
    if _watching:
        _watching[-1].append(event)


sys.addaudithook(_audit)


def check_harmless(text):
    """Parse text: a ParseError, or an f that evaluates to a number or a HessianLabError; and no audited event."""
    events = []
    _watching.append(events)
    try:
        try:
            f, names = hl.parse(text)
        except hl.ParseError:
            return
        try:
            x0 = np.full(len(names), 0.75)
            value = f(x0)
            assert isinstance(value, float)
            if names:
                assert hl.gradient(f, x0).shape == (len(names),)
        except hl.HessianLabError:
            pass
    finally:
        _watching.pop()
        assert events == [], (text, events)


HOSTILE = [
    "__import__('os').system('x')",
    "__import__",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "lambda x: x",
    "'a'",
    '"a"',
    "x.y",
    "x.__class__",
    "exec('1')",
    "eval('1')",
    "open('/etc/passwd')",
    "import os",
    "x; y",
    "x if y else z",
    "[x for x in y]",
    "{}",
    "x[0]",
    "sin(x, y)",
    "f(x)",
    "sin",
    "x @ y",
    "x // y",
    "x % y",
    "x == y",
    "not x",
    "x and y",
    "x = 1",
    "1" * 100_000,
    "(" * 5000,
    ")" * 5000,
    "(" * 5000 + "x" + ")" * 5000,
    "-" * 5000 + "x",
    "x^" * 3000 + "x",
    "sin(" * 2000 + "x" + ")" * 2000,
    "x" * 10_001,
    "x + " * 2499 + "x",
    "1e999",
    "1e-999 * x",
    "9^9^9^9",
    "0^-1 + x",
    "0/0",
    "x²",
    "\u2212x",
    "𝑥 + 1",
    "١ + x",
    "x\x00",
    "\x00",
    "\ufeffx",
    "",
    " ",
    "\n\t",
    "${x}",
    "`x`",
    "x\\",
    "#x",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_a_parse_error_and_runs_nothing(text):
    """Every string from the list above: a ParseError (or a harmless expression), and no audited event."""
    check_harmless(text)


def test_the_audit_hook_would_see_an_exec():
    """The watcher works: compiling and executing code inside a watched block are recorded."""
    events = []
    _watching.append(events)
    try:
        exec("import string")  # noqa: S102  (test of the watcher itself, on a constant)
    finally:
        _watching.pop()
    assert {"compile", "exec"} <= set(events)


@settings(max_examples=1000)
@given(st.text(max_size=200))
def test_random_text_never_raises_anything_but_parse_error(text):
    """Any unicode text: a ParseError or a valid expression, and nothing executed."""
    check_harmless(text)


GRAMMAR_CHARACTERS = string.ascii_letters[:8] + "xyz0123456789.eE+-*/^() _"
HOSTILE_CHARACTERS = "'\"`,;:[]{}=<>!@#$%&|~\\\t\n\x00λ²−_."


EDITS = st.lists(
    st.tuples(st.sampled_from(["insert", "delete", "replace", "repeat"]), st.integers(0, 10**6),
              st.sampled_from(GRAMMAR_CHARACTERS + HOSTILE_CHARACTERS)),
    min_size=1, max_size=4,
)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(3), EDITS)
def test_mutated_expressions_never_raise_anything_but_parse_error(tree, edits):
    """A valid expression with random insertions, deletions, replacements and repeats: still harmless."""
    text = to_text(tree)[0]
    for edit, where, character in edits:
        k = where % (len(text) + 1)
        if edit == "insert":
            text = text[:k] + character + text[k:]
        elif edit == "delete":
            text = text[:k] + text[k + 1 :]
        elif edit == "replace":
            text = text[:k] + character + text[k + 1 :]
        else:
            text = text[:k] + text[k:] * 2
    check_harmless(text)


@settings(max_examples=600)
@given(expressions(5))
def test_printing_then_parsing_keeps_the_value(tree):
    """Precedence and associativity: the printed text, parsed, computes the tree's own value (floats, no graph)."""
    text, f, names = parsed(tree)
    point = [0.25 * (1 + NAMES.index(name)) for name in names]
    assume(moderate(tree, names, point))
    expected = real_value(to_sympy(tree), {SYMBOLS[n]: sympy.Float(v, 30) for n, v in zip(names, point)})
    assert f(point) == pytest.approx(expected, rel=1e-9, abs=1e-12), text
