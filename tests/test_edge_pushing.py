"""Edge pushing (hl.hessian(..., method="edge_pushing")): equal to rows on random graphs, exact against sympy, and its counts."""

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import hessian_lab as hl
from functions import CATALOGUE, assert_round_off, exact, rosenbrock

# The moves of a random program: each makes one new value from earlier ones (a, b), with every primitive kind.
MOVES = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a * a,  # one node with the same argument twice
    lambda a, b: a / (1 + b * b),
    lambda a, b: hl.sin(a) * hl.cos(b),
    lambda a, b: hl.tanh(a + b),
    lambda a, b: hl.sigmoid(a) - hl.exp(hl.tanh(b)),
    lambda a, b: hl.log(1 + a * a) + hl.sqrt(2 + hl.tanh(b)),
    lambda a, b: hl.tanh(a) ** 3 + hl.sigmoid(b) ** 0.5,
    lambda a, b: hl.sum([a, b, a * b]),
    lambda a, b: hl.dot([0.5, -2.0], [a, hl.sin(b)]),
    lambda a, b: hl.abs(a) * b - hl.relu(b),
    lambda a, b: -a,
    lambda a, b: (1.5 + hl.tanh(a)) ** hl.sigmoid(b),
]


@st.composite
def programs(draw):
    """A random straight-line program on n inputs: (n, steps, window, point); window = 2 keeps it banded and sparse."""
    n = draw(st.integers(1, 6))
    window = draw(st.sampled_from([2, 3, None]))
    steps = draw(st.lists(st.tuples(st.sampled_from(range(len(MOVES))), st.integers(0, 99), st.integers(0, 99)),
                          min_size=1, max_size=12))
    point = draw(st.lists(st.floats(-1.5, 1.5), min_size=n, max_size=n))
    return n, steps, window, point


def run(program):
    """The function f(x) a program stands for: each step appends MOVES[k](a, b), drawn from the last `window` values."""
    n, steps, window, _ = program

    def f(x):
        values = list(x)
        for move, i, j in steps:
            pool = values[-window:] if window else values
            values.append(MOVES[move](pool[i % len(pool)], pool[j % len(pool)]))
        return values[-1]

    return f


@settings(max_examples=60)
@given(programs())
def test_edge_pushing_equals_rows_on_random_graphs(program):
    """On random programs, dense and banded, edge pushing's Hessian equals the row method's to round-off."""
    n, _, _, point = program
    g = hl.trace(run(program), n, at=point)
    try:
        rows = g.hessian(point, method="rows")
    except hl.DomainError:
        assume(False)
    assert_round_off(g.hessian(point, method="edge_pushing"), rows, rtol=1e-10)


@settings(max_examples=30)
@given(programs())
def test_one_sweep_over_f(program):
    """Edge pushing is one reverse pass over f's graph: passes = 1, visits = f_nodes, evaluations = f_nodes."""
    n, _, _, point = program
    try:
        _, stats = hl.hessian(run(program), point, method="edge_pushing", return_stats=True)
    except hl.DomainError:
        assume(False)
    assert stats["passes"] == 1
    assert stats["visits"] == stats["evaluations"] == stats["f_nodes"]
    assert stats["builds"] == 0


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])
def test_edge_pushing_matches_sympy_at_another_point(case):
    """One trace reused at a second point (same branch): edge pushing equals sympy's exact Hessian there."""
    other = tuple(np.array(case.point) * 0.9 - 0.02)
    g = hl.trace(case.f, case.n, at=case.point)
    assert_round_off(g.hessian(other, method="edge_pushing"), exact(case, 2, other))


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13, 32])
def test_rosenbrock_edge_counts(n):
    """Rosenbrock, term by term: 3 squares create 3 edges; pushing them down moves 3 + 2 + 1 = 6 edges, so 6(n-1).

    (x_{i+1} - x_i²)² creates {d, d} on the difference d, which pushes to {x_{i+1}, x_{i+1}}, {x_{i+1}, s},
    {s, s} with s = x_i² (3); s then pushes {s, x_{i+1}} and {s, s} onto x_i (2); (1 - x_i)² pushes its one
    edge onto x_i (1). At most the 2n - 1 band entries, plus one pending pair, are ever held at once. The point
    is generic: where a local partial is exactly 0, nothing is pushed through it, as backprop skips `0 * g`.
    """
    point = np.linspace(-1.0, 1.0, n) + 0.1
    H, counts = hl.hessian(lambda x: rosenbrock(x, hl), point, method="edge_pushing", return_stats=True)
    assert counts["edges_created"] == 3 * (n - 1)
    assert counts["edges_pushed"] == 6 * (n - 1)
    assert counts["max_live_edges"] == 2 * n
    assert np.count_nonzero(np.triu(H)) == 2 * n - 1


def chain(x):
    """z ← sin(z) · x_i down the inputs: a deep chain whose Hessian is dense."""
    z = x[0]
    for xi in x[1:]:
        z = hl.sin(z) * xi
    return z


@pytest.mark.parametrize("f", [chain, lambda x: rosenbrock(x, hl)], ids=["chain", "rosenbrock"])
@pytest.mark.parametrize("n", [2, 4, 9, 16])
def test_banded_and_chained_equal_rows(f, n):
    """The banded Rosenbrock and the dense-Hessian chain: edge pushing equals rows; it never holds more than all pairs."""
    point = np.linspace(-1.0, 1.0, n) + 0.1
    H, counts = hl.hessian(f, point, method="edge_pushing", return_stats=True)
    assert_round_off(H, hl.hessian(f, point, method="rows"), rtol=1e-10)
    nodes = hl.trace(f, n, at=point).num_nodes
    assert counts["max_live_edges"] <= nodes * (nodes + 1) // 2


def test_less_work_than_rows_on_rosenbrock():
    """At n = 128 on Rosenbrock, the one sweep visits only f's nodes, and even with every edge it created or
    pushed counted as one more visit it does less than the pruned row method's visits."""
    point = np.linspace(-1.0, 1.0, 128) + 0.1
    _, edge = hl.hessian(lambda x: rosenbrock(x, hl), point, method="edge_pushing", return_stats=True)
    _, rows = hl.hessian(lambda x: rosenbrock(x, hl), point, method="rows", return_stats=True)
    assert edge["visits"] == edge["f_nodes"]
    assert edge["visits"] + edge["edges_pushed"] + edge["edges_created"] < rows["visits"]
