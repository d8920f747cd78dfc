"""The compiled tape and the colouring Hessian agree with the per-node reference engine, with exact counts."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

import hessian_lab as hl
from hessian_lab import families
from hessian_lab.fast.sparse import (adjacency, colours_lower_bound, greedy_star_colouring, hessian_pattern,
                                     largest_first, smallest_last, star_colouring)


def family(name, n):
    """The benchmark family `name` of hessian_lab.families at size n."""
    return getattr(families, name)(n)


def full_band(beta):
    """A function whose Hessian is fully banded with half-bandwidth beta."""
    return lambda x: sum(hl.exp(0.1 * hl.sum(x[i : i + beta + 1])) for i in range(len(x) - beta))


def mixed(x):
    """Every kind of node the tape groups: affine merges, constants as nonlinear arguments, all binary ops."""
    a = x[0] * x[1] - 3.0 * x[2] / 2.0
    b = a + a
    return (b * b + x[2] ** x[0] + 2.0 ** x[1] + 1.0 / (1 + x[0] ** 2) + hl.log(x[1] * x[2]) - hl.sqrt(x[2])
            + hl.tan(0.3 * x[0]) + hl.sigmoid(b) + hl.relu(x[1]) * hl.abs(x[0] - 5) + x[1] ** -1.5)


CASES = [(family("rosenbrock", 12), 12), (family("banded_chain", 12), 12), (full_band(2), 10),
         (family("logsumexp_quad", 8), 8), (mixed, 3)]


@pytest.mark.parametrize("f, n", CASES)
def test_tape_and_colouring_equal_the_reference_rows(f, n):
    """Vectorised sweeps equal the per-node reference sweep to round-off, for gradient and Hessian."""
    x0 = np.linspace(0.3, 1.1, n)
    g = hl.trace(f, n)
    reference = g.hessian(x0, method="rows")
    scale = max(1.0, np.abs(reference).max())
    for method in ("tape", "colouring", "auto"):
        assert np.allclose(g.hessian(x0, method=method), reference, rtol=1e-13, atol=1e-13 * scale), method
    assert np.allclose(g.tape().gradient(x0), g.gradient(x0), rtol=1e-13, atol=1e-13 * scale)
    assert np.allclose(g.sparse_hessian(x0).toarray(), reference, rtol=1e-13, atol=1e-13 * scale)


def test_sparse_hessian_equals_dense_to_1e12():
    """The issue's bar: sparse equals dense to 1e-12, at a size where colouring matters."""
    n = 300
    x0 = np.linspace(-1, 1, n)
    S, stats = hl.sparse_hessian(family("banded_chain", n), x0, return_stats=True)
    assert stats["colours"] == 3 and stats["pattern"] == "sparse"
    assert np.abs(S.toarray() - hl.hessian(family("banded_chain", n), x0, method="tape")).max() < 1e-12


def arrowhead(x):
    """One variable in every term, a shape common in optimisation test sets: H is full in its last row and column."""
    return sum((x[i] ** 2 + x[-1] ** 2) ** 2 for i in range(len(x) - 1))


def blocks_of_two(x):
    """Independent pairs (x[2i], x[2i+1]): H is block diagonal with 2×2 blocks."""
    return sum(hl.exp(0.1 * (x[i] + x[i + 1])) for i in range(0, len(x) - 1, 2))


def diagonal(x):
    """Separable terms: H is diagonal."""
    return sum(hl.exp(0.1 * x[i]) for i in range(len(x)))


def plus_minus_three(x):
    """Terms coupling x[i] and x[i+3]: H has the diagonals 0 and ±3, three disjoint paths."""
    return sum(hl.exp(0.1 * (x[i] + x[i + 3])) for i in range(len(x) - 3))


# (function, its optimal number of star colours, whether the certified lower bound reaches it)
KNOWN_OPTIMA = {"arrowhead": (arrowhead, 2, True), "tridiagonal": (full_band(1), 3, True),
                "blocks of two": (blocks_of_two, 2, True), "diagonal": (diagonal, 1, True),
                "±3 diagonals": (plus_minus_three, 3, True),
                **{f"band β={beta}": (full_band(beta), 2 * beta + 1, beta == 1) for beta in (2, 3, 4)}}


@pytest.mark.parametrize("name", KNOWN_OPTIMA)
def test_colours_at_the_known_optimum_and_hessians_equal_the_tape(name):
    """Colours equal the known optimum (2, 3, 2, 1, 3, 2β+1), the bound never exceeds them, and H equals the tape's."""
    f, optimum, bound_is_tight = KNOWN_OPTIMA[name]
    n = 30
    x0 = np.linspace(-1, 1, n)
    S, stats = hl.sparse_hessian(f, x0, return_stats=True)
    dense = hl.hessian(f, x0, method="tape")
    assert stats["colours"] == optimum
    assert (stats["colours_lower_bound"] == optimum) if bound_is_tight else (stats["colours_lower_bound"] < optimum)
    assert np.abs(S.toarray() - dense).max() < 1e-12
    H, stats = hl.hessian(f, x0, method="colouring", return_stats=True)
    assert stats["colours"] == optimum and np.abs(H - dense).max() < 1e-12


