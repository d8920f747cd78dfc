"""Taylor mode (hl.derivative_tensor(..., method="taylor")): exact against sympy and nesting, its counts, and GUW's γ."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import hessian_lab as hl
from functions import BY_NAME, CATALOGUE, assert_round_off, exact
from hessian_lab.ops import PRIMITIVES
from hessian_lab.beyond.taylor import TaylorSweep, gamma, multi_indices
from hessian_lab.node import Node

# sympy needs about a minute for the fourth derivatives of these two, so at k = 4 they are checked against nesting only.
SLOW_FOR_SYMPY = {("log_linear", 4), ("tanh_mlp", 4)}
ORDERS = [(case, k) for k in (2, 3, 4) for case in CATALOGUE if (case.name, k) not in SLOW_FOR_SYMPY]


@pytest.mark.parametrize("case, k", ORDERS, ids=[f"{case.name}-k{k}" for case, k in ORDERS])
def test_taylor_matches_sympy(case, k):
    """The k-th derivative tensor from Taylor series equals sympy's exact one to round-off, k = 2, 3, 4."""
    T = hl.derivative_tensor(case.f, case.point, k, method="taylor")
    assert T.shape == (case.n,) * k
    assert_round_off(T, exact(case, k))


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])
def test_taylor_matches_nesting(case, k):
    """Taylor mode and the nested gradient graphs agree to round-off for every k <= 4."""
    nested = hl.derivative_tensor(case.f, case.point, k)
    assert_round_off(hl.derivative_tensor(case.f, case.point, k, method="taylor"), nested)


@pytest.mark.parametrize("n, k", [(1, 1), (2, 2), (3, 2), (3, 3), (4, 3), (3, 4), (5, 4)])
def test_counts_follow_the_formulas(n, k):
    """directions = C(n+k-1, k) = passes; visits = f_nodes × directions; one product x0 * x1 costs (k+1)(k+2)/2 per direction."""
    f = (lambda x: x[0] * x[1]) if n > 1 else (lambda x: x[0] * x[0])
    _, stats = hl.derivative_tensor(f, np.linspace(0.5, 1.5, n), k, method="taylor", return_stats=True)
    directions = math.comb(n + k - 1, k)
    assert stats["directions"] == stats["passes"] == directions
    assert stats["visits"] == stats["f_nodes"] * directions
    assert stats["taylor_degree"] == k and stats["method"] == "taylor"
    assert stats["coefficient_ops"] == directions * (k + 1) * (k + 2) // 2
    assert stats["builds"] == 0 and stats["evaluations"] == stats["f_nodes"]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_coefficient_ops_grow_like_k_squared(k):
    """exp's recurrence makes Σ_{j=1..k} j = k(k+1)/2 coefficient products per direction; sin (with its cos) twice that."""
    for f, per_direction in [(hl.exp, k * (k + 1) // 2), (hl.sin, k * (k + 1))]:
        _, stats = hl.derivative_tensor(lambda x: f(x[0]), [0.3, 0.1], k, method="taylor", return_stats=True)
        assert stats["coefficient_ops"] == stats["directions"] * per_direction


ARGUMENTS = {"log": [1.3], "log1p": [0.4], "sqrt": [1.7], "div": [0.8, 1.9], "pow": [1.4, 0.6], "powc": [1.3],
             "hypot": [0.7, -0.3], "log10": [1.3], "log2": [1.3]}


@pytest.mark.parametrize("op", [op for op, row in PRIMITIVES.items() if row.taylor is not None and not row.nary])
def test_a_rows_own_recurrence_equals_the_rule_derived_from_its_partials(op):
    """Each series recurrence is only a faster form of y' = Σ_k p_k a_k': the derived rule gives the same coefficients."""
    sweep = TaylorSweep(1, 5)
    rng = np.random.default_rng(len(op))
    starts = ARGUMENTS.get(op, [0.7, -0.3][: 2 if op in ("mul",) else 1])
    args = [np.concatenate([[a0], rng.normal(size=5)])[None, :] for a0 in starts]
    node = Node(op, tuple(Node("input", (), k) for k in range(len(args))), 3.0 if op == "powc" else None)
    own = PRIMITIVES[op].taylor(sweep, *args, 3.0) if PRIMITIVES[op].param else PRIMITIVES[op].taylor(sweep, *args)
    derived = sweep.derived_series(node, args)
    assert np.allclose(own[:, 1:], derived[:, 1:], rtol=1e-12, atol=1e-12)


def test_multi_indices_are_the_directions():
    """multi_indices(n, k): every vector of n whole numbers summing to k, once each, C(n+k-1, k) of them."""
    for n, k in [(1, 3), (3, 2), (4, 4)]:
        J = multi_indices(n, k)
        assert J.shape == (math.comb(n + k - 1, k), n)
        assert (J.sum(axis=1) == k).all() and (J >= 0).all()
        assert len({tuple(j) for j in J}) == len(J)


@pytest.mark.parametrize("n, k", [(1, 3), (2, 2), (2, 4), (3, 3), (3, 4)])
def test_gamma_interpolates_monomials_exactly(n, k):
    """GUW's γ, in exact fractions: Σ_j γ_ij j^l = i! if l = i, else 0, for all |i| = |l| = k.

    Along direction j, the monomial x^l has k-th Taylor coefficient j^l; its derivative ∂^i x^l is i! δ_il.
    """
    J = [tuple(j) for j in multi_indices(n, k).tolist()]
    for i, l in itertools.product(J, J):
        total = sum(gamma(i, j) * math.prod(Fraction(jp) ** lp for jp, lp in zip(j, l)) for j in J)
        assert total == (math.prod(math.factorial(ip) for ip in i) if i == l else 0)


def test_gamma_vanishes_outside_the_support():
    """γ_ij = 0 when j uses a variable that i does not, which lets the interpolation skip those j."""
    assert gamma((2, 0), (1, 1)) == 0 and gamma((1, 0, 1), (0, 2, 0)) == 0
    assert gamma((2, 0), (2, 0)) == Fraction(1, 2)  # 1-D: γ = d!/d^d


def test_zero_base_power_uses_whole_powers():
    """x**3 at x = 0 (where the power recurrence divides by the base) still gives 6, and x**2 gives 0 at k = 3."""
    T = hl.derivative_tensor(lambda x: x[0] ** 3 + x[0] ** 2 * x[1], [0.0, 2.0], 3, method="taylor")
    assert_round_off(T, hl.derivative_tensor(lambda x: x[0] ** 3 + x[0] ** 2 * x[1], [0.0, 2.0], 3))
    assert T[0, 0, 0] == 6.0 and T[0, 0, 1] == 2.0


def test_domain_errors_come_from_the_forward_pass():
    """A point outside f's domain is a DomainError, as for every other method."""
    with pytest.raises(hl.DomainError):
        hl.derivative_tensor(lambda x: hl.log(x[0]), [-1.0], 2, method="taylor")


def test_taylor_is_listed_and_reusable_on_a_trace():
    """The method is registered, and a trace's derivative_tensor accepts it at another point."""
    case = BY_NAME["every_primitive"]
    g = hl.trace(case.f, case.n, at=case.point)
    other = tuple(np.array(case.point) * 1.05 + 0.01)
    assert_round_off(g.derivative_tensor(other, 3, method="taylor"), exact(case, 3, other))
    with pytest.raises(hl.HessianLabError, match="taylor"):
        hl.derivative_tensor(case.f, case.point, 2, method="no_such_method")
