"""f written with numpy runs as written (issue 21): classic published test functions, each written in numpy style from
its published formula with this module's own numpy imports and no shim, agree with sympy's exact Hessian (the same
formula transcribed independently) in every method; numpy arrays sit on either side of a node's operator; numpy's
names map to the table's rows, one node per operation; a name with no row is a named error."""

import builtins

import numpy as np
import pytest
import sympy as sp
from numpy import abs, arange, cos, e, exp, floor, mean, pi, prod, sin, sqrt, sum  # noqa: A004  (as published modules do)

import hessian_lab as hl
from functions import SYMPY, assert_round_off, derivative_function, symbols

# Each function as published (Jamil & Yang 2013, "A literature survey of benchmark functions for global optimisation";
# Surjanovic & Bingham, the Virtual Library of Simulation Experiments), written the way numpy code writes it.


def rosenbrock(x):
    return sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)


def rastrigin(x):
    return 10 * len(x) + sum(x ** 2 - 10 * cos(2 * pi * x))


def ackley(x):
    return -20 * exp(-0.2 * sqrt(mean(x ** 2))) - exp(mean(cos(2 * pi * x))) + 20 + e


def griewank(x):
    return 1 + sum(x ** 2) / 4000 - prod(cos(x / sqrt(arange(1, len(x) + 1))))


def styblinski_tang(x):
    return 0.5 * sum(x ** 4 - 16 * x ** 2 + 5 * x)


def beale(x):
    return (1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2 \
        + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2


def booth(x):
    return (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2


def matyas(x):
    return 0.26 * (x[0] ** 2 + x[1] ** 2) - 0.48 * x[0] * x[1]


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def three_hump_camel(x):
    return 2 * x[0] ** 2 - 1.05 * x[0] ** 4 + x[0] ** 6 / 6 + x[0] * x[1] + x[1] ** 2


def dixon_price(x):
    i = arange(2, len(x) + 1)
    return (x[0] - 1) ** 2 + sum(i * (2 * x[1:] ** 2 - x[:-1]) ** 2)


def zakharov(x):
    weighted = sum(0.5 * arange(1, len(x) + 1) * x)
    return sum(x ** 2) + weighted ** 2 + weighted ** 4


def levy(x):
    w = 1 + (x - 1) / 4
    middle = sum((w[:-1] - 1) ** 2 * (1 + 10 * sin(pi * w[:-1] + 1) ** 2))
    return sin(pi * w[0]) ** 2 + middle + (w[-1] - 1) ** 2 * (1 + sin(2 * pi * w[-1]) ** 2)


def trid(x):
    return sum((x - 1) ** 2) - sum(x[1:] * x[:-1])


def sum_of_squares(x):
    return sum(arange(1, len(x) + 1) * x ** 2)


def powell(x):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return sum((a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4 + 10 * (a - d) ** 4)


def schwefel(x):
    return 418.9829 * len(x) - sum(x * sin(sqrt(abs(x))))


def alpine(x):
    return sum(abs(x * sin(x) + 0.1 * x))


def michalewicz(x):
    return -sum(sin(x) * sin(arange(1, len(x) + 1) * x ** 2 / pi) ** 20)


def easom(x):
    return -cos(x[0]) * cos(x[1]) * exp(-((x[0] - pi) ** 2 + (x[1] - pi) ** 2))


def bohachevsky(x):
    return x[0] ** 2 + 2 * x[1] ** 2 - 0.3 * cos(3 * pi * x[0]) - 0.4 * cos(4 * pi * x[1]) + 0.7


T = np.arange(1, 11) / 10


def box_three(x):
    return sum((exp(-T * x[0]) - exp(-T * x[1]) - x[2] * (exp(-T) - exp(-10 * T))) ** 2)


def step_plus_sphere(x):
    return sum(floor(x + 0.5) ** 2) + sum(x ** 2) * np.sign(x[0])


Q = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.5, -1.0, 2.0]])
B = np.array([1.0, -2.0, 0.5])


def quadratic(x):
    return 0.5 * x @ Q @ x - B @ x + np.dot(x, x) ** 2


