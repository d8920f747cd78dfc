"""The catalogue of test functions, and sympy's exact derivatives of them: the oracle that cannot lie.

Each function is written once, against a library `lib` of elementary functions: with `lib = hl` it is
the hessian-lab function f(x) a student would write (and, on plain floats, an ordinary function);
with `lib = SYMPY` it builds the same expression in sympy, which differentiates it symbolically.
"""

import functools
from types import SimpleNamespace
from typing import Callable, NamedTuple

import numpy as np
import sympy as sp

import hessian_lab as hl

SYMPY = SimpleNamespace(
    sin=sp.sin, cos=sp.cos, tan=sp.tan, exp=sp.exp, log=sp.log, sqrt=sp.sqrt, tanh=sp.tanh,
    sigmoid=lambda a: 1 / (1 + sp.exp(-a)),
    log1p=lambda a: sp.log(1 + a),
    softplus=lambda a: sp.log(1 + sp.exp(a)),
    # The branch that runs, as hessian-lab differentiates it: Piecewise, so that sympy's derivatives stay lambdifiable.
    abs=lambda a: sp.Piecewise((a, a >= 0), (-a, True)),
    relu=lambda a: sp.Piecewise((a, a > 0), (0, True)),
    sum=lambda terms: sp.Add(*terms),
    dot=lambda coefficients, terms: sp.Add(*(float(c) * t for c, t in zip(coefficients, terms))),
)


class Case(NamedTuple):
    """One catalogue entry: f(x) for hessian-lab, the sympy builder of the same expression, n, and a point inside the domain."""

    name: str
    f: Callable
    sym: Callable
    n: int
    point: tuple


def written_once(body, n, point):
    """A Case from a body(x, lib) written once for both libraries."""
    return Case(body.__name__, functools.partial(body, lib=hl), functools.partial(body, lib=SYMPY), n, point)


def shared(x, lib):
    """Shared subexpressions: a is used twice by b, and b twice by c and again at the end."""
    a = x[0] * lib.sin(x[1])
    b = a + a
    c = b * b
    return c + b * x[2]


def rosenbrock(x, lib):
    """Rosenbrock's banana in n dimensions, as a Python loop under the built-in sum()."""
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


FEATURES = np.array([[1.0, -0.5, 0.25, 2.0], [0.3, 1.2, -1.0, 0.0], [-0.7, 0.4, 0.9, -1.1]])
LABEL = 1


def log_linear(theta, lib):
    """Softmax cross-entropy of a log-linear model: log Σ_k exp(φ_k·θ) - φ_y·θ, scores by hl.dot."""
    scores = [lib.dot(phi, theta) for phi in FEATURES]
    return lib.log(lib.sum([lib.exp(s) for s in scores])) - scores[LABEL]


_weights = np.random.default_rng(7)
W1 = _weights.normal(size=(4, 3))
B1 = _weights.normal(size=4)
W2 = _weights.normal(size=4)


def tanh_mlp(x, lib):
    """A 3-4-1 tanh network with fixed weights; the output layer multiplies numpy float64 weights by nodes."""
    hidden = [lib.tanh(lib.dot(W1[j], x) + B1[j]) for j in range(len(B1))]
    return sum(W2[j] * hidden[j] for j in range(len(W2)))


def x_pow_y(x, lib):
    """x ** y with both base and exponent variables: exp(y log x)."""
    return x[0] ** x[1]


def every_primitive(x, lib):
    """Every primitive and operator once: all functions, hl.sum, hl.dot, unary minus, division, constant powers, number ** node."""
    a, b, c = x
    return lib.sum([
        lib.sin(a) * lib.cos(b),
        lib.tan(a * 0.5),
        lib.exp(-b) / c,
        lib.log(c) * lib.sqrt(c + a * a),
        lib.tanh(a * b),
        lib.sigmoid(b - c),
        lib.abs(b) * a,  # b < 0 at the point: the -b branch
        lib.relu(a - b) ** 2 + lib.relu(b) * c,  # one active relu, one inactive
        lib.dot([0.5, -1.5, 2.0], [a * b, c ** -2, c ** 1.5]),
        a ** 3 - 1 / b,
        2.0 ** b,
    ])


