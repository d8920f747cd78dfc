"""Property-based tests: random expression graphs with shared subexpressions, against sympy and the engine's own identities."""

import itertools
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import hessian_lab as hl
from functions import SYMPY, assert_round_off, derivative_function, symbols

# Each op maps argument values to a value, for any library `lib` (hl or SYMPY), and stays defined and smooth on
# all of R: logs, roots and powers only ever see a square plus 1, divisions only a square plus 1.
OPS = {
    "sin": (1, lambda lib, a: lib.sin(a)),
    "cos": (1, lambda lib, a: lib.cos(a)),
    "tanh": (1, lambda lib, a: lib.tanh(a)),
    "sigmoid": (1, lambda lib, a: lib.sigmoid(a)),
    "exp_sin": (1, lambda lib, a: lib.exp(lib.sin(a))),
    "log_square_plus_1": (1, lambda lib, a: lib.log(a * a + 1)),
    "sqrt_square_plus_1": (1, lambda lib, a: lib.sqrt(a * a + 1)),
    "power_neg_fraction": (1, lambda lib, a: (a * a + 1) ** -1.5),
    "square": (1, lambda lib, a: a ** 2),
    "cube": (1, lambda lib, a: a ** 3),
    "neg": (1, lambda lib, a: -a),
    "add": (2, lambda lib, a, b: a + b),
    "sub": (2, lambda lib, a, b: a - b),
    "mul": (2, lambda lib, a, b: a * b),
    "div": (2, lambda lib, a, b: a / (b * b + 1)),
    "pow": (2, lambda lib, a, b: (a * a + 1) ** lib.sin(b)),
    "number_pow": (1, lambda lib, a: 1.5 ** lib.tanh(a)),
    "sum3": (3, lambda lib, a, b, c: lib.sum([a, b, c])),
    "dot3": (3, lambda lib, a, b, c: lib.dot([0.75, -1.25, 0.5], [a, b, c])),
}


class Program(NamedTuple):
    """A random straight-line program: n inputs, then steps (op, argument indices into inputs and earlier steps)."""

    n: int
    point: tuple
    steps: tuple

    def values(self, x, lib):
        """Every value of the program: inputs, then one per step, in `lib`'s arithmetic."""
        pool = list(x)
        for name, args in self.steps:
            pool.append(OPS[name][1](lib, *(pool[i] for i in args)))
        return pool

    def __call__(self, x, lib=hl):
        """f: the sum of every step, so each intermediate, shared or not, reaches the output."""
        return lib.sum(self.values(x, lib)[self.n:])

    def sympy_derivatives(self, k):
        """sympy's exact k-th derivatives of the program at its point."""
        xs = symbols(self.n)
        return derivative_function(self(list(xs), SYMPY), xs, k)(self.point)


@st.composite
def programs(draw, max_n=4, max_steps=10):
    """A Program whose steps draw ops and arguments over the inputs and all earlier steps (so subexpressions are shared)."""
    n = draw(st.integers(1, max_n))
    point = tuple(draw(st.lists(st.floats(-2, 2, allow_subnormal=False), min_size=n, max_size=n)))
    steps = []
    for k in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(sorted(OPS)))
        arity = OPS[name][0]
        steps.append((name, tuple(draw(st.lists(st.integers(0, n + k - 1), min_size=arity, max_size=arity)))))
    program = Program(n, point, tuple(steps))
    assume(max(abs(v) for v in program.values(point, hl)) < 1e4)  # squares of squares would overflow; keep them sane
    return program


@settings(max_examples=100)
@given(programs())
def test_random_graphs_match_sympy(program):
    """On random DAGs, the gradient and every Hessian method equal sympy's exact derivatives to round-off."""
    assert_round_off(hl.gradient(program, program.point), program.sympy_derivatives(1))
    exact = program.sympy_derivatives(2)
    g = hl.trace(program, program.n)
    for method in hl.HESSIAN_METHODS:
        assert_round_off(g.hessian(program.point, method=method), exact)


