"""Taylor mode: k-th derivative tensors from univariate Taylor series, by Griewank, Utke and Walther's interpolation.

Along a direction s, t -> f(x0 + t s) is a function of one variable. Its Taylor coefficients up to t^k
pass through f's graph node by node, with one recurrence per primitive (a product of two series is a
Cauchy product: about k²/2 coefficient products). The k-th coefficient along s is ∇^k f[s, ..., s] / k!.
Taking as directions all C(n+k-1, k) multi-indices j with |j| = k (the vector of counts itself is s),
the tensor entry ∂^i f for each multi-index i with |i| = k is a fixed linear combination of them:

    ∂^i f(x0) = Σ_{|j|=k} γ_ij f_k(j),    γ_ij = Σ_{0<l≤i} (-1)^{|i-l|} C(i, l) C(k l/|l|, j) (|l|/k)^k

(Griewank, Utke and Walther, Math. Comp. 69 (2000), 1117-1130, with their d = |i| = k), where C(a, b) for
multi-indices is the product of the componentwise binomials, C(r, b) = r(r-1)...(r-b+1)/b! for rational r.

All directions go through the graph together: each node holds an array of shape (directions, k+1).
"""

import itertools
import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy.special import expit

from .counting import record, run_counted
from .forward import evaluate


def taylor_tensor(graph, x0, k, return_stats=False):
    """All k-th partial derivatives of f at x0, an array of shape (n,)*k, by univariate Taylor series.

    Work, counted like the other methods: one Taylor pass per direction, all done in one vectorised
    sweep; a visit is one node processed for one direction, so passes = directions = C(n+k-1, k) and
    visits = f_nodes × directions. Extra stats: "directions", "taylor_degree" (= k), and
    "coefficient_ops", the products of two Taylor coefficients the recurrences made (summed over nodes
    and directions): a Cauchy product of two degree-k series makes (k+1)(k+2)/2 of them, so the cost
    per node and direction grows like k², where nesting gradient graphs grows by about 3x per order.
    """
    sweep = TaylorSweep(graph.n, k)
    return run_counted(
        graph, "taylor", lambda: sweep.tensor(graph, x0), return_stats,
        details=lambda: {"k": k, "directions": len(sweep.directions), "taylor_degree": k,
                         "coefficient_ops": sweep.products},
    )


def multi_indices(n, k):
    """All multi-indices j in N^n with |j| = k, one per row, in the order of sorted index tuples."""
    return np.array([np.bincount(t, minlength=n) for t in itertools.combinations_with_replacement(range(n), k)])


class TaylorSweep:
    """One vectorised Taylor sweep of degree k along every direction |j| = k, and the coefficient products it made."""

    def __init__(self, n, k):
        self.n, self.k = n, k
        self.directions = multi_indices(n, k)
        self.products = 0

    def tensor(self, graph, x0):
        """Sweep f's graph with Taylor series (freeing each after its last use), then interpolate from the k-th coefficients."""
        values = evaluate(graph.nodes, graph.point(x0))
        last_use = {a: position for position, node in enumerate(graph.nodes) for a in node.args}
        series = {}
        for position, node in enumerate(graph.nodes):
            series[node] = self.node_series(node, [series[a] for a in node.args], values[node])
            for a in set(node.args):
                if last_use[a] == position:
                    del series[a]  # a series no later node reads: free its (directions, k+1) array
        record(passes=len(self.directions), visits=len(graph.nodes) * len(self.directions))
        return self.interpolate(series[graph.output][:, self.k])

    def node_series(self, node, args, value):
        """The Taylor coefficients of one node along every direction: shape (directions, k+1)."""
        if node.op == "input":
            y = self.constant_series(value)
            y[:, 1] = self.directions[:, node.param]
        elif node.op == "const":
            y = self.constant_series(value)
        else:
            y = RULES[node.op](self, *args, node.param) if node.op in PARAM_RULES else RULES[node.op](self, *args)
        y[:, 0] = value  # the primal value, from the domain-checked forward pass
        return y

    def constant_series(self, value):
        """The series of a constant: value, 0, ..., 0 along every direction."""
        y = np.zeros((len(self.directions), self.k + 1))
        y[:, 0] = value
        return y

    def convolve(self, a, b, j, lo, hi, weights=1.0):
        """Σ_{i=lo..hi} w_i a_i b_{j-i} along every direction, counting its coefficient products."""
        if hi < lo:
            return 0.0
        self.products += (hi - lo + 1) * len(a)
        return (weights * a[:, lo:hi + 1] * b[:, j - hi:j - lo + 1][:, ::-1]).sum(axis=1)

    def interpolate(self, last):
        """The tensor from the k-th Taylor coefficients `last` (one per direction), by the γ_ij of GUW (2000)."""
        position = {tuple(j): col for col, j in enumerate(self.directions)}
        tensor = np.zeros((self.n,) * self.k)
        for i in self.directions:
            support = np.flatnonzero(i)
            entry = 0.0
            for sub in compositions(self.k, len(support)):
                j = np.zeros(self.n, dtype=int)
                j[support] = sub
                entry += float(gamma(tuple(i[support].tolist()), sub)) * last[position[tuple(j)]]
            index = tuple(np.repeat(np.arange(self.n), i))
            for permuted in set(itertools.permutations(index)):
                tensor[permuted] = entry
        return tensor


