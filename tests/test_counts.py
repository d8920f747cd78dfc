"""The work counts are exact: identities between methods, in whole numbers, on every catalogue function."""

import math

import numpy as np
import pytest

import hessian_lab as hl
from functions import BY_NAME, CATALOGUE

cases = pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])

# The methods whose only symbolic work is building G, which the trace caches.
USES_CACHED_G = ["rows", "naive", "symmetric", "hvp"]


def stats(case, method, **options):
    """The work report of one Hessian of a catalogue case."""
    return hl.hessian(case.f, case.point, method=method, return_stats=True, **options)[1]


def pass_sizes(case):
    """Nodes each pruned row pass must visit: everything x̄_i depends on in G, for i = 0..n-1."""
    G = hl.trace(case.f, case.n, at=case.point).gradient_graph()
    return [len(hl.topological_order([G.output(i)])) for i in range(case.n)]


@cases
def test_naive_visits_are_exactly_n_times_rows_visits(case):
    """The assignment's O(n² m) against O(n m) as an identity: naive visits = n × rows visits, n² passes against n."""
    rows, naive = stats(case, "rows"), stats(case, "naive")
    assert naive["visits"] == case.n * rows["visits"]
    assert (rows["passes"], naive["passes"]) == (case.n, case.n**2)


@cases
def test_rows_visit_exactly_what_each_output_depends_on(case):
    """Pruned row i visits the nodes x̄_i depends on, so in total at most n·|G| nodes."""
    rows = stats(case, "rows")
    assert rows["visits"] == sum(pass_sizes(case))
    assert rows["visits"] <= case.n * rows["G_nodes"]


@cases
def test_unpruned_rows_sweep_all_of_G_each_pass(case):
    """Without pruning, every one of the n passes sweeps all of G: visits = n·|G| exactly, same Hessian."""
    unpruned = stats(case, "rows", prune=False)
    assert unpruned["visits"] == case.n * unpruned["G_nodes"]
    H = hl.hessian(case.f, case.point, method="rows")
    np.testing.assert_array_equal(hl.hessian(case.f, case.point, method="rows", prune=False), H)


@cases
def test_symmetric_saves_visits_and_keeps_the_hessian(case):
    """The upper-triangle method visits no more than rows, and its upper triangle is the rows method's, bit for bit."""
    assert stats(case, "symmetric")["visits"] <= stats(case, "rows")["visits"]
    H_rows = hl.hessian(case.f, case.point, method="rows")
    H_sym = hl.hessian(case.f, case.point, method="symmetric")
    np.testing.assert_array_equal(np.triu(H_sym), np.triu(H_rows))
    np.testing.assert_allclose(H_sym, H_rows, rtol=1e-14, atol=1e-14)


def test_symmetric_saving_is_real_on_rosenbrock():
    """On Rosenbrock the symmetric method visits strictly fewer nodes than rows: the saving is not zero."""
    case = BY_NAME["rosenbrock"]
    assert stats(case, "symmetric")["visits"] < stats(case, "rows")["visits"]


@cases
def test_forward_over_forward_makes_one_pass_per_upper_entry(case):
    """Forward-over-forward: n tangent graphs built, then n(n+1)/2 numeric passes, one per entry j >= i."""
    fof = stats(case, "forward_over_forward")
    assert fof["passes"] == case.n * (case.n + 1) // 2
    assert fof["builds"] == case.n


@cases
def test_gradient_is_one_pass_over_f(case):
    """The gradient is one backward pass visiting every node of f once."""
    _, report = hl.gradient(case.f, case.point, return_stats=True)
    assert (report["passes"], report["visits"]) == (1, report["f_nodes"])


@cases
def test_hvp_is_one_pass_over_G_and_the_hvp_method_n_of_them(case):
    """One Hessian-vector product is one tangent pass over what G's outputs need; the "hvp" Hessian is n of them."""
    _, one = hl.hvp(case.f, case.point, np.ones(case.n), return_stats=True)
    G = hl.trace(case.f, case.n, at=case.point).gradient_graph()
    assert (one["passes"], one["visits"]) == (1, len(hl.topological_order(G.outputs)))
    assert one["visits"] <= one["G_nodes"]
    by_hvp = stats(case, "hvp")
    assert (by_hvp["passes"], by_hvp["visits"]) == (case.n, case.n * one["visits"])


@cases
def test_sizes_are_consistent(case):
    """m counts f's edges, and G_over_f is |G| / |f| in edges."""
    report = stats(case, "rows")
    g = hl.trace(case.f, case.n, at=case.point)
    assert report["m"] == g.m == sum(len(node.args) for node in g.nodes)
    assert report["f_nodes"] == g.num_nodes
    if report["m"]:
        assert report["G_over_f"] == report["G_edges"] / report["m"]