def test_natural_order_leaves_an_arrowhead_with_n_colours():
    """Why the orders matter: coloured in natural order, the hub comes last and every leaf needs its own colour."""
    n = 30
    adj = adjacency(hl.trace(arrowhead, n).sparse_plan().pattern)
    assert greedy_star_colouring(adj, range(n)).max() + 1 == n
    assert greedy_star_colouring(adj, largest_first(adj)).max() + 1 == 2
    assert greedy_star_colouring(adj, smallest_last(adj)).max() + 1 == 2


@pytest.mark.parametrize("beta", [1, 2, 3, 4, 5])
def test_banded_hessian_uses_2beta_plus_1_colours(beta):
    """Star colouring of a full band of half-bandwidth β needs exactly 2β+1 colours; a clique certifies β+1 (3 for β=1)."""
    plan = hl.trace(full_band(beta), 30).sparse_plan()
    assert plan.num_colours == 2 * beta + 1
    assert plan.colours_lower_bound == max(beta + 1, 3)


def is_star_colouring(adj, colour):
    """Neighbours differ, and every path on four vertices uses at least three colours."""
    for v, ws in enumerate(adj):
        if any(colour[v] == colour[w] for w in ws):
            return False
        for w in ws:
            for x in set(adj[w]) - {v}:
                for y in set(adj[x]) - {w, v}:
                    if len({colour[v], colour[w], colour[x], colour[y]}) < 3:
                        return False
    return True


def test_star_colouring_is_a_star_colouring():
    """Every path on four vertices uses at least three colours, and neighbours differ."""
    P = hl.trace(full_band(3), 25).sparse_plan().pattern
    assert is_star_colouring(adjacency(P), star_colouring(P))


def textbook_star_colouring(adj, order):
    """GMP 2005's StarColoringAlg1 as printed, walking the neighbours' neighbours: the oracle for the bookkeeping."""
    colour = [-1] * len(adj)
    for v in order:
        forbidden = {colour[w] for w in adj[v] if colour[w] >= 0}
        for w in adj[v]:
            for x in adj[w]:
                if x == v or colour[x] < 0:
                    continue
                if colour[w] < 0 or any(y != w and colour[y] == colour[w] for y in adj[x]):
                    forbidden.add(colour[x])
        colour[v] = min(set(range(len(forbidden) + 1)) - forbidden)
    return colour


@st.composite
def symmetric_patterns(draw, max_n=12):
    """A random symmetric pattern with a full diagonal, as CSR."""
    n = draw(st.integers(1, max_n))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = [p for p, keep in zip(pairs, draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))) if keep]
    rows = [i for i, j in edges] + [j for i, j in edges] + list(range(n))
    cols = [j for i, j in edges] + [i for i, j in edges] + list(range(n))
    P = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    P.sort_indices()
    return P


def partitions(n):
    """Every colouring of n vertices up to renaming colours (restricted growth strings)."""
    if n == 0:
        yield []
        return
    for head in partitions(n - 1):
        for c in range(max(head, default=-1) + 2):
            yield head + [c]


@settings(max_examples=150, deadline=None)
@given(symmetric_patterns(max_n=7))
def test_lower_bound_never_exceeds_the_optimum(P):
    """bound <= fewest star colours (found by trying every colouring) <= the colours star_colouring uses."""
    adj = adjacency(P)
    optimum = min(max(c) + 1 for c in partitions(len(adj)) if is_star_colouring(adj, c)) if adj else 0
    colour = star_colouring(P)
    assert colours_lower_bound(P) <= optimum <= (colour.max() + 1 if len(colour) else 0)


@settings(max_examples=100, deadline=None)
@given(symmetric_patterns(max_n=14), st.randoms(use_true_random=False))
def test_every_order_gives_the_textbook_star_colouring(P, rnd):
    """The bookkept colouring equals the textbook loop in every order tried, and each is a star colouring."""
    adj = adjacency(P)
    shuffled = list(range(len(adj)))
    rnd.shuffle(shuffled)
    for order in (list(range(len(adj))), largest_first(adj), smallest_last(adj), shuffled):
        colour = greedy_star_colouring(adj, order)
        assert colour.tolist() == textbook_star_colouring(adj, order)
        assert is_star_colouring(adj, colour)
    assert colours_lower_bound(P) <= (star_colouring(P).max() + 1 if len(adj) else 0)


