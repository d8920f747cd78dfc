"""One primitive, one row: a row added to the table, and nothing else, works in every method, in Taylor mode,
in sparse Hessians and in the parser, exactly as sympy says; and what the table derives (exports, Node's
operators, the parser's functions) follows the table."""

import numpy as np
import pytest
import sympy as sp

import hessian_lab as hl
from functions import assert_round_off, derivative_function, symbols
from hessian_lab import ops
from hessian_lab.parse import functions as parsed_functions
from hessian_lab.ops import PRIMITIVES, Primitive

NAME = "expm1_row_test"  # a name no other test uses: the table's caches are keyed by it


@pytest.fixture
def new_row(monkeypatch):
    """The table with one more row, e^a - 1 (partial e^a = y + 1, written with graph ops), for this test only."""
    row = Primitive(np.expm1, lambda a, y: (y + 1,), public=True)
    monkeypatch.setitem(PRIMITIVES, NAME, row)
    return lambda a: ops.apply(NAME, a)


def body(x, fn, lib_sin, lib_log):
    """f(x) = fn(x0 x1) sin(x2) + log(2 + fn(x2)) + fn(x0)^3, with fn the new primitive (or sympy's e^a - 1)."""
    return fn(x[0] * x[1]) * lib_sin(x[2]) + lib_log(2 + fn(x[2])) + fn(x[0]) ** 3


POINT = np.array([0.4, -0.7, 0.9])


def oracle(k):
    """sympy's exact k-th derivatives of the same f, built with exp(a) - 1."""
    xs = symbols(3)
    expr = body(xs, lambda a: sp.exp(a) - 1, sp.sin, sp.log)
    return derivative_function(expr, xs, k)(POINT)


def test_a_new_row_gives_value_gradient_and_every_hessian_method(new_row):
    """Value, gradient and all eight Hessian methods (and auto) agree with sympy."""
    f = lambda x: body(x, new_row, hl.sin, hl.log)  # noqa: E731
    xs = symbols(3)
    exact_value = float(body(xs, lambda a: sp.exp(a) - 1, sp.sin, sp.log).subs(dict(zip(xs, POINT))))
    assert hl.trace(f, 3).value(POINT) == pytest.approx(exact_value, rel=1e-14)
    assert_round_off(hl.gradient(f, POINT), oracle(1))
    for method in ["auto", *hl.HESSIAN_METHODS]:
        assert_round_off(hl.hessian(f, POINT, method=method), oracle(2))
    assert_round_off(hl.sparse_hessian(f, POINT).toarray(), oracle(2))
    assert_round_off(hl.hvp(f, POINT, [1.0, -2.0, 0.5]), oracle(2) @ [1.0, -2.0, 0.5])


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("method", ["nested", "taylor"])
def test_a_new_row_gives_derivative_tensors_nested_and_taylor(new_row, method, k):
    """Nesting uses the row's partials; Taylor mode derives its series rule from the same partials."""
    f = lambda x: body(x, new_row, hl.sin, hl.log)  # noqa: E731
    assert_round_off(hl.derivative_tensor(f, POINT, k, method=method), oracle(k), rtol=1e-11)


def test_a_new_public_row_is_parsed(new_row):
    """The parser's functions are the table's public rows, read at parse time."""
    assert NAME in parsed_functions()
    f, names = hl.parse(f"{NAME}(x*y)*sin(z) + log(2 + {NAME}(z)) + {NAME}(x)^3")
    assert names == ["x", "y", "z"]
    assert_round_off(hl.hessian(f, POINT, method="rows"), oracle(2))


def test_without_the_row_the_name_is_unknown():
    """The fixture's row really is the only thing that made it work."""
    assert NAME not in PRIMITIVES
    with pytest.raises(hl.ParseError, match="unknown function"):
        hl.parse(f"{NAME}(x)")


def test_exports_and_operators_come_from_the_table():
    """hl.<name> exists for every public row (log1p and softplus included), and Node's operators are the table's rows."""
    public = [name for name, row in PRIMITIVES.items() if row.public]
    assert {"log1p", "softplus", "sin", "abs", "relu"} <= set(public)
    for name in public:
        assert getattr(hl, name).__name__ == name and name in parsed_functions()
    g = hl.trace(lambda x: abs(-(x[0] + x[1]) * x[0] / x[1] - x[0] ** 2 ** x[1]), 2)
    assert {v.op for v in g.nodes} >= {"add", "neg", "mul", "div", "sub", "pow", "abs"}
    assert {row.infix for row in PRIMITIVES.values() if row.infix} == set(hl.Node.INFIX.values())


def test_log1p_and_softplus_are_exact_where_the_naive_formulas_are_not():
    """log1p(1e-20) and softplus(-800), softplus(800) are exact; their derivatives 1/(1+x) and sigmoid(x)."""
    assert hl.log1p(1e-20) == 1e-20
    assert hl.softplus(800.0) == 800.0 and hl.softplus(-800.0) == pytest.approx(np.exp(-800.0), rel=1e-12)
    assert hl.gradient(lambda x: hl.softplus(x[0]), [-800.0])[0] == pytest.approx(np.exp(-800.0), rel=1e-12)
    assert_round_off(hl.gradient(lambda x: hl.log1p(x[0]), [1e-20]), [1.0])
    with pytest.raises(hl.DomainError, match="log1p"):
        hl.gradient(lambda x: hl.log1p(x[0]), [-1.0])


def _step(numpy_step):
    """A step for sympy: the constant it takes at the point, so sympy's derivatives of it are 0, as the row's are."""
    return lambda a: sp.Float(float(numpy_step(float(a.subs(dict(zip(symbols(3), POINT)))))))


