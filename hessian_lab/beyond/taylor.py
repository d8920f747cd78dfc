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
Each primitive's series comes from its row of the table: its linear form, its recurrence
(hessian_lab.series), or, for a row with neither, the rule derived from its partials, y' = Σ_k p_k a_k'.
Kinks (abs, relu) follow their partials' convention (derivative 0 at 0), like every other method.
"""

import itertools
import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from .. import ops
from ..counting import record, record_details, record_method
from ..second_order import second_order_rule
from ..errors import DomainError, HessianLabError
from ..higher import fill_symmetric
from ..memory import FLOAT, dense_bytes
from ..node import Node, name_of


def taylor_tensor(graph, point, k):
    """All k-th partial derivatives of f at a checked point, an array of shape (n,)*k, by univariate Taylor series.

    Work, counted like the other methods: one Taylor pass per direction, all done in one vectorised
    sweep; a visit is one node processed for one direction, so passes = directions = C(n+k-1, k) and
    visits = f_nodes × directions. Extra stats: "directions", "taylor_degree" (= k), and
    "coefficient_ops", the products of two Taylor coefficients the recurrences made (summed over nodes
    and directions): a Cauchy product of two degree-k series makes (k+1)(k+2)/2 of them, so the cost
    per node and direction grows like k², where nesting gradient graphs grows by about 3x per order.
    """
    pairs = interpolation_pairs(graph.n, k)
    if pairs > MAX_PAIRS:
        raise HessianLabError(f"Taylor mode's interpolation for n = {graph.n}, k = {k} combines {pairs:,} pairs (i, j), "
                              f"about {pairs * SECONDS_PER_PAIR:.0f} s, and is refused past {MAX_PAIRS:,}: use "
                              "method='nested', which grows by a constant factor per order")
    record_method("taylor")
    sweep = TaylorSweep(graph.n, k)
    tensor = sweep.tensor(graph, point)
    record_details(k=k, directions=len(sweep.directions), taylor_degree=k, coefficient_ops=sweep.products)
    return tensor


MAX_PAIRS = 1_000_000  # (i, j) pairs of the interpolation: n = 8 at k = 7 has 623,576, n = 9 at k = 7 1,434,141
SECONDS_PER_PAIR = 5e-6  # measured at n = 8, k = 7: 3 s for its pairs, once γ is known
TEMPORARIES = 10  # series a node's recurrence holds besides its inputs and result (products, sums, partials)


def working_bytes(graph, k, pattern_nnz=None):
    """Peak bytes of Taylor mode: its int8 directions, a series of k + 1 coefficients per direction for every node
    alive at once in the forward sweep (live_nodes) and for a recurrence's temporaries, and the tensor."""
    directions = math.comb(graph.n + k - 1, k)
    series = (live_nodes(graph) + TEMPORARIES) * directions * (k + 1) * FLOAT
    return directions * graph.n + series + dense_bytes(graph.n, k)


def live_nodes(graph):
    """The most nodes whose values a forward sweep must hold at once: each lives from its creation to its last use."""
    last_use = {a: position for position, node in enumerate(graph.nodes) for a in node.args}
    ends = sorted(last_use.values())
    most = live = 0
    j = 0
    for position in range(len(graph.nodes)):
        live += 1
        while j < len(ends) and ends[j] < position:
            live -= 1
            j += 1
        most = max(most, live)
    return most


def multi_indices(n, k):
    """All multi-indices j in N^n with |j| = k, one per row, in the order of sorted index tuples (small ints: k <= 127)."""
    rows = [np.bincount(t, minlength=n) for t in itertools.combinations_with_replacement(range(n), k)]
    return np.array(rows, dtype=np.int8 if k <= 127 else np.int64).reshape(-1, n)