def log1p_softplus(x, lib):
    """The table's newest rows, added as rows and nothing else: log1p and softplus, in sums and products."""
    a, b, c = x
    return lib.log1p(a * b) * c + lib.softplus(c - a) ** 2 + lib.log1p(lib.softplus(b))


def constant(x, lib):
    """A constant f: it reads no input, and its Hessian is zeros."""
    return 2.5


def ignores_inputs(x, lib):
    """f reads x[1] and x[3] only: rows and columns 0 and 2 of H are zero."""
    return x[1] * lib.exp(x[3]) + x[3] ** 2


def only_x0(x, lib):
    """f = x[0] alone: its graph is one input node, its gradient e_0, its Hessian zeros."""
    return x[0]


def branch_max(x):
    """A branching f: Python's max(x[0], x[1]), decided where the trace runs."""
    top = max(x[0], x[1])
    return top * x[2] ** 2 + hl.sin(top)


def branch_max_sympy(s):
    """branch_max for sympy: max as a Piecewise, whose derivatives are those of the branch that holds."""
    top = sp.Piecewise((s[1], s[1] > s[0]), (s[0], True))
    return top * s[2] ** 2 + sp.sin(top)


A = np.random.default_rng(3).normal(size=(4, 4))


def quadratic_dot(x, lib):
    """xᵀAx with hl.dot for each row of A x; A is not symmetric, and H = A + Aᵀ exactly."""
    return lib.sum([x[i] * lib.dot(A[i], x) for i in range(len(x))])


def quadratic_loops(x, lib):
    """xᵀAx as plain Python loops over entries of A, with float coefficients."""
    return sum(float(A[i, j]) * x[i] * x[j] for i in range(len(x)) for j in range(len(x)))


CATALOGUE = [
    written_once(shared, 3, (0.7, -0.4, 1.3)),
    written_once(rosenbrock, 5, (-1.2, 1.0, 0.8, -0.5, 1.5)),
    written_once(log_linear, 4, (0.2, -0.3, 0.5, 0.1)),
    written_once(tanh_mlp, 3, (0.5, -1.0, 0.25)),
    written_once(x_pow_y, 2, (1.3, 0.7)),
    written_once(every_primitive, 3, (0.7, -0.4, 1.3)),
    written_once(log1p_softplus, 3, (0.6, -0.9, 1.4)),
    written_once(constant, 3, (0.1, 0.2, 0.3)),
    written_once(ignores_inputs, 4, (0.3, -0.8, 1.1, 0.6)),
    written_once(only_x0, 2, (0.4, -0.9)),
    Case("branch_max", branch_max, branch_max_sympy, 3, (0.3, 0.8, -1.1)),
    written_once(quadratic_dot, 4, (0.5, -1.0, 1.5, 0.25)),
    written_once(quadratic_loops, 4, (0.5, -1.0, 1.5, 0.25)),
]

BY_NAME = {case.name: case for case in CATALOGUE}


def symbols(n):
    """n real sympy symbols x0..x{n-1}."""
    return sp.symbols(f"x0:{n}", real=True)


def derivative_function(expr, xs, k):
    """All k-th partial derivatives of a sympy expression, lambdified: point -> float64 array of shape (n,)*k."""
    derivative = sp.sympify(expr)
    for _ in range(k):
        derivative = sp.derive_by_array(derivative, xs)
    evaluate = sp.lambdify(xs, derivative.tolist(), "numpy")
    return lambda point: np.array(evaluate(*point), dtype=float)


@functools.cache
def oracle(case, k):
    """sympy's exact k-th derivatives of a catalogue case, as a float64 function of the point."""
    xs = symbols(case.n)
    return derivative_function(case.sym(list(xs)), xs, k)


def exact(case, k, point=None):
    """sympy's exact k-th derivatives of a catalogue case at `point` (default: the case's point)."""
    return oracle(case, k)(case.point if point is None else point)


def exact_hvp(case, v):
    """H v from sympy's exact Hessian."""
    return exact(case, 2) @ np.asarray(v, dtype=float)


def assert_round_off(actual, expected, rtol=1e-12):
    """actual equals the exact float64 value up to round-off: rtol, and an atol scaled to the magnitude of expected."""
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)