# The rows numpy's names brought (issue 21): name -> its sympy twin, and whether it takes two arguments.
NEW_ROWS = {
    "arctan": (sp.atan, 1), "sinh": (sp.sinh, 1), "cosh": (sp.cosh, 1), "log10": (lambda a: sp.log(a, 10), 1),
    "log2": (lambda a: sp.log(a, 2), 1), "expm1": (lambda a: sp.exp(a) - 1, 1),
    "floor": (_step(np.floor), 1), "ceil": (_step(np.ceil), 1), "round": (_step(np.rint), 1),
    "sign": (_step(np.sign), 1),
    "arctan2": (sp.atan2, 2), "hypot": (lambda a, b: sp.sqrt(a ** 2 + b ** 2), 2),
}


def row_body(x, fn, arity, lib_sin):
    """f(x) with the row twice, nested in products and powers, its arguments where every row is defined and smooth."""
    if arity == 1:
        return fn(x[0] * x[1] + 1.5) * lib_sin(x[2]) + fn(x[2] + 2) ** 2 * x[0] + fn(fn(x[2] + 2) + 1.5) * x[1]
    return fn(x[0] + x[1] * x[2], x[2] - x[0]) * x[1] + fn(x[1], x[0] + 2) ** 2 + fn(x[0] * x[2], fn(x[1], 2.0))


@pytest.mark.parametrize("name", list(NEW_ROWS))
def test_each_new_row_agrees_with_sympy_in_every_method(name):
    """Value, gradient, every Hessian method, sparse, hvp, and nested and Taylor third derivatives equal sympy's."""
    twin, arity = NEW_ROWS[name]
    row = PRIMITIVES[name]
    f = lambda x: row_body(x, getattr(hl, name), arity, hl.sin)  # noqa: E731
    xs = symbols(3)
    expr = row_body(xs, twin, arity, sp.sin)
    assert hl.trace(f, 3, at=POINT).value(POINT) == pytest.approx(float(expr.subs(dict(zip(xs, POINT)))), rel=1e-13)
    exact = {k: derivative_function(expr, xs, k)(POINT) for k in (1, 2, 3)}
    assert_round_off(hl.gradient(f, POINT), exact[1])
    for method in ["auto", *hl.HESSIAN_METHODS]:
        assert_round_off(hl.hessian(f, POINT, method=method), exact[2])
    assert_round_off(hl.sparse_hessian(f, POINT).toarray(), exact[2])
    assert_round_off(hl.hvp(f, POINT, [1.0, -2.0, 0.5]), exact[2] @ [1.0, -2.0, 0.5])
    for method in ("nested", "taylor"):
        assert_round_off(hl.derivative_tensor(f, POINT, 3, method=method), exact[3], rtol=1e-11)
    assert row.public and (row.jumps == (name in ("floor", "ceil", "round", "sign")))


@pytest.mark.parametrize("name", list(NEW_ROWS))
def test_each_new_row_is_parsed_and_written(name):
    """The course syntax calls each new row by its name (two arguments for arctan2 and hypot), and to_text writes it."""
    arity = NEW_ROWS[name][1]
    text = f"{name}(x*y + 1.5) + 0*z" if arity == 1 else f"{name}(x + y*z, z - x)"
    f, names = hl.parse(text)
    g = hl.trace(f, 3, at=POINT)
    assert hl.to_text(g.output if arity == 2 else g.output.args[0]).startswith(f"{name}(")
    expected = getattr(np, name if name != "round" else "rint")(*(
        [POINT[0] * POINT[1] + 1.5] if arity == 1 else [POINT[0] + POINT[1] * POINT[2], POINT[2] - POINT[0]]))
    assert g.value(POINT) == pytest.approx(float(expected), rel=1e-15)


@pytest.mark.parametrize("name, at, crossed", [("floor", 1.5, 2.1), ("ceil", 1.5, 0.9), ("round", 1.4, 1.6),
                                                ("sign", 0.3, -0.2)])
def test_a_step_is_a_branch_a_reused_trace_refuses_past_its_jump(name, at, crossed):
    """A step records the piece it is on, so the trace answers on that piece and raises the comparisons' BranchError past
    a jump; without a point to decide at, tracing it is the comparisons' TraceError."""
    f = lambda x: getattr(hl, name)(x[0]) * x[1] ** 2  # noqa: E731
    g = hl.trace(f, 2, at=[at, 1.0])
    piece = float(getattr(np, name if name != "round" else "rint")(at))
    assert [str(c) for c, _ in g.branches] == [f"{name}(x[0]) == {piece!r}"]
    np.testing.assert_array_equal(g.hessian([at + 0.05, 3.0], method="rows"), [[0.0, 0.0], [0.0, 2 * piece]])
    with pytest.raises(hl.BranchError, match=rf"{name}\(x\[0\]\) == "):
        g.hessian([crossed, 3.0])
    with pytest.raises(hl.TraceError, match="at=x0"):
        hl.trace(f, 2)


def test_arctan2_and_hypot_refuse_where_they_are_not_differentiable():
    """arctan2 on its cut (y = 0, x <= 0) and hypot at (0, 0) are DomainErrors that say why."""
    with pytest.raises(hl.DomainError, match="cut"):
        hl.gradient(lambda x: hl.arctan2(x[0], x[1]), [0.0, -1.0])
    with pytest.raises(hl.DomainError, match=r"\(0, 0\)"):
        hl.gradient(lambda x: hl.hypot(x[0], x[1]), [0.0, 0.0])
    np.testing.assert_allclose(hl.gradient(lambda x: hl.arctan2(x[0], x[1]), [0.0, 1.0]), [1.0, 0.0])