class TaylorSweep:
    """One vectorised Taylor sweep of degree k along every direction |j| = k, and the coefficient products it made."""

    def __init__(self, n, k):
        self.n, self.k = n, k
        self.directions = multi_indices(n, k)
        self.products = 0

    def tensor(self, graph, point):
        """Sweep f's graph with Taylor series (freeing each after its last use), then interpolate from the k-th coefficients."""
        values = graph.values(point)
        last_use = {a: position for position, node in enumerate(graph.nodes) for a in node.args}
        series = {}
        with np.errstate(all="ignore"):  # a coefficient that overflows is a DomainError below, not a warning
            for position, node in enumerate(graph.nodes):
                if node.op == "input":
                    y = self.constant_series(values[node])
                    y[:, 1] = self.directions[:, node.param]
                else:
                    y = self.node_series(node, series)
                    y[:, 0] = values[node]  # the primal value, from the domain-checked forward pass
                if not np.all(np.isfinite(y)):
                    raise DomainError(f"a Taylor coefficient of {name_of(node)} is not a finite number: "
                                      "a derivative overflows at this point")
                series[node] = y
                for a in set(node.args):
                    if last_use[a] == position:
                        del series[a]  # a series no later node reads: free its (directions, k+1) array
        record(passes=len(self.directions), visits=len(graph.nodes) * len(self.directions))
        return self.interpolate(series[graph.output][:, self.k])

    def node_series(self, node, series):
        """The Taylor coefficients of one node (not an input) along every direction, from its arguments' `series`."""
        if node.op == "const":
            return self.constant_series(node.param)
        row = ops.PRIMITIVES[node.op]
        form = ops.linear_form(node)
        if form is not None:
            return sum((weight * series[arg] if arg.op != "const" else self.constant_series(weight * arg.param)
                        for arg, weight in form), self.constant_series(0.0))
        args = [series[a] if a.op != "const" else self.constant_series(a.param) for a in node.args]
        if row.taylor is not None:
            return row.taylor(self, *args, node.param) if row.param else row.taylor(self, *args)
        return self.derived_series(node, args)

    def derived_series(self, node, args):
        """y = φ(a_1..a_r) from y' = Σ_k p_k(a, y) a_k': j y_j = Σ_k Σ_{i=1..j} i a_{k,i} w_{k,j-i}, w_k the series of p_k.

        The partials come from the primitive's row, as a template graph; w_k's coefficients up to j-1 need
        only y's up to j-1, so each degree evaluates the template once more with y known that far.
        """
        template, order = partials_template(node.op, node.param, len(node.args))
        y = self.constant_series(call_forward(node.op, [a[0, 0] for a in args], node.param))
        for j in range(1, self.k + 1):
            known = {**dict(zip(template.inputs, args)), template.output: y}
            for t in order:
                known[t] = self.node_series(t, known)
                known[t][:, 0] = call_forward(t.op, [known[a][0, 0] if a.op != "const" else a.param for a in t.args],
                                              t.param)
            w = [known[p] if isinstance(p, Node) else self.constant_series(p) for p in template.first]
            y[:, j] = sum(self.convolve(a, wk, j, 1, j, np.arange(1, j + 1) / j) for a, wk in zip(args, w))
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
        """The tensor from the k-th Taylor coefficients `last` (one per direction), by the γ_ij of GUW (2000).

        γ is unchanged when i and j are permuted alike, so it is computed for i sorted on its support: one
        table per partition of k (15 for k = 7), not one per multi-index (3,432 at n = 8).
        """
        position = {tuple(j): col for col, j in enumerate(self.directions)}
        weights = {}  # γ rounded once to a float, per (sorted i, j)
        tensor = np.zeros((self.n,) * self.k)
        for i in self.directions:
            support = np.flatnonzero(i)
            order = np.argsort(i[support], kind="stable")
            pattern = tuple(i[support][order].tolist())
            entry = 0.0
            for sub in compositions(self.k, len(support)):
                j = np.zeros(self.n, dtype=int)
                j[support] = sub
                key = (pattern, tuple(sub[o] for o in order))
                if key not in weights:
                    weights[key] = float(gamma(*key))
                entry += weights[key] * last[position[tuple(j)]]
            tensor[tuple(np.repeat(np.arange(self.n), i))] = entry
        return fill_symmetric(tensor)


def interpolation_pairs(n, k):
    """The (i, j) pairs Taylor mode's interpolation combines: Σ over the support size s of the i with that support
    (C(n, s) C(k-1, s-1)) times the j on it (C(k+s-1, s-1)); its time is about SECONDS_PER_PAIR a pair."""
    return sum(math.comb(n, s) * math.comb(k - 1, s - 1) * math.comb(k + s - 1, s - 1) for s in range(1, min(n, k) + 1))


def compositions(total, parts):
    """All tuples of `parts` whole numbers >= 0 summing to `total`: the j with supp(j) ⊆ supp(i)."""
    for bars in itertools.combinations_with_replacement(range(parts), total):
        yield tuple(np.bincount(bars, minlength=parts).tolist())


@lru_cache(maxsize=2**16)  # a pure function's values: the (sorted i, j) of every k up to 8 fit
def gamma(i, j):
    """γ_ij of Griewank, Utke and Walther (2000), exactly (a sum of whole numbers over one denominator), for
    |i| = |j| = d (i, j restricted to supp(i)).

    γ_ij = Σ_{0<l≤i} (-1)^{|i-l|} C(i, l) C(d l/|l|, j) (|l|/d)^d; γ_ij = 0 unless supp(j) ⊆ supp(i), so the
    caller passes only those j, and only the entries of i and j on supp(i). Writing C(d l_p/|l|, j_p) as
    Π_{q<j_p} (d l_p - q|l|) / (|l|^j_p j_p!), the powers of |l| cancel against (|l|/d)^d, so
    γ_ij = Σ_l (-1)^{|i-l|} C(i, l) Π_p Π_{q<j_p} (d l_p - q|l|) / (d^d Π_p j_p!): a sum of whole numbers.
    """
    d = sum(i)
    total = 0
    for l in itertools.product(*(range(ip + 1) for ip in i)):
        size = sum(l)
        if size == 0:
            continue
        term = (-1) ** (d - size) * math.prod(math.comb(ip, lp) for ip, lp in zip(i, l))
        for lp, jp in zip(l, j):
            term *= math.prod(d * lp - q * size for q in range(jp))
        total += term
    return Fraction(total, d ** d * math.prod(math.factorial(jp) for jp in j))


def partials_template(op, param, arity):
    """An op's first partials as a template graph on fresh inputs a_k and output y (its SecondOrderRule's), and
    the nodes to evaluate for them, in order: for the rows of the table with no series rule of their own."""
    rule = second_order_rule(op, param, arity)
    return rule, rule.first_order


def call_forward(op, args, param):
    """The op's value on plain numbers (coefficient 0 of a series), without the domain check the forward pass made."""
    with np.errstate(all="ignore"):
        return float(ops.call(op, ops.PRIMITIVES[op].forward, args, param))
