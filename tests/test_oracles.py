"""Every derivative the engine computes, against oracles that cannot lie: sympy, xᵀAx, and finite differences."""

import numpy as np
import pytest

import hessian_lab as hl
from functions import A, BY_NAME, CATALOGUE, assert_round_off, exact, exact_hvp

cases = pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])


@cases
def test_gradient_matches_sympy(case):
    """∇f by one backward pass equals sympy's exact gradient to round-off."""
    assert_round_off(hl.gradient(case.f, case.point), exact(case, 1))


@cases
@pytest.mark.parametrize("method", [*hl.HESSIAN_METHODS, "auto"])
def test_hessian_matches_sympy(case, method):
    """Every Hessian method, and "auto", equals sympy's exact Hessian to round-off."""
    H = hl.hessian(case.f, case.point, method=method)
    assert H.shape == (case.n, case.n) and H.dtype == np.float64
    assert_round_off(H, exact(case, 2))


@cases
def test_unpruned_rows_match_sympy(case):
    """Rows sweeping all of G (prune=False) give the same exact Hessian as the pruned passes."""
    assert_round_off(hl.hessian(case.f, case.point, method="rows", prune=False), exact(case, 2))


@cases
def test_hvp_matches_sympy(case):
    """Pearlmutter's H v equals sympy's exact Hessian times v."""
    v = np.linspace(-1.0, 2.0, case.n)
    assert_round_off(hl.hvp(case.f, case.point, v), exact_hvp(case, v))


@cases
@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "all_indices"])
def test_third_order_tensor_matches_sympy(case, symmetric):
    """The nested third-order tensor equals sympy's exact third derivatives, with and without symmetry."""
    T = hl.derivative_tensor(case.f, case.point, 3, symmetric=symmetric)
    assert T.shape == (case.n,) * 3
    assert_round_off(T, exact(case, 3))


@cases
def test_first_order_tensor_is_the_gradient(case):
    """derivative_tensor with k = 1 is the gradient, and k = 2 the Hessian."""
    assert_round_off(hl.derivative_tensor(case.f, case.point, 1), exact(case, 1))
    assert_round_off(hl.derivative_tensor(case.f, case.point, 2), exact(case, 2))


@cases
def test_reused_trace_matches_sympy_at_another_point(case):
    """One trace, reused at a nearby point (same branch), still gives sympy's exact derivatives there."""
    g = hl.trace(case.f, case.n, at=case.point)
    other = np.array(case.point) * 1.05 + 0.01
    assert_round_off(g.gradient(other), exact(case, 1, other))
    assert_round_off(g.hessian(other), exact(case, 2, other))
    assert g.value(other) == pytest.approx(case.f(list(other)), rel=1e-14)


@pytest.mark.parametrize("name", ["quadratic_dot", "quadratic_loops"])
def test_quadratic_form_gives_A_plus_A_transposed(name):
    """xᵀAx has Hessian A + Aᵀ at every point, whether written with hl.dot or with plain loops."""
    case = BY_NAME[name]
    g = hl.trace(case.f, case.n)
    for point in np.random.default_rng(0).normal(size=(3, case.n)):
        for method in hl.HESSIAN_METHODS:
            np.testing.assert_allclose(g.hessian(point, method=method), A + A.T, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(g.gradient(point), (A + A.T) @ point, rtol=1e-13, atol=1e-13)


def finite_difference_gradient(f, x, h=1e-6):
    """Central differences of f on plain floats: an oracle independent of every graph."""
    steps = np.eye(len(x)) * h
    return np.array([(f(list(x + e)) - f(list(x - e))) / (2 * h) for e in steps])


def finite_difference_hessian(f, x, h=1e-4):
    """Second-order central differences of f on plain floats, four evaluations per entry."""
    steps = np.eye(len(x)) * h
    return np.array([
        [(f(list(x + ei + ej)) - f(list(x + ei - ej)) - f(list(x - ei + ej)) + f(list(x - ei - ej))) / (4 * h * h)
         for ej in steps]
        for ei in steps
    ])


def fd_scale(case, derivative):
    """The magnitude finite differences err relative to: f's value and the derivative's largest entry."""
    return max(1.0, abs(case.f(list(case.point))), float(np.max(np.abs(derivative))))


@cases
def test_gradient_matches_finite_differences(case):
    """The gradient agrees with central differences (h = 1e-6: error ~1e-10 of the scale; tolerance 1e-8)."""
    x = np.array(case.point)
    grad = hl.gradient(case.f, x)
    np.testing.assert_allclose(grad, finite_difference_gradient(case.f, x), rtol=0, atol=1e-8 * fd_scale(case, grad))


@cases
def test_hessian_matches_finite_differences(case):
    """The Hessian agrees with second differences of f (h = 1e-4: error up to ~2e-7 of the scale; tolerance 1e-5)."""
    x = np.array(case.point)
    H = hl.hessian(case.f, x)
    np.testing.assert_allclose(H, finite_difference_hessian(case.f, x), rtol=0, atol=1e-5 * fd_scale(case, H))
