"""The functions, sizes and points that the self-checks run a student's code on."""

import zlib
from typing import Callable, NamedTuple

import numpy as np

from .. import ops


def shared_subexpressions(x):
    """s = Σ x_i x_(i+1) feeds four terms, and x0 * x0 is one node used as both arguments of a product."""
    s = sum(x[i] * x[i + 1] for i in range(len(x) - 1))
    t = ops.sin(s)
    return s * t + t * t + x[0] * x[0] * s + ops.exp(s / len(x))


def rosenbrock(x):
    """Σ 100 (x_(i+1) - x_i²)² + (1 - x_i)²: banded, so its Hessian is tridiagonal."""
    return ops.sum([100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1)])


def softmax_cross_entropy(x):
    """-log softmax(x)[0] = log Σ exp(x_i) - x_0: every input meets every other in the shared sum."""
    return ops.log(ops.sum([ops.exp(xi) for xi in x])) - x[0]


def tanh_mlp(x, hidden=3):
    """v · tanh(W x + b) with fixed weights (seeded by n): a dense Hessian, like a small network's loss."""
    rng = np.random.default_rng(len(x))
    W, b, v = rng.normal(size=(hidden, len(x))), rng.normal(size=hidden), rng.normal(size=hidden)
    return ops.dot(v, [ops.tanh(ops.dot(W[k], list(x)) + b[k]) for k in range(hidden)])


class Problem(NamedTuple):
    """One test case: a function f of x, its number of inputs n, and where to evaluate."""

    f: Callable
    n: int

    @property
    def name(self):
        """The function's name and size, for messages: `rosenbrock (n = 4)`."""
        return f"{self.f.__name__} (n = {self.n})"

    def point(self):
        """A fixed point in [-1.2, 1.2]^n, different for every function and size, the same on every run."""
        seed = zlib.crc32(f"{self.f.__name__}/{self.n}".encode())
        return np.round(np.random.default_rng(seed).uniform(-1.2, 1.2, self.n), 3)


# Values are checked on these; the robustness checks rerun the first (shared subexpressions).
VALUE_PROBLEMS = [
    Problem(shared_subexpressions, 3),
    Problem(rosenbrock, 4),
    Problem(softmax_cross_entropy, 4),
    Problem(tanh_mlp, 3),
]

# Growth is fitted over these sizes: a gradient sweep is O(m), a Hessian method's passes grow like a power of n.
SWEEP_SIZES = (4, 8, 16, 32)
HESSIAN_SIZES = (2, 4, 8)
THIRD_SIZES = (2, 3, 4)
