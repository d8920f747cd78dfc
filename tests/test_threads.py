"""Threads get right answers: the trace in progress and the open counting blocks belong to each thread.

Before the reshape, two threads tracing a branching f at +1 and -1 swapped branches (H00 = -6 for -10),
and counts of one thread's work inflated another's report. Each test here runs 8 threads that start
together (a barrier), so that their calls overlap.
"""

import gc
import threading

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab.counting import uncounted
from hessian_lab.second_order import _rule_of_row, second_order_rule

THREADS, CALLS = 8, 50


def branching(x):
    """H00 = -6 where x0 > 0 and -10 where it is not, as in the measured report; max() branches too."""
    if x[0] > 0:
        core = -3 * x[0] ** 2
    else:
        core = -5 * x[0] ** 2
    return core + max(x[0], x[1]) * x[1] ** 2 + hl.sin(x[0] * x[1])


def smooth(x):
    """No branch: a dense Hessian on three inputs."""
    return hl.exp(x[0] * x[1]) + hl.log(2 + x[2] ** 2) * x[0] + hl.tanh(x[1] - x[2])


POINTS = {branching: ([1.0, 0.5], [-1.0, 0.5]), smooth: ([0.3, -0.2, 0.9], [-0.4, 0.7, 0.1])}
CALLS_BY_NAME = {
    **{f"hessian-{m}": (lambda f, x, m=m: hl.hessian(f, x, method=m, return_stats=True)) for m in hl.HESSIAN_METHODS},
    "hessian-auto": lambda f, x: hl.hessian(f, x, return_stats=True),
    "gradient": lambda f, x: hl.gradient(f, x, return_stats=True),
    "hvp": lambda f, x: hl.hvp(f, x, np.arange(1.0, len(x) + 1), return_stats=True),
    "tensor-nested": lambda f, x: hl.derivative_tensor(f, x, 3, return_stats=True),
    "tensor-taylor": lambda f, x: hl.derivative_tensor(f, x, 3, method="taylor", return_stats=True),
    "sparse": lambda f, x: (lambda r: (r[0].toarray(), r[1]))(hl.sparse_hessian(f, x, return_stats=True)),
}
JOBS = [(f, x, name) for f, points in POINTS.items() for x in points for name in CALLS_BY_NAME]


def run_together(work, threads=THREADS):
    """Run work(t) in `threads` threads released at once; return their results in thread order, re-raising any error."""
    barrier = threading.Barrier(threads)
    results, errors = [None] * threads, []

    def body(t):
        barrier.wait()
        try:
            results[t] = work(t)
        except BaseException as error:  # noqa: BLE001  (reported to the test below)
            errors.append(error)

    pool = [threading.Thread(target=body, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_every_call_from_eight_threads_equals_the_same_call_alone():
    """8 threads x 50 calls of every method on branching and smooth f: each result and each stats dict is exact."""
    alone = {(f.__name__, tuple(x), name): CALLS_BY_NAME[name](f, x) for f, x, name in JOBS}

    def work(t):
        rng = np.random.default_rng(t)
        mismatches = []
        for _ in range(CALLS):
            f, x, name = JOBS[rng.integers(len(JOBS))]
            value, stats = CALLS_BY_NAME[name](f, x)
            expected_value, expected_stats = alone[(f.__name__, tuple(x), name)]
            if not np.array_equal(value, expected_value) or stats != expected_stats:
                mismatches.append((f.__name__, x, name))
        return mismatches

    assert run_together(work) == [[]] * THREADS


def test_the_branch_is_decided_by_each_threads_own_point():
    """The measured failure itself: H00 is -6 at x0 = +1 and -10 at x0 = -1, in every thread, every time."""

    def work(t):
        x = [1.0, 0.5] if t % 2 else [-1.0, 0.5]
        return {hl.hessian(branching, x, method="rows")[0, 0] for _ in range(CALLS)}

    results = run_together(work)
    assert all(r == ({-6.0 - 0.25 * np.sin(0.5)} if t % 2 else {-10.0 - 0.25 * np.sin(-0.5)})
               for t, r in enumerate(results)), results


def test_a_shared_trace_gives_exact_results_and_counts_to_every_thread():
    """One trace used by 8 threads at once: G and the tape are built once, and every row's passes and visits are exact."""
    g = hl.trace(smooth, 3)
    x = POINTS[smooth][0]
    expected, stats = hl.trace(smooth, 3).hessian(x, method="rows", return_stats=True)

    def work(t):
        return [g.hessian(x, method=("rows", "tape")[t % 2], return_stats=True) for _ in range(CALLS // 5)]

    for t, results in enumerate(run_together(work)):
        for H, s in results:
            assert np.allclose(H, expected, rtol=1e-13, atol=1e-13)
            if t % 2 == 0:
                assert (s["passes"], s["visits"]) == (stats["passes"], stats["visits"])


def test_nested_and_concurrent_counting_blocks_see_only_their_own_work():
    """Each thread's blocks count exactly its own gradients, however busy the other threads are."""
    g = hl.trace(smooth, 3)
    x = POINTS[smooth][0]
    g.gradient(x)

    def work(t):
        with hl.counting() as outer:
            for _ in range(t + 1):
                g.gradient(x)
            with hl.counting() as inner:
                g.hessian(x, method="naive")
        return outer.passes, inner.passes

    assert run_together(work) == [(t + 1 + 9, 9) for t in range(THREADS)]


def test_uncounted_pauses_only_its_own_threads_unsealed_blocks():
    """uncounted() in one thread leaves another thread's block alone, and never pauses a sealed block."""
    g = hl.trace(smooth, 3)
    x = POINTS[smooth][0]

    def work(t):
        if t % 2:
            with uncounted():
                return [g.gradient(x) is not None for _ in range(CALLS)] and None
        with hl.counting() as counter:
            for _ in range(CALLS):
                g.gradient(x)
        return counter.passes

    assert run_together(work)[0::2] == [CALLS] * (THREADS // 2)
    with hl.counting() as plain, hl.counting(sealed=True) as sealed:
        with uncounted():
            g.gradient(x)
    assert (plain.passes, sealed.passes) == (0, 1)


def test_tracing_leaves_the_garbage_collector_alone():
    """The process-wide GC stays on while f runs: no user code ever sees it switched off."""
    seen = []
    hl.trace(lambda x: seen.append(gc.isenabled()) or x[0] * x[1], 2)
    assert gc.isenabled() and seen == [True]


def test_the_second_order_rule_cache_is_bounded():
    """Many distinct exponents cannot grow the rule cache without limit."""
    info = _rule_of_row.cache_info()
    assert info.maxsize is not None
    for p in np.linspace(1.5, 9.5, 400):
        second_order_rule("powc", float(p), 1)
    assert _rule_of_row.cache_info().currsize <= info.maxsize


@pytest.mark.parametrize("f", [branching, smooth], ids=["branching", "smooth"])
def test_threads_tracing_different_functions_do_not_mix_graphs(f):
    """Nodes made in one thread never end up in another thread's graph."""
    x = POINTS[f][0]
    alone = hl.trace(f, len(x), at=x)

    def work(t):
        return hl.trace(f, len(x), at=x).num_nodes

    assert run_together(work) == [alone.num_nodes] * THREADS
