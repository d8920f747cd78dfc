"""The compiled tape and the colouring Hessian agree with the per-node reference engine, with exact counts."""

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import families
from hessian_lab.fast.sparse import hessian_pattern, star_colouring


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


@pytest.mark.parametrize("beta", [1, 2, 3, 5])
def test_banded_hessian_uses_2beta_plus_1_colours(beta):
    """Star colouring of a full band of half-bandwidth β needs exactly 2β+1 colours."""
    g = hl.trace(full_band(beta), 30)
    assert g.sparse_plan().num_colours == 2 * beta + 1


def test_star_colouring_is_a_star_colouring():
    """Every path on four vertices uses at least three colours, and neighbours differ."""
    g = hl.trace(full_band(3), 25)
    P = g.sparse_plan().pattern
    colour = star_colouring(P)
    adj = {v: set(P.indices[P.indptr[v] : P.indptr[v + 1]]) - {v} for v in range(P.shape[0])}
    for v, ws in adj.items():
        assert all(colour[v] != colour[w] for w in ws)
        for w in ws:
            for x in adj[w] - {v}:
                for y in adj[x] - {w, v}:
                    assert len({colour[v], colour[w], colour[x], colour[y]}) >= 3


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
