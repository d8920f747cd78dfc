"""Scaling sweeps: exact counts (naive is exactly n times rows), slopes, the function families."""

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import families, scaling


def test_fit_slope_recovers_a_power_law():
    """The log-log least-squares slope of c x^p is p."""
    xs = np.array([3, 5, 9, 17])
    assert scaling.fit_slope(xs, 7 * xs**2.5) == pytest.approx(2.5)


@pytest.mark.parametrize("name", sorted(families.FAMILIES))
def test_naive_visits_are_exactly_n_times_rows_visits(name):
    """For every family and n: naive visits = n × rows visits, n² against n passes, the same m."""
    ns = [3, 5, 8]
    sweep = scaling.count_sweep(families.FAMILIES[name], ns, progress=False)
    naive, rows = sweep["naive"], sweep["rows"]
    assert list(rows["n"]) == ns
    assert np.array_equal(naive["visits"], np.array(ns) * rows["visits"])
    assert np.array_equal(naive["passes"], np.array(ns) ** 2)
    assert np.array_equal(rows["passes"], np.array(ns))
    assert np.array_equal(naive["m"], rows["m"]) and np.all(np.diff(rows["m"]) > 0)


def test_size_sweep_grows_m_at_fixed_n():
    """At fixed n the graph grows with depth, and naive stays exactly n times rows."""
    sweep = scaling.size_sweep(lambda depth: families.tanh_stack(4, depth), [1, 2, 4], 4, progress=False)
    assert np.all(sweep["rows"]["n"] == 4)
    assert np.all(np.diff(sweep["rows"]["m"]) > 0)
    assert np.array_equal(sweep["naive"]["visits"], 4 * sweep["rows"]["visits"])


def test_families_are_seeded_and_smooth_at_the_default_point():
    """Every family gives the same finite Hessian twice; logsumexp's is Aᵀ(diag p − p pᵀ)A."""
    n = 6
    x0 = families.default_point(n)
    for family in families.FAMILIES.values():
        H = hl.hessian(family(n), x0)
        assert np.allclose(H, hl.hessian(family(n), x0)) and np.all(np.isfinite(H))
    A = np.random.default_rng(0).standard_normal((4, n)) / np.sqrt(n)
    z = A @ x0
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    expected = A.T @ (np.diag(p) - np.outer(p, p)) @ A  # the Hessian of logsumexp(A x)
    assert np.allclose(hl.hessian(families.logsumexp(n), x0), expected)


def test_rosenbrock_matches_its_hand_derived_hessian():
    """Rosenbrock's Hessian entries agree with the formulas by hand."""
    x0 = np.array([0.3, -0.7, 1.1])
    H = hl.hessian(families.rosenbrock(3), x0)
    assert H[0, 0] == pytest.approx(1200 * x0[0] ** 2 - 400 * x0[1] + 2)
    assert H[0, 1] == pytest.approx(-400 * x0[0]) and H[0, 2] == 0.0


def test_time_sweep_returns_one_median_per_n_and_method():
    """time_sweep returns one positive median per n for each method asked (values are never asserted)."""
    times = scaling.time_sweep(families.deep_chain, [2, 3], methods=("rows",), repeats=1, progress=False)
    assert list(times) == ["rows"] and times["rows"].shape == (2,) and np.all(times["rows"] > 0)


def test_fit_slope_is_nan_where_no_line_can_be_fitted():
    """One size, or a zero count (log of 0), gives nan rather than a warning and a made-up slope."""
    assert np.isnan(scaling.fit_slope([4], [16]))
    assert np.isnan(scaling.fit_slope([2, 4, 8], [0, 4, 8]))