@settings(max_examples=40, deadline=None)
@given(symmetric_patterns(max_n=10))
def test_colouring_hessian_of_any_pattern_equals_the_tape(P):
    """A function whose Hessian has the pattern P: its sparse Hessian is recovered directly and equals the tape's."""
    n = P.shape[0]
    edges = [(i, j) for i in range(n) for j in P.indices[P.indptr[i] : P.indptr[i + 1]] if i < j]

    def f(x):
        """exp of each coupled pair's sum, and of each variable alone (for the diagonal)."""
        return sum(hl.exp(0.1 * (x[i] + x[j])) for i, j in edges) + sum(hl.exp(0.2 * x[i]) for i in range(n))

    x0 = np.linspace(-1, 1, n)
    S, stats = hl.sparse_hessian(f, x0, return_stats=True)
    if stats["pattern"] == "sparse":
        assert stats["colours_lower_bound"] <= stats["colours"]
        assert (S != S.T).nnz == 0
    assert np.abs(S.toarray() - hl.hessian(f, x0, method="tape")).max() < 1e-12


def test_dense_pattern_is_detected_and_auto_uses_the_tape():
    """A dense Hessian gives no sparse plan; auto then pushes all n directions through the tape."""
    g = hl.trace(family("logsumexp_quad", 10), 10)
    assert hessian_pattern(g.tape()) is None and g.sparse_plan() is None
    _, stats = g.hessian(np.zeros(10), return_stats=True)
    assert stats["method"] == "tape" and stats["passes"] == 10 + 1


def test_tape_counts_are_exact():
    """A vectorised product visits every tape node twice per direction; the gradient sweep once."""
    n = 20
    g = hl.trace(family("rosenbrock", n), n)
    _, stats = g.hessian(np.ones(n), method="colouring", return_stats=True)
    tape_nodes = len(g.tape())
    colours = stats["colours"]
    assert stats["passes"] == 1 + colours
    assert stats["visits"] == tape_nodes + 2 * tape_nodes * colours
    assert stats["evaluations"] == tape_nodes


def test_affine_chains_are_merged_into_one_sum():
    """Python's sum() over n terms (a chain of n adds) compiles to a shallow tape, not depth n."""
    g = hl.trace(family("rosenbrock", 200), 200)
    assert g.tape().levels <= 5


def test_domain_error_on_the_tape_names_the_node():
    """The vectorised forward pass reports the first offending node, like the reference engine."""
    g = hl.trace(lambda x: hl.log(x[0]) + hl.log(x[1]), 2)
    with pytest.raises(hl.DomainError, match=r"log.*-2.*x\[1\]"):
        g.hessian([1.0, -2.0], method="tape")


def test_constant_and_identity_functions():
    """Degenerate graphs: a constant f and f = x[0] compile and give zero Hessians."""
    for f in (lambda x: 3.0, lambda x: x[0]):
        g = hl.trace(f, 2)
        assert np.array_equal(g.hessian([1.0, 2.0], method="tape"), np.zeros((2, 2)))
        assert np.array_equal(g.sparse_hessian([1.0, 2.0]).toarray(), np.zeros((2, 2)))


def test_nodes_compare_by_identity_and_against_numbers_by_value():
    """`node in list` works outside a trace; `x[0] == 1.0` is a recorded branch that reuse checks."""
    g = hl.trace(lambda x: x[0] if x[0] in [x[1], x[0]] else x[1], 2)
    assert g.output is g.inputs[0]
    g = hl.trace(lambda x: 2 * x[0] if x[0] == 1.0 else x[1], 2, at=[1.0, 5.0])
    assert np.array_equal(g.gradient([1.0, 7.0]), [2.0, 0.0])
    with pytest.raises(hl.BranchError):
        g.gradient([3.0, 7.0])


def test_an_option_a_method_does_not_take_is_named():
    """hl.hessian(..., method="symmetric", prune=False) names the option and the method's own options."""
    with pytest.raises(hl.HessianLabError, match=r"'symmetric' does not take 'prune'; it takes no options"):
        hl.hessian(family("rosenbrock", 3), np.ones(3), method="symmetric", prune=False)
    with pytest.raises(hl.HessianLabError, match=r"'rows' does not take 'prunes'; its options are: prune"):
        hl.hessian(family("rosenbrock", 3), np.ones(3), method="rows", prunes=False)


@pytest.mark.parametrize("method", ["tape", "colouring"])
def test_fast_hessians_are_exactly_symmetric(method):
    """H[i, j] and H[j, i] are the same float, not two round-offs of it."""
    for f, n in CASES:
        H = hl.trace(f, n).hessian(np.linspace(0.3, 1.1, n), method=method)
        assert np.array_equal(H, H.T)
    S = hl.sparse_hessian(family("banded_chain", 40), np.linspace(-1, 1, 40))
    assert (S != S.T).nnz == 0


def test_sigmoid_is_exact_far_into_both_tails():
    """The logistic function keeps its relative accuracy at -40 (about 4e-18) and never overflows."""
    assert hl.sigmoid(-40.0) == pytest.approx(np.exp(-40.0) / (1 + np.exp(-40.0)), rel=1e-15)
    assert hl.sigmoid(800.0) == 1.0 and hl.sigmoid(-800.0) == 0.0
    assert hl.gradient(lambda x: hl.log(hl.sigmoid(x[0])), [-40.0])[0] == pytest.approx(1.0, rel=1e-15)