def spiral(x):
    return np.hypot(x[0], x[1]) - 0.3 * np.arctan2(x[1], x[0]) + np.log10(1 + x[0] ** 2) * np.cosh(x[1]) \
        + np.arctan(x[0] * x[1]) + np.log2(2 + x[1] ** 2) + np.expm1(0.1 * x[0]) * np.sinh(x[1])


# The same formulas for sympy, on a list of symbols: the oracle.
S = SYMPY


def _i(n, start=1):
    return range(start, start + n)


ORACLES = {
    rosenbrock: lambda s: sp.Add(*(100 * (s[i + 1] - s[i] ** 2) ** 2 + (1 - s[i]) ** 2 for i in range(len(s) - 1))),
    rastrigin: lambda s: 10 * len(s) + sp.Add(*(v ** 2 - 10 * sp.cos(2 * sp.pi * v) for v in s)),
    ackley: lambda s: -20 * sp.exp(-sp.Rational(1, 5) * sp.sqrt(sp.Add(*(v ** 2 for v in s)) / len(s)))
    - sp.exp(sp.Add(*(sp.cos(2 * sp.pi * v) for v in s)) / len(s)) + 20 + sp.E,
    griewank: lambda s: 1 + sp.Add(*(v ** 2 for v in s)) / 4000
    - sp.Mul(*(sp.cos(v / sp.sqrt(i)) for v, i in zip(s, _i(len(s))))),
    styblinski_tang: lambda s: sp.Add(*(v ** 4 - 16 * v ** 2 + 5 * v for v in s)) / 2,
    beale: lambda s: (sp.Rational(3, 2) - s[0] + s[0] * s[1]) ** 2 + (sp.Rational(9, 4) - s[0] + s[0] * s[1] ** 2) ** 2
    + (sp.Rational(21, 8) - s[0] + s[0] * s[1] ** 3) ** 2,
    booth: lambda s: (s[0] + 2 * s[1] - 7) ** 2 + (2 * s[0] + s[1] - 5) ** 2,
    matyas: lambda s: sp.Rational(26, 100) * (s[0] ** 2 + s[1] ** 2) - sp.Rational(48, 100) * s[0] * s[1],
    himmelblau: lambda s: (s[0] ** 2 + s[1] - 11) ** 2 + (s[0] + s[1] ** 2 - 7) ** 2,
    three_hump_camel: lambda s: 2 * s[0] ** 2 - sp.Rational(105, 100) * s[0] ** 4 + s[0] ** 6 / 6 + s[0] * s[1] + s[1] ** 2,
    dixon_price: lambda s: (s[0] - 1) ** 2 + sp.Add(*(i * (2 * s[i - 1] ** 2 - s[i - 2]) ** 2 for i in _i(len(s) - 1, 2))),
    zakharov: lambda s: sp.Add(*(v ** 2 for v in s)) + sp.Add(*(i * v / 2 for v, i in zip(s, _i(len(s))))) ** 2
    + sp.Add(*(i * v / 2 for v, i in zip(s, _i(len(s))))) ** 4,
    levy: lambda s: (lambda w: sp.sin(sp.pi * w[0]) ** 2
                     + sp.Add(*((v - 1) ** 2 * (1 + 10 * sp.sin(sp.pi * v + 1) ** 2) for v in w[:-1]))
                     + (w[-1] - 1) ** 2 * (1 + sp.sin(2 * sp.pi * w[-1]) ** 2))([1 + (v - 1) / 4 for v in s]),
    trid: lambda s: sp.Add(*((v - 1) ** 2 for v in s)) - sp.Add(*(s[i] * s[i - 1] for i in range(1, len(s)))),
    sum_of_squares: lambda s: sp.Add(*(i * v ** 2 for v, i in zip(s, _i(len(s))))),
    powell: lambda s: sp.Add(*((s[k] + 10 * s[k + 1]) ** 2 + 5 * (s[k + 2] - s[k + 3]) ** 2 + (s[k + 1] - 2 * s[k + 2]) ** 4
                               + 10 * (s[k] - s[k + 3]) ** 4 for k in range(0, len(s), 4))),
    schwefel: lambda s: sp.Float(418.9829) * len(s) - sp.Add(*(v * sp.sin(sp.sqrt(S.abs(v))) for v in s)),
    alpine: lambda s: sp.Add(*(S.abs(v * sp.sin(v) + v / 10) for v in s)),
    michalewicz: lambda s: -sp.Add(*(sp.sin(v) * sp.sin(i * v ** 2 / sp.pi) ** 20 for v, i in zip(s, _i(len(s))))),
    easom: lambda s: -sp.cos(s[0]) * sp.cos(s[1]) * sp.exp(-((s[0] - sp.pi) ** 2 + (s[1] - sp.pi) ** 2)),
    bohachevsky: lambda s: s[0] ** 2 + 2 * s[1] ** 2 - sp.Rational(3, 10) * sp.cos(3 * sp.pi * s[0])
    - sp.Rational(4, 10) * sp.cos(4 * sp.pi * s[1]) + sp.Rational(7, 10),
    box_three: lambda s: sp.Add(*((sp.exp(-t * s[0]) - sp.exp(-t * s[1]) - s[2] * (sp.exp(-t) - sp.exp(-10 * t))) ** 2
                                  for t in (sp.Rational(k, 10) for k in range(1, 11)))),
    step_plus_sphere: None,  # written below: the steps take their values at the point
    quadratic: lambda s: sp.Rational(1, 2) * sp.Add(*(float(Q[i, j]) * s[i] * s[j] for i in range(3) for j in range(3)))
    - sp.Add(*(float(b) * v for b, v in zip(B, s))) + sp.Add(*(v ** 2 for v in s)) ** 2,
    spiral: lambda s: sp.sqrt(s[0] ** 2 + s[1] ** 2) - sp.Rational(3, 10) * sp.atan2(s[1], s[0])
    + sp.log(1 + s[0] ** 2, 10) * sp.cosh(s[1]) + sp.atan(s[0] * s[1]) + sp.log(2 + s[1] ** 2, 2)
    + (sp.exp(s[0] / 10) - 1) * sp.sinh(s[1]),
}