def compositions(total, parts):
    """All tuples of `parts` whole numbers >= 0 summing to `total`: the j with supp(j) ⊆ supp(i)."""
    for bars in itertools.combinations_with_replacement(range(parts), total):
        yield tuple(np.bincount(bars, minlength=parts).tolist())


@lru_cache(maxsize=None)
def gamma(i, j):
    """γ_ij of Griewank, Utke and Walther (2000), exactly, for |i| = |j| = d (i, j restricted to supp(i)).

    γ_ij = Σ_{0<l≤i} (-1)^{|i-l|} C(i, l) C(d l/|l|, j) (|l|/d)^d; γ_ij = 0 unless supp(j) ⊆ supp(i), so the
    caller passes only those j, and only the entries of i and j on supp(i).
    """
    d = sum(i)
    total = Fraction(0)
    for l in itertools.product(*(range(ip + 1) for ip in i)):
        size = sum(l)
        if size == 0:
            continue
        term = Fraction((-1) ** (d - size) * math.prod(math.comb(ip, lp) for ip, lp in zip(i, l)))
        for lp, jp in zip(l, j):
            term *= general_binomial(Fraction(d * lp, size), jp)
        total += term * Fraction(size, d) ** d
    return total


def general_binomial(r, b):
    """C(r, b) = r (r-1) ... (r-b+1) / b! for a rational r and a whole b >= 0."""
    return math.prod((r - q for q in range(b)), start=Fraction(1)) / math.factorial(b)


# The recurrences, one per primitive: each takes the arguments' series (and the node's parameter) and returns
# the node's series; coefficient 0 is overwritten by the primal value. References: Griewank and Walther,
# Evaluating Derivatives (2008), Table 13.1 (multiplication, division, square root, exp/log-type ODE rules).


def _mul(s, a, b):
    """(a b)_j = Σ_{i=0..j} a_i b_{j-i}: the Cauchy product."""
    y = s.constant_series(0.0)
    for j in range(s.k + 1):
        y[:, j] = s.convolve(a, b, j, 0, j)
    return y


def _div(s, a, b):
    """y = a / b: y_j = (a_j - Σ_{i<j} y_i b_{j-i}) / b_0, from a = y b."""
    y = s.constant_series(a[0, 0] / b[0, 0])
    for j in range(1, s.k + 1):
        y[:, j] = (a[:, j] - s.convolve(y, b, j, 0, j - 1)) / b[:, 0]
    return y


def _powc(s, a, p):
    """y = a^p: from a y' = p y a', y_j = Σ_{i<j} (p (j-i) - i) a_{j-i} y_i / (j a_0); at a_0 = 0 (whole p >= 0) by squaring."""
    if a[0, 0] == 0:
        return _whole_power(s, a, int(p))
    y = s.constant_series(a[0, 0] ** p)
    for j in range(1, s.k + 1):
        weights = (p * (j - np.arange(j)) - np.arange(j)) / (j * a[0, 0])
        y[:, j] = s.convolve(y, a, j, 0, j - 1, weights)
    return y


def _whole_power(s, a, p):
    """a^p for a whole p >= 1 by repeated squaring of Cauchy products (needed where a_0 = 0)."""
    result, square = None, a
    while p:
        if p & 1:
            result = square if result is None else _mul(s, result, square)
        p >>= 1
        if p:
            square = _mul(s, square, square)
    return result


