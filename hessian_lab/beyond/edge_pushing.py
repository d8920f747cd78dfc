"""Edge pushing (Gower and Mello, Optimization Methods & Software 27(2), 2012): the whole Hessian in one reverse sweep.

Alongside the adjoints v̄, the sweep carries W, a symmetric map of "nonlinear edges" {a, b} -> weight
between nodes not yet swept. W starts empty; when the sweep reaches node i = φ(v_j : j args of i), with
local partials d_j = ∂φ/∂v_j and local second partials h_jk = ∂²φ/∂v_j∂v_k, it does three things:

    pushing:  every edge {i, p} moves onto i's arguments: W{j, p} += d_j W{i, p}  (twice that if j = p),
              and W{i, i} becomes W{j, k} += d_j d_k W{i, i};
    creating: W{j, k} += v̄_i h_jk, for each pair of arguments of a nonlinear i;
    adjoint:  v̄_j += v̄_i d_j, the ordinary backprop step;

and node i leaves W. At the end only inputs remain, and W{x_a, x_b} = H[a, b]. Each unordered pair is
stored once, and only pairs that can be nonzero: second partials that are identically 0 (such as mul's
∂²(ab)/∂a²) create nothing, and nothing is pushed through a first partial that is exactly 0, as backprop
skips `0 * g`. That is how the method exploits symmetry and sparsity.
"""

import math
from collections import defaultdict

import numpy as np

from .. import ops
from ..counting import record, record_details, record_method
from ..errors import TINY, DomainError, RangeError, would_show
from ..memory import dense_bytes
from ..node import name_of
from ..second_order import second_order_rule


VALUE = 80  # f's values and adjoints in the sweep's dicts, per edge of f
EDGE = 140  # one live pair of the edge map (a dict of dicts, stored both ways): measured 106 to 164 bytes


