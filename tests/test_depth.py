"""A chain of depth 10^5: no recursion anywhere, derivatives equal to forward-mode dual numbers, and repeatable."""

import math

import numpy as np
import pytest

import hessian_lab as hl

DEPTH = 100_000
POINT = np.array([0.9, 1.3])


def deep_chain(x, sin=hl.sin, tanh=hl.tanh):
    """u = x0 x1, then sin and tanh alternately, DEPTH times: one node per level, so the graph is as deep as it is long."""
    y = x[0] * x[1]
    for level in range(DEPTH):
        y = sin(y) if level % 2 == 0 else tanh(y)
    return y


def chain_derivatives(u):
    """The chain's value, first and second derivative in u, by second-order dual numbers (y, y', y'') in plain floats."""
    y, dy, ddy = u, 1.0, 0.0
    for level in range(DEPTH):
        if level % 2 == 0:
            first, second, y = math.cos(y), -math.sin(y), math.sin(y)
        else:
            y = math.tanh(y)
            first, second = 1 - y * y, -2 * y * (1 - y * y)
        dy, ddy = first * dy, second * dy * dy + first * ddy
    return y, dy, ddy


def expected_derivatives(point):
    """Gradient and Hessian of f = c(x0 x1) by the chain rule: c' ∇u and c'' ∇u ∇uᵀ + c' ∇²u."""
    _, dc, ddc = chain_derivatives(point[0] * point[1])
    grad_u = np.array([point[1], point[0]])
    return dc * grad_u, ddc * np.outer(grad_u, grad_u) + dc * np.array([[0.0, 1.0], [1.0, 0.0]])


@pytest.fixture(scope="module")
def deep():
    """The depth-10^5 chain traced once, with its first gradient and Hessian (the slow part, shared by both tests)."""
    graph = hl.trace(deep_chain, 2)
    hessian, stats = graph.hessian(POINT, method="rows", return_stats=True)
    return graph, graph.gradient(POINT), hessian, stats


def test_deep_chain_matches_dual_numbers(deep):
    """Value, gradient and Hessian of the deep chain equal the dual-number recurrence (1e5 roundings: rtol 1e-9)."""
    graph, grad, hess, stats = deep
    assert stats["f_nodes"] == DEPTH + 3
    assert graph.value(POINT) == pytest.approx(deep_chain(list(POINT), math.sin, math.tanh), rel=1e-15)
    expected_grad, expected_hess = expected_derivatives(POINT)
    assert np.abs(expected_grad).min() > 1e-12 and np.abs(expected_hess).min() > 1e-12  # nothing vanishes
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-9)
    np.testing.assert_allclose(hess, expected_hess, rtol=1e-9)


def test_deep_chain_twice_gives_the_same_result(deep):
    """Calling gradient and Hessian again on the deep trace gives bit-identical results and the same numeric work."""
    graph, grad, hess, stats = deep
    np.testing.assert_array_equal(graph.gradient(POINT), grad)
    hess_again, again = graph.hessian(POINT, method="rows", return_stats=True)
    np.testing.assert_array_equal(hess_again, hess)
    assert (again["passes"], again["visits"], again["evaluations"]) == (stats["passes"], stats["visits"], stats["evaluations"])