POINTS = {
    rosenbrock: [-1.2, 1.0, 0.8, -0.5, 1.5], rastrigin: [0.3, -1.2, 2.1], ackley: [0.4, -0.7, 1.1],
    griewank: [1.5, -2.0, 0.7, 3.1], styblinski_tang: [-2.9, 1.3, 0.2], beale: [2.5, 0.4], booth: [1.1, 2.9],
    matyas: [0.5, -1.5], himmelblau: [2.8, 2.1], three_hump_camel: [0.7, -0.4], dixon_price: [1.2, -0.7, 0.5, 0.9],
    zakharov: [0.3, -0.2, 0.6], levy: [1.3, -0.4, 2.2, 0.9], trid: [1.0, 2.5, -0.5, 3.0],
    sum_of_squares: [0.4, -1.1, 0.9], powell: [3.0, -1.0, 0.5, 1.2, -0.4, 0.8, 1.1, -0.6],
    schwefel: [420.0, -302.5, 65.5], alpine: [0.8, -1.7, 2.4], michalewicz: [2.2, 1.57, 1.3], easom: [3.0, 3.3],
    bohachevsky: [0.2, -0.35], box_three: [1.2, 9.0, 0.8], step_plus_sphere: [0.3, 1.7, -1.2],
    quadratic: [0.5, -1.0, 1.5], spiral: [0.6, -0.8],
}