def working_bytes(graph, k=2, pattern_nnz=None):
    """Peak bytes of edge pushing: the most pairs its edge map holds at once, f's values and adjoints, and H.

    W holds at least H's pairs (every pair while the pattern is unknown, else the pattern's), and once a nonlinear
    node's own edge is pushed onto the arguments of its argument, every pair of those (w(w+1)/2 for the widest).
    """
    widest = widest_below_nonlinear(graph)
    pairs = graph.n * (graph.n + 1) // 2 if pattern_nnz is None else (pattern_nnz + graph.n) // 2
    return EDGE * max(pairs, widest * (widest + 1) // 2) + graph.m * VALUE + dense_bytes(graph.n, 2)


def widest_below_nonlinear(graph):
    """The most arguments of a node that is itself an argument of a nonlinear node (0 if there is none)."""
    return max((len(a.args) for v in graph.nodes if v.args and ops.linear_form(v) is None for a in v.args), default=0)


def hessian_edge_pushing(graph, point):
    """∇²f(x0) by edge pushing: one reverse sweep over f's graph (not over G), visits = f_nodes.

    Counted in the units of the other methods: passes = 1, visits = the nodes of f swept, evaluations =
    f's forward pass (local partials are numbers computed on the spot, as in a numeric backprop, and are
    not counted). Its real work is in the edges, added to the stats: "edges_pushed" (weight moves onto
    an argument in the pushing step), "edges_created" (second partials added in the creating step) and
    "max_live_edges" (the largest W held).
    """
    record_method("edge_pushing")
    values = graph.values(point)
    sweep = EdgePushing(graph.output)
    with np.errstate(all="ignore"):  # overflow is caught below, as a RangeError, not a warning
        for node in reversed(graph.nodes):
            if node.args:
                sweep.eliminate(node, values)
    record(passes=1, visits=len(graph.nodes))
    record_details(edges_pushed=sweep.pushed, edges_created=sweep.created, max_live_edges=sweep.max_live)
    index = {x: x.param for x in graph.inputs}
    H = np.zeros((graph.n, graph.n))
    for a, row in sweep.edges.items():
        for b, weight in row.items():
            H[index[a], index[b]] = weight
    if sweep.lost_would_show(H, index):
        raise RangeError("edge pushing: a second-order weight underflowed below 1e-308 at this point where its term "
                         "would not, in the order edge pushing multiplies; method='rows' may not")
    if not np.all(np.isfinite(H)):
        raise RangeError("edge pushing: a second derivative is not a finite number at this point (it overflows, at least "
                          "in the order edge pushing multiplies; method='rows' may not)")
    return H


class EdgePushing:
    """The state of one reverse sweep: adjoints, the symmetric edge map W, and the work counts."""

    def __init__(self, output):
        self.adjoints = {output: 1.0}
        self.edges = defaultdict(dict)  # W, stored both ways: edges[a][b] is edges[b][a]
        self.lost = defaultdict(dict)  # log2 of the largest term each edge lost to underflow, stored both ways
        self.pushed = self.created = self.max_live = self.live = 0

    def add(self, a, b, weight, *factors):
        """W{a, b} += weight * factors (one unordered pair; the diagonal once), multiplied in that order; where the
        product underflows, the size of the term it lost is remembered (a later partial may bring it back)."""
        product = weight
        for factor in factors:
            product *= factor
        if abs(product) < TINY and weight != 0 and all(factors):
            self.lose(a, b, _log2(weight) + sum(_log2(f) for f in factors))
        if b not in self.edges[a]:
            self.live += 1
            self.max_live = max(self.max_live, self.live)
        total = self.edges[a].get(b, 0.0) + product
        self.edges[a][b] = total
        self.edges[b][a] = total

    def lose(self, a, b, scale):
        """Remember that W{a, b} lost a term of about 2**scale to underflow (the largest such)."""
        if scale > self.lost[a].get(b, -math.inf):
            self.lost[a][b] = self.lost[b][a] = scale

    def remove(self, node):
        """Take node i out of W, returning its edges {p: W{i, p}} and their lost terms {p: log2 size}."""
        rows = []
        for table in (self.edges, self.lost):
            row = table.pop(node, {})
            for p in row:
                if p is not node:
                    del table[p][node]
            rows.append(row)
        self.live -= len(rows[0])
        return rows

    def lost_would_show(self, H, index):
        """Whether a term lost to underflow on an input pair would have shown in its entry of H: it is a normal
        number, not below the last bit of the entry (1e-300 x0 sin(x1) at 1e-300 loses terms that do not)."""
        return any(would_show(scale, H[index[a], index[b]]) for a, row in self.lost.items() for b, scale in row.items())

    def eliminate(self, node, values):
        """Sweep node i: push its edges onto its arguments, create its own, and pass its adjoint on.

        Each push multiplies the weight first (weight * d_j * d_k, not d_j * d_k * weight): partials of f's
        constants, such as 1e-170 and 1e200, would underflow or overflow on their own where the weight brings
        their product back into range; and a product that still underflows is a RangeError, not a lost term.
        """
        args, first, second = local_derivatives(node, values)
        moving = [(j, dj) for j, dj in zip(args, first) if dj != 0]  # as backprop skips `0 * g`
        edges, lost = self.remove(node)
        for p, scale in lost.items():  # a lost term moves as its weight would
            for a, b, factors in _targets(node, p, moving):
                self.lose(a, b, scale + sum(_log2(f) for f in factors))
        for p, weight in edges.items():
            for a, b, factors in _targets(node, p, moving):
                self.add(a, b, weight, *factors)
                self.pushed += 1
        adjoint = self.adjoints.pop(node, None)
        if adjoint is not None:
            for (s, t), h in second.items():
                self.add(args[s], args[t], adjoint, h)
                self.created += 1
            for j, dj in moving:
                self.adjoints[j] = self.adjoints.get(j, 0.0) + adjoint * dj


def _targets(node, p, moving):
    """Where pushing edge {node, p} puts its weight: (a, b, partials it is multiplied by), as `eliminate` pushes."""
    if p is node:
        return [(a, b, (da, db)) for s, (a, da) in enumerate(moving) for b, db in moving[s:]]
    return [(j, p, (dj, 2.0 if j is p else 1.0)) for j, dj in moving]


def _log2(number):
    """log2 |number| of a nonzero float."""
    return math.log2(abs(number))


def local_derivatives(node, values):
    """Node i's distinct non-constant arguments, its first local partials, and its nonzero second ones {(s, t): h, s <= t}.

    Affine nodes (a linear form in the primitive table) have constant first partials and no second ones; the
    others come from the primitive table
    differentiated twice (hessian_lab.second_order), and only the structurally nonzero second partials are
    kept. Repeated arguments, as in x * x, are merged: their partials add up.
    """
    slot, args = {}, []
    for arg in node.args:
        if arg.op != "const" and arg not in slot:
            slot[arg] = len(args)
            args.append(arg)
    if ops.linear_form(node) is not None:
        partials, hessian, nonlinear = ops.local_partials(node, values), None, []
    else:
        rule = second_order_rule(node.op, node.param, len(node.args))
        try:
            partials, hessian = rule.evaluate([values[a] for a in node.args], values[node])
        except DomainError as error:
            raise RangeError(f"a derivative of {node.op} is not a finite number at {name_of(node)} at this point "
                             f"({error}); method='rows' may not form it") from None
        nonlinear = [(p, q) for p, q in rule.structural_second() if p <= q]
    first = [0.0] * len(args)
    for arg, partial in zip(node.args, partials):
        if arg in slot:
            first[slot[arg]] += partial
    second = {}
    for p, q in nonlinear:
        if node.args[p] in slot and node.args[q] in slot:
            s, t = sorted((slot[node.args[p]], slot[node.args[q]]))
            twice = s == t and p != q  # x * x: ∂²/∂x² collects h_pq and h_qp
            second[s, t] = second.get((s, t), 0.0) + hessian[p][q] * (2 if twice else 1)
    return args, first, second