def level_passes(n, j, symmetric):
    """Passes at level j of the nested tensor: C(n+j-2, j-1) with symmetry, n^(j-1) without."""
    return math.comb(n + j - 2, j - 1) if symmetric else n ** (j - 1)


@cases
@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "all_indices"])
def test_tensor_passes_per_level_follow_the_formula(case, symmetric):
    """Third-order tensor: level j makes C(n+j-2, j-1) passes with symmetry and n^(j-1) without; the last level is numeric."""
    _, report = hl.derivative_tensor(case.f, case.point, 3, return_stats=True, symmetric=symmetric)
    expected = [level_passes(case.n, j, symmetric) for j in (1, 2, 3)]
    assert report["passes_per_level"] == expected
    assert report["passes_total"] == sum(expected)
    assert report["passes"] == expected[-1]


@pytest.mark.parametrize("k", [1, 2, 4])
def test_tensor_passes_at_other_orders(k):
    """The pass formulas hold for every order k, not only 3, and both fillings give the same tensor."""
    case = BY_NAME["shared"]
    T_sym, sym = hl.derivative_tensor(case.f, case.point, k, return_stats=True, symmetric=True)
    T_all, full = hl.derivative_tensor(case.f, case.point, k, return_stats=True, symmetric=False)
    assert sym["passes_per_level"] == [level_passes(case.n, j, True) for j in range(1, k + 1)]
    assert full["passes_per_level"] == [level_passes(case.n, j, False) for j in range(1, k + 1)]
    np.testing.assert_allclose(T_sym, T_all, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("method", list(hl.HESSIAN_METHODS))
def test_second_call_on_a_trace_repeats_exactly(method):
    """Hessian twice on one trace: bit-identical results, identical numeric work; symbolic builds never grow."""
    case = BY_NAME["every_primitive"]
    g = hl.trace(case.f, case.n)
    H1, first = g.hessian(case.point, method=method, return_stats=True)
    H2, second = g.hessian(case.point, method=method, return_stats=True)
    np.testing.assert_array_equal(H1, H2)
    symbolic = ("builds", "build_visits")
    assert {k: v for k, v in first.items() if k not in symbolic} == {k: v for k, v in second.items() if k not in symbolic}
    assert second["builds"] <= first["builds"]


@pytest.mark.parametrize("method", USES_CACHED_G)
def test_G_is_built_once_per_trace(method):
    """G is built on the first call (one symbolic sweep over f) and cached: a second call builds nothing."""
    case = BY_NAME["log_linear"]
    g = hl.trace(case.f, case.n)
    _, first = g.hessian(case.point, method=method, return_stats=True)
    _, second = g.hessian(case.point, method=method, return_stats=True)
    assert (first["builds"], first["build_visits"]) == (1, g.num_nodes)
    assert (second["builds"], second["build_visits"]) == (0, 0)
    assert g.gradient_graph() is g.gradient_graph()


def test_function_api_retraces_and_rebuilds_each_call():
    """hl.hessian(f, x0) traces afresh, so every call builds its own G: same counts, build included, each time."""
    case = BY_NAME["tanh_mlp"]
    first, second = stats(case, "rows"), stats(case, "rows")
    assert first == second
    assert first["builds"] == 1


def test_counting_blocks_nest_and_add_up():
    """An outer block counts everything its inner blocks count; an inner block counts only its own work."""
    case = BY_NAME["rosenbrock"]
    g = hl.trace(case.f, case.n)
    g.gradient_graph()
    with hl.counting() as outer:
        with hl.counting() as inner_gradient:
            g.gradient(case.point)
        with hl.counting() as inner_hessian:
            g.hessian(case.point, method="rows")
    for field in hl.Counter.FIELDS:
        assert getattr(outer, field) == getattr(inner_gradient, field) + getattr(inner_hessian, field), field
    assert (inner_gradient.passes, inner_hessian.passes) == (1, case.n)
    assert outer.visits > 0


def test_counting_block_without_engine_work_counts_zero():
    """A block that sweeps no graph counts zero everywhere, even inside a block that does, and stops counting when closed."""
    case = BY_NAME["shared"]
    with hl.counting() as outer:
        with hl.counting() as idle:
            hl.sin(0.5) * hl.exp(1.0)
        hl.hessian(case.f, case.point, method="rows")
    assert idle.as_dict() == dict.fromkeys(hl.Counter.FIELDS, 0) and idle.graphs == []
    closed = outer.as_dict()
    hl.hessian(case.f, case.point, method="rows")
    assert outer.as_dict() == closed
    assert closed["passes"] == case.n and len(outer.graphs) == 1



@cases
def test_symmetric_reports_the_rows_visits_it_saved_on(case):
    """The symmetric method's stats name the rows method's visits, so its saving is rows_visits - visits."""
    sym = stats(case, "symmetric")
    assert sym["rows_visits"] == stats(case, "rows")["visits"] >= sym["visits"]
