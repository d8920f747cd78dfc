"""The function families that notebooks, tests and benchmarks share, one meaning per name.

A family is a function of n that returns f, a function of x with n entries, written with hessian-lab's
functions the way a student would; growing n grows f's graph, so one sweep can measure cost against n.
"""

import numpy as np

from . import ops


def rosenbrock(n):
    """Σ_{i<n-1} 100 (x_{i+1} − x_i²)² + (1 − x_i)² as a Python loop under sum(): banded (tridiagonal) Hessian."""
    return lambda x: sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1))


def logsumexp(n, rows=4, seed=0):
    """log Σ_r exp(a_rᵀ x) for a fixed random A (rows x n, seeded): dense Hessian, m grows like rows * n."""
    A = np.random.default_rng(seed).standard_normal((rows, n)) / np.sqrt(n)
    return lambda x: ops.log(ops.sum([ops.exp(ops.dot(a, x)) for a in A]))


def logsumexp_quad(n):
    """log Σ_k exp(a_k·x) + ½‖x‖² for a fixed random n x n A, scores by hl.dot: the benchmark's dense case."""
    A = benchmark_matrix(n)
    return lambda x: (ops.log(ops.sum(ops.exp(ops.dot(A[k], x)) for k in range(n)))
                      + 0.5 * ops.sum(v * v for v in x))


def deep_chain(n):
    """z ← tanh(z) · x_i + x_i down the inputs: a chain of depth n whose Hessian is dense, m grows like n."""

    def f(x):
        """The deep chain on x."""
        z = x[0]
        for i in range(1, n):
            z = ops.tanh(z) * x[i] + x[i]
        return z

    return f


def banded_chain(n):
    """Σ_{i<n-1} sin(x_i) cos(x_{i+1}) + Σ_i exp(tanh(x_i)): neighbours interact, a tridiagonal Hessian."""
    return lambda x: (sum(ops.sin(x[i]) * ops.cos(x[i + 1]) for i in range(n - 1))
                      + sum(ops.exp(ops.tanh(v)) for v in x))


def tanh_stack(n, depth):
    """depth layers of z_i ← tanh(z_i + s / n), s = Σ_j z_j, then Σ z_i: at fixed n, m grows like depth.

    Every layer mixes all inputs, so each row's pass sees a full-width graph from the first layer on.
    """

    def f(x):
        """The stack on x."""
        z = list(x)
        for _ in range(depth):
            mean = ops.sum(z) / n
            z = [ops.tanh(zi + mean) for zi in z]
        return ops.sum(z)

    return f


def default_point(n):
    """A fixed, unremarkable point of length n where every family is smooth."""
    return 0.5 + 0.4 * np.cos(np.arange(n))


def benchmark_matrix(n):
    """The fixed random A of logsumexp_quad (seeded, so that every peer of the benchmark sees the same function)."""
    return np.random.default_rng(0).standard_normal((n, n)) / np.sqrt(n)


def benchmark_point(n):
    """The benchmark's evaluation point: deterministic, inside every family's domain."""
    return np.linspace(-0.9, 1.1, n)


# The families the lab's sweeps and widgets offer by name.
FAMILIES = {"rosenbrock": rosenbrock, "logsumexp": logsumexp, "deep_chain": deep_chain, "banded_chain": banded_chain}