def _pow(s, a, b):
    """y = a^b = exp(b log a), composed from the log, product and exp recurrences."""
    return _exp(s, _mul(s, b, _log(s, a)))


def _ode(s, a, y0, w_coefficient):
    """y with y' = w(y) a' and y(0) = y0: j y_j = Σ_{i=1..j} i a_i w_{j-i}, w_m = w_coefficient(y, m) from y_0..y_m."""
    y = s.constant_series(y0)
    w = s.constant_series(0.0)
    w[:, 0] = w_coefficient(y, 0)
    for j in range(1, s.k + 1):
        y[:, j] = s.convolve(a, w, j, 1, j, np.arange(1, j + 1) / j)
        w[:, j] = w_coefficient(y, j)
    return y


def _exp(s, a):
    """exp: y' = y a'."""
    return _ode(s, a, np.exp(a[0, 0]), lambda y, m: y[:, m])


def _tan(s, a):
    """tan: y' = (1 + y²) a'."""
    return _ode(s, a, np.tan(a[0, 0]), lambda y, m: (m == 0) + s.convolve(y, y, m, 0, m))


def _tanh(s, a):
    """tanh: y' = (1 - y²) a'."""
    return _ode(s, a, np.tanh(a[0, 0]), lambda y, m: (m == 0) - s.convolve(y, y, m, 0, m))


def _sigmoid(s, a):
    """sigmoid: y' = y (1 - y) a'."""
    return _ode(s, a, expit(a[0, 0]), lambda y, m: y[:, m] - s.convolve(y, y, m, 0, m))


def _log(s, a):
    """log: a y' = a', so y_j = (a_j - Σ_{i=1..j-1} (i/j) y_i a_{j-i}) / a_0."""
    y = s.constant_series(np.log(a[0, 0]))
    for j in range(1, s.k + 1):
        y[:, j] = (a[:, j] - s.convolve(y, a, j, 1, j - 1, np.arange(1, j) / j)) / a[:, 0]
    return y


def _sqrt(s, a):
    """sqrt: y² = a, so y_j = (a_j - Σ_{i=1..j-1} y_i y_{j-i}) / (2 y_0)."""
    y = s.constant_series(np.sqrt(a[0, 0]))
    for j in range(1, s.k + 1):
        y[:, j] = (a[:, j] - s.convolve(y, y, j, 1, j - 1)) / (2 * y[:, 0])
    return y


def _sin_cos(s, a):
    """sin and cos together: s' = c a', c' = -s a'."""
    sin, cos = s.constant_series(np.sin(a[0, 0])), s.constant_series(np.cos(a[0, 0]))
    for j in range(1, s.k + 1):
        weights = np.arange(1, j + 1) / j
        sin[:, j] = s.convolve(a, cos, j, 1, j, weights)
        cos[:, j] = -s.convolve(a, sin, j, 1, j, weights)
    return sin, cos


def _scaled(a, factor):
    """factor · a for the coefficients of order >= 1: the branch that ran of abs and relu, locally linear."""
    return a * factor


RULES = {
    "add": lambda s, a, b: a + b,
    "sub": lambda s, a, b: a - b,
    "neg": lambda s, a: -a,
    "sum": lambda s, *terms: np.sum(terms, axis=0),
    "dot": lambda s, *terms_then_coefficients: np.tensordot(terms_then_coefficients[-1], terms_then_coefficients[:-1], 1),
    "mul": _mul,
    "div": _div,
    "powc": _powc,
    "pow": _pow,
    "exp": _exp,
    "log": _log,
    "sqrt": _sqrt,
    "tan": _tan,
    "tanh": _tanh,
    "sigmoid": _sigmoid,
    "sin": lambda s, a: _sin_cos(s, a)[0],
    "cos": lambda s, a: _sin_cos(s, a)[1],
    "abs": lambda s, a: _scaled(a, np.sign(a[0, 0])),
    "relu": lambda s, a: _scaled(a, float(a[0, 0] > 0)),
    "sign": lambda s, a: _scaled(a, 0.0),
    "step": lambda s, a: _scaled(a, 0.0),
}
PARAM_RULES = {"powc", "dot"}  # these rules also receive the node's parameter (the exponent, the coefficients)