def oracle(f, point):
    """sympy's exact (value, gradient, Hessian) of f's published formula at point."""
    xs = symbols(len(point))
    if f is step_plus_sphere:  # floor and sign are constant on the piece around the point: derivative 0, as jax takes it
        steps = np.floor(np.asarray(point) + 0.5) ** 2
        expr = float(steps.sum()) + sp.Add(*(v ** 2 for v in xs)) * float(np.sign(point[0]))
    else:
        expr = ORACLES[f](list(xs))
    value = float(sp.sympify(expr).subs(dict(zip(xs, point))))
    return [value] + [derivative_function(expr, xs, k)(point) for k in (1, 2)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::numpy.exceptions.ComplexWarning")  # sympy's Piecewise
@pytest.mark.parametrize("f", list(POINTS), ids=lambda f: f.__name__)
def test_a_published_function_written_with_numpy_agrees_with_sympy_in_every_method(f):
    """Value, gradient, every Hessian method, sparse and hvp: each as sympy says, to round-off (well inside 1e-8)."""
    point = POINTS[f]
    value, gradient, hessian = oracle(f, point)
    assert hl.trace(f, len(point), at=point).value(point) == pytest.approx(float(value), rel=1e-12)
    assert_round_off(hl.gradient(f, point), gradient, rtol=1e-10)
    for method in ["auto", *hl.HESSIAN_METHODS]:
        assert_round_off(hl.hessian(f, point, method=method), hessian, rtol=1e-10)
    assert_round_off(hl.sparse_hessian(f, point).toarray(), hessian, rtol=1e-10)
    v = np.linspace(-1.0, 1.0, len(point))
    assert_round_off(hl.hvp(f, point, v), hessian @ v, rtol=1e-10)


@pytest.mark.parametrize("f", [levy, griewank, spiral, box_three], ids=lambda f: f.__name__)
@pytest.mark.parametrize("method", ["nested", "taylor"])
def test_third_derivatives_of_numpy_functions_by_nesting_and_taylor(f, method):
    """∇³f by nesting and by Taylor mode, through numpy's names, equal sympy's."""
    point = POINTS[f]
    xs = symbols(len(point))
    exact = derivative_function(ORACLES[f](list(xs)), xs, 3)(point)
    assert_round_off(hl.derivative_tensor(f, point, 3, method=method), exact, rtol=1e-9)


def rosenbrock_hl(x):
    """Rosenbrock as the course writes it: hl.sum over a list of node expressions."""
    return hl.sum([100.0 * (x[i + 1] - x[i] ** 2.0) ** 2.0 + (1 - x[i]) ** 2.0 for i in range(len(x) - 1)])


def test_numpy_and_hl_build_the_same_graph():
    """np.sum over slices is one n-ary sum node over the same terms as hl.sum: the same ops, nodes and edges."""
    numpy_graph, hl_graph = hl.trace(rosenbrock, 6), hl.trace(rosenbrock_hl, 6)
    assert (numpy_graph.num_nodes, numpy_graph.m) == (hl_graph.num_nodes, hl_graph.m)
    assert sorted(v.op for v in numpy_graph.nodes) == sorted(v.op for v in hl_graph.nodes)
    assert numpy_graph.output.op == "sum" and len(numpy_graph.output.args) == 5


def test_a_matrix_times_nodes_is_one_dot_node_per_output():
    """A @ x, x @ A and np.dot(A, x) make one dot node per output; between two arrays of nodes, one sum of products."""
    A = np.arange(6.0).reshape(2, 3)
    x = _inputs(3)
    for product in (lambda x: A @ x, lambda x: x @ A.T, lambda x: np.dot(A, x)):
        rows = product(x)
        assert [r.op for r in rows] == ["dot", "dot"] and [len(r.args) for r in rows] == [3, 3]
    g = hl.trace(quadratic, 3)
    ops = [v.op for v in g.nodes]
    assert ops.count("dot") == 4 and ops.count("sum") == 2  # x @ Q's three columns and B @ x; (x Q) @ x and np.dot(x, x)


def _inputs(n):
    """The x a trace hands f, caught from inside f."""
    caught = []
    hl.trace(lambda x: caught.append(x) or x[0], n)
    return caught[0]


@pytest.mark.parametrize("operation", [
    lambda a, t: a * t, lambda a, t: a ** t, lambda a, t: a - t, lambda a, t: a + t, lambda a, t: a / t,
    lambda a, t: t - a, lambda a, t: t ** a, lambda a, t: np.exp(-t * a),
], ids=["node*t", "node**t", "node-t", "node+t", "node/t", "t-node", "t**node", "exp(-t*node)"])
def test_a_node_and_an_array_broadcast_as_a_float_and_an_array_do(operation):
    """`x[0] op t` with t an ndarray is an array of nodes, entry by entry as `float op t` is, on either side."""
    t = np.array([0.5, 2.0, 3.0])
    f = lambda x: sum(operation(x[0], t) * np.array([1.0, -2.0, 0.5]))  # noqa: E731
    h = 1e-6
    numeric = (f(np.array([1.3 + h])) - f(np.array([1.3 - h]))) / (2 * h)
    assert np.shape(operation(_inputs(1)[0], t)) == (3,)
    assert hl.gradient(f, [1.3])[0] == pytest.approx(numeric, rel=1e-7)


def test_x_is_a_numpy_array_that_still_reads_like_a_list():
    """x[0] is a node, len(x), iteration and sum() work, slices broadcast, and reading past the end names n."""
    x = _inputs(3)
    assert isinstance(x, np.ndarray) and len(x) == 3 and all(isinstance(v, hl.Node) for v in x)
    assert builtins.sum(x).op == "add" and x[-1].param == 2 and (x[1:] - x[:-1]).shape == (2,)
    with pytest.raises(hl.ShapeError, match=r"x\[3\].*n = 3"):
        hl.gradient(lambda x: x[3], [1.0, 2.0, 3.0])


def test_f_may_return_a_one_entry_array():
    """A 0-d or one-entry array of a node is f's output node."""
    for f in (lambda x: np.asarray(x[0] * x[1]), lambda x: np.array([x[0] * x[1]]), lambda x: x[:1] * x[1:]):
        np.testing.assert_array_equal(hl.gradient(f, [2.0, 3.0]), [3.0, 2.0])


def test_object_arrays_that_f_builds_itself_work_entry_by_entry():
    """np.asarray(x) and np.array([...]) are numpy's own object arrays: np.cos & co. call Node's methods of their names."""
    f = lambda x: np.sum(np.cos(np.asarray(x)) * np.array([x[1], 2.0]) + np.arctan2(np.asarray(x), 2.0))  # noqa: E731
    a, b = 0.4, -1.1
    expected = [-np.sin(a) * b + 2 / (4 + a * a), np.cos(a) - 2 * np.sin(b) + 2 / (4 + b * b)]
    assert_round_off(hl.gradient(f, [a, b]), expected)


@pytest.mark.parametrize("call, name", [
    (lambda x: np.arcsin(x[0]), "arcsin"), (lambda x: np.sum(np.arccos(x)), "arccos"),
    (lambda x: np.cbrt(x[0] * x[1]), "cbrt"), (lambda x: np.mod(x, 2.0)[0], "remainder"),
])
def test_a_numpy_function_without_a_row_is_a_named_error(call, name):
    """numpy's functions with no row raise NodeConversionError naming numpy's function and what to write instead."""
    with pytest.raises(hl.NodeConversionError, match=rf"numpy's {name} .*no row.* Write it with numpy's functions"):
        hl.gradient(call, [0.3, 0.4])


def test_floor_and_sign_from_numpy_are_branches_of_a_reused_trace():
    """np.floor(x) and np.sign(x[0]) record their pieces: a reused trace answers on them and refuses past a jump."""
    g = hl.trace(step_plus_sphere, 3, at=POINTS[step_plus_sphere])
    assert [str(c).split(" ==")[0] for c, _ in g.branches] == [
        "floor((x[0] + 0.5))", "floor((x[1] + 0.5))", "floor((x[2] + 0.5))", "sign(x[0])"]
    np.testing.assert_array_equal(g.hessian([0.2, 1.8, -1.4], method="rows"), 2 * np.eye(3))
    for crossed in ([0.3, 1.4, -1.2], [-0.3, 1.7, -1.2]):
        with pytest.raises(hl.BranchError, match="floor|sign"):
            g.hessian(crossed)


def test_maximum_minimum_and_where_are_branches():
    """np.maximum, np.minimum and np.where on comparisons record the branch each entry took."""
    f = lambda x: np.sum(np.maximum(x, 0.0) ** 2) + np.minimum(x[0], x[1]) + np.sum(np.where(x > 1, x, -x))  # noqa: E731
    g = hl.trace(f, 2, at=[0.5, 1.5])
    assert len(g.branches) == 5
    np.testing.assert_array_equal(g.gradient([0.5, 1.5]), [1.0 + 1.0 - 1.0, 3.0 + 1.0])
    with pytest.raises(hl.BranchError):
        g.gradient([-0.5, 1.5])


def test_the_readme_names_every_numpy_function_that_has_a_row():
    """The README's API section lists each numpy name of the one mapping (comparisons and matmul as such, and `@`)."""
    from pathlib import Path

    from hessian_lab.arrays import NUMPY
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    comparisons = {"less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "matmul"}
    missing = [f.__name__ for f in NUMPY if f.__name__ not in comparisons and f" {f.__name__}" not in readme
               and f"np.{f.__name__}" not in readme]
    assert not missing, f"README's API section does not name {missing}"