@settings(max_examples=150)
@given(programs())
def test_fast_paths_equal_the_per_node_rows_method(program):
    """The fast paths (tape, colouring, sparse, the compiled kernel, and auto on a reused trace) equal rows to 1e-12."""
    g = hl.trace(program, program.n)
    rows = g.hessian(program.point, method="rows")
    scale = 1e-12 * max(1.0, np.abs(rows).max())
    fast = {method: g.hessian(program.point, method=method) for method in ("tape", "colouring", "kernel")}
    fast["sparse"] = g.sparse_hessian(program.point).toarray()
    fast["auto, first call"], fast["auto, reused"] = (g.hessian(program.point) for _ in range(2))
    for method, H in fast.items():
        np.testing.assert_allclose(H, rows, rtol=0, atol=scale, err_msg=method)


@settings(max_examples=150)
@given(programs())
def test_the_tape_reads_no_row_of_its_jacobian_that_it_did_not_write(program):
    """The dense tape fills only the rows of J that a second-order term reads: with np.empty's memory set to NaN,
    a row read but never written would poison H. It does not, and H is rows' to 1e-12."""
    g = hl.trace(program, program.n)
    rows = g.hessian(program.point, method="rows")
    full = np.full

    def poisoned(shape, dtype=float, order="C", **kwargs):
        return full(shape, np.nan if np.dtype(dtype).kind == "f" else 0, dtype=dtype, order=order)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(np, "empty", poisoned)
        tape = g.tape().hessian(program.point)
    np.testing.assert_allclose(tape, rows, rtol=0, atol=1e-12 * max(1.0, np.abs(rows).max()))


@settings(max_examples=40)
@given(programs(max_n=3, max_steps=6))
def test_random_third_derivatives_match_sympy(program):
    """On random DAGs, the nested third-order tensor equals sympy's exact third derivatives."""
    assert_round_off(hl.derivative_tensor(program, program.point, 3), program.sympy_derivatives(3))


@settings(max_examples=100)
@given(programs(), st.data())
def test_hvp_is_hessian_times_v(program, data):
    """Pearlmutter's product equals the rows Hessian times v, for any v."""
    v = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=program.n, max_size=program.n)))
    g = hl.trace(program, program.n)
    H = g.hessian(program.point, method="rows")
    np.testing.assert_allclose(g.hvp(program.point, v), H @ v, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(H).max()))


@settings(max_examples=60)
@given(programs(max_n=3, max_steps=8))
def test_third_order_tensor_is_symmetric(program):
    """Computed over all n^3 indices without symmetry, the tensor is symmetric anyway, and equals the symmetric fill."""
    g = hl.trace(program, program.n)
    full = g.derivative_tensor(program.point, 3, symmetric=False)
    scale = 1e-12 * max(1.0, np.abs(full).max())
    for permutation in itertools.permutations(range(3)):
        np.testing.assert_allclose(full.transpose(permutation), full, rtol=1e-12, atol=scale)
    np.testing.assert_allclose(g.derivative_tensor(program.point, 3, symmetric=True), full, rtol=1e-12, atol=scale)


@settings(max_examples=100)
@given(programs())
def test_count_identities_on_random_graphs(program):
    """Naive visits = n × rows visits, unpruned rows = n·|G|, symmetric <= rows <= n·|G|: exactly, on any graph."""
    g = hl.trace(program, program.n)
    point, n = program.point, program.n
    _, rows = g.hessian(point, method="rows", return_stats=True)
    _, naive = g.hessian(point, method="naive", return_stats=True)
    _, unpruned = g.hessian(point, method="rows", prune=False, return_stats=True)
    _, symmetric = g.hessian(point, method="symmetric", return_stats=True)
    assert naive["visits"] == n * rows["visits"]
    assert unpruned["visits"] == n * rows["G_nodes"]
    assert symmetric["visits"] <= rows["visits"] <= n * rows["G_nodes"]
