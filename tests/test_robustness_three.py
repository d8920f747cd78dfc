"""Robustness, round three (issue 19): each finding of the third hostile review, as a test that failed before its fix.

Silent wrong answers (folded constants, a row's own function in compiled kernels, Taylor mode's promise), false
refusals, hangs, a memory model within 2x of the truth, and no raw error or warning from inside the engine.
"""

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import ops
from hessian_lab.ops import PRIMITIVES, Primitive

ALL_HESSIANS = ["auto", *hl.HESSIAN_METHODS]


# 1, 4. Products of f's constants are never folded into a zero or an infinity; a refusal says "at this point".

CONSTANTS = [  # f, x0, H exact, the methods that must answer (the rest may refuse by a RangeError)
    (lambda x: hl.sqrt(1e-170 * x[0]), 1.0, -2.5e-86, ALL_HESSIANS),  # 1e-170 * 1e-170 underflows to 0
    (lambda x: hl.sqrt(1e-160 * x[0]), 1.0, -2.5e-81, ALL_HESSIANS),  # ... to a subnormal, 1e-5 off
    (lambda x: hl.exp(1e-170 * x[0] + 700), 1.0, 1.0142320547350045e-36, ALL_HESSIANS),
    (lambda x: 1e-300 * hl.sin(1e200 * x[0]), 1e-200, -8.414709848078965e99,  # 1e200 * 1e200 overflows
     [m for m in ALL_HESSIANS if m != "forward_over_forward"]),  # its tangent d²sin/dx² is -8.4e399 itself
    (lambda x: hl.tanh(1e160 * x[0]), 1.0, 0.0, ALL_HESSIANS),  # 1e320 times a second partial of 0
    (lambda x: 1e-85 * hl.sqrt(1e170 * x[0]), 1.0, -0.25, ["auto", "rows", "naive", "symmetric", "hvp"]),
    (lambda x: 1e85 * hl.sqrt(1e-170 * x[0]), 1.0, -0.25, ["auto", "rows", "naive", "symmetric", "hvp"]),
    # a weight of two constants whose product overflows (it once wrote invalid source), and a local second partial
    # that overflows (∂²√u/∂u² at u = 5.7e-222), which only rows & co. never form
    (lambda x: 1e308 * (1e-10 * x[0]) ** 2, 1.0, 2e288, ["auto", "rows", "naive", "symmetric", "hvp"]),
    (lambda x: hl.sqrt(1e-100 * x[0]), 5.7e-122, -0.25e-50 * 5.7e-122 ** -1.5,
     ["auto", "rows", "naive", "symmetric", "forward_over_forward", "hvp"]),
]


@pytest.mark.parametrize("f, x0, exact, answering", CONSTANTS)
def test_extreme_constants_give_the_hessian_or_a_range_error_never_a_wrong_number(f, x0, exact, answering):
    """Each method, and auto on its first three calls of one trace (the kernel from the second on), gives H to
    round-off; a method whose own order of products leaves the float range says so at this point, not at any."""
    g = hl.trace(f, 1)
    for method in ["auto", "auto", *ALL_HESSIANS]:
        try:
            H = g.hessian([x0], method=method)[0, 0]
        except hl.RangeError as error:
            assert method not in answering and "at this point" in str(error) and "any point" not in str(error)
            continue
        assert H == pytest.approx(exact, rel=1e-12, abs=0.0), method


# 2. Compiled kernels call the row's own function.

def test_a_row_whose_forward_is_a_numpy_ufunc_gives_the_same_hessian_in_every_method(monkeypatch):
    """A row computing np.remainder is never compiled as math.remainder, which rounds to the nearest multiple instead."""
    floor_of_ratio = lambda a, b, y: (a - y) / b  # noqa: E731  (a = b floor(a / b) + remainder, for the partial in b)
    monkeypatch.setitem(PRIMITIVES, "remainder_row_test", Primitive(
        np.remainder, lambda a, b, y: (1.0, -floor_of_ratio(a, b, y))))
    f = lambda x: ops.apply("remainder_row_test", x[0], x[1]) ** 2 + x[1] ** 3  # noqa: E731
    x0 = [5.0, 3.0]  # remainder 2 and floor 1; math.remainder(5, 3) is -1
    expected = hl.hessian(f, x0, method="rows")
    assert np.allclose(expected, [[2.0, -2.0], [-2.0, 20.0]])
    g = hl.trace(f, 2)
    for method in ALL_HESSIANS:
        for _ in range(3):  # auto compiles on its second call
            assert np.allclose(g.hessian(x0, method=method), expected, rtol=1e-14, atol=0), method


# 10-12. Clean errors, and the caller's array untouched.

def test_a_block_of_no_columns_gives_an_empty_product():
    """HessianOperator.matmat of an (n, 0) block is an (n, 0) result, not numpy's concatenate error."""
    op = hl.hessian_operator(lambda x: x[0] * x[1] ** 2, [1.0, 2.0])
    assert op.matmat(np.empty((2, 0))).shape == (2, 0)
    assert np.allclose(op.matmat(np.eye(2)), [[0.0, 4.0], [4.0, 2.0]])


def test_comparisons_joined_by_ampersand_are_a_named_error():
    """`(x[0] > 0) & (x[0] < 1)` says to write `and`, not a raw TypeError."""
    with pytest.raises(hl.TraceError, match="write `if a and b:`"):
        hl.hessian(lambda x: x[0] ** 2 if (x[0] > 0) & (x[0] < 1) else x[0], [0.5])
    assert hl.hessian(lambda x: x[0] ** 3 if x[0] > 0 and x[0] < 1 else x[0], [0.5])[0, 0] == pytest.approx(3.0)


def test_dot_refuses_text_coefficients_as_x0_does():
    """hl.dot(["1.5"], x) is refused like x0 = ["1.5"]: text is never turned into a number."""
    with pytest.raises(hl.HessianLabError, match="coefficients must be real numbers"):
        hl.hessian(lambda x: hl.dot(["1.5", "2"], x), [1.0, 2.0])
    assert hl.gradient(lambda x: hl.dot(np.array([1.5, 2.0]), x), [1.0, 2.0]).tolist() == [1.5, 2.0]


def test_the_hessian_operator_leaves_the_callers_array_writable():
    """hl.hessian_operator(f, x0) copies x0 before freezing its own copy."""
    x0 = np.array([1.0, 2.0])
    op = hl.hessian_operator(lambda x: x[0] * x[1] ** 2, x0)
    x0[0] = 5.0
    assert op.x[0] == 1.0 and not op.x.flags.writeable


# 5. Taylor mode's interpolation is bounded, or refused by name before it starts.

def test_taylor_interpolation_computes_one_gamma_per_sorted_pattern():
    """n = 6, k = 6 combines 25,493 pairs (i, j), but γ is computed once per i sorted on its support (946 values;
    one per i as written would be 2,668, and one per pair 25,493)."""
    from hessian_lab.beyond import taylor

    f = lambda x: hl.sin(x[0] + x[1] * x[2]) * hl.exp(x[3] * x[4] - x[5])  # noqa: E731
    x0 = np.linspace(0.1, 0.6, 6)
    taylor.gamma.cache_clear()
    T = hl.derivative_tensor(f, x0, 6, method="taylor")
    assert taylor.gamma.cache_info().misses < 1_000
    assert taylor.interpolation_pairs(6, 6) == 25_493 == sum(
        math.comb(6 + np.count_nonzero(i) - 1, 6) for i in taylor.multi_indices(6, 6))
    nested = hl.derivative_tensor(f, x0, 6)
    assert np.max(np.abs(T - nested)) <= 1e-12 * np.max(np.abs(nested))


def test_taylor_mode_past_its_bound_is_refused_by_name_before_any_sweep(monkeypatch):
    """n = 9, k = 7 would combine 1.4 million pairs: refused at once, naming the method that answers instead."""
    from hessian_lab.beyond import taylor

    monkeypatch.setattr(taylor, "TaylorSweep", None)  # a sweep started would raise a TypeError
    with pytest.raises(hl.HessianLabError, match="combines 1,434,141 pairs .* use method='nested'"):
        hl.derivative_tensor(lambda x: hl.exp(sum(x)), np.zeros(9), 7, method="taylor")


# 3. The README states what Taylor mode and nesting promise, with the numbers they give.

def test_the_readme_states_taylor_and_nesting_as_they_behave():
    """(x0 + 1e-100 x1) / x0: nesting finds the mixed entries, Taylor mode loses them to 0, and every method loses
    ∂²/∂x0² (6.4e-101) to cancellation; the README's floating-point section quotes exactly these numbers."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    f = lambda x: (x[0] + 1e-100 * x[1]) / x[0]  # noqa: E731
    x0 = [1.3, 0.7]
    for k, mixed in [(2, -5.9e-101), (3, 9.1e-101)]:
        nested = hl.derivative_tensor(f, x0, k)
        assert nested[(0,) * (k - 1) + (1,)] == pytest.approx(mixed, rel=1e-2) and f"{mixed:.2g}" in readme
        assert not hl.derivative_tensor(f, x0, k, method="taylor").any()
    exact = 2e-100 * x0[1] / x0[0] ** 3
    assert f"{exact:.2g}" in readme and "(1.3, 0.7)" in readme
    for method in ALL_HESSIANS:
        assert hl.hessian(f, x0, method=method)[0, 0] == 0.0
    assert "exact entry by entry" not in readme.replace("not exact entry by entry", "")


# 6. The kernel's size limit bounds its compile time: every product it forms is charged or bounded by one that is.

def test_a_kernel_of_tiny_constants_is_refused_after_a_bounded_number_of_products(monkeypatch):
    """40 sines of one dense dot with coefficients 1e-200: each J_i J_j is 1e-400, which folding used to drop
    uncharged (so compiling ran for 17-44 s at n = 2000); now it is kept, charged, and the kernel refused early."""
    from hessian_lab.fast import kernel, source

    n = 600
    made = []
    original = source.product
    monkeypatch.setattr(kernel, "product", lambda *factors: made.append(1) or original(*factors))
    monkeypatch.setattr(source, "product", lambda *factors: made.append(1) or original(*factors))
    c = np.full(n, 1e-200)
    g = hl.trace(lambda x: (lambda u: hl.sum([hl.sin(u + k) for k in range(40)]))(hl.dot(c, x)), n)
    assert not kernel.has_kernel(g)
    assert 0 < len(made) < source.MAX_SOURCE // 4 < 40 * n * n // 2


# 9. A user's warning filter never turns into a raw exception from inside the engine.

def test_under_w_error_the_engine_raises_only_its_own_errors():
    """`python -W error`: a fractional power of a negative base in the kernel (numpy's ComplexWarning once), and a
    tape whose merged constants overflow ("overflow in scalar multiply" once) give named errors or answers."""
    code = textwrap.dedent("""
        import numpy as np, hessian_lab as hl
        cases = [(lambda x: hl.tanh(hl.softplus(x[0] ** 0.25)), [-1.0]),
                 (lambda x: 1e-300 * hl.sin(hl.dot(np.array([1e200]), [1e200 * x[0]])), [1e-300]),
                 (lambda x: hl.log(hl.dot(np.array([1e-170]), [1e-170 * x[0]])) * x[1], [1e100, 2.0])]
        for f, x0 in cases:
            g = hl.trace(f, len(x0))
            for method in ["auto", "auto", "auto", *hl.HESSIAN_METHODS]:
                try:
                    g.hessian(x0, method=method)
                except hl.HessianLabError as error:
                    print("named:", type(error).__name__)
            for call in (g.gradient, g.value, g.sparse_hessian, lambda x: g.hvp(x, np.ones(len(x)))):
                try:
                    call(x0)
                except hl.HessianLabError as error:
                    print("named:", type(error).__name__)
        print("done")
    """)
    run = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.endswith("done\n"), run.stderr[-2000:]
    assert "named: DomainError" in run.stdout and "named: RangeError" in run.stdout


# 8. No path without a memory check.

def test_a_trace_whose_inputs_alone_would_not_fit_is_refused_before_building_them():
    """hl.trace(f, 3e7) and hl.gradient with 3e7 inputs: refused by name, with the size, before a node is built."""
    from test_hostile_review import run_capped
    code, out = run_capped("""
        for call in (lambda: hl.trace(lambda x: x[0], 30_000_000), lambda: hl.gradient(hl.sum, np.ones(30_000_000))):
            try:
                call()
            except hl.MemoryLimitError as error:
                print("refused:", error)
    """, cap_gib=2)
    assert code == 0 and out.count("refused: tracing f would need about 7.0 GiB for its n = 30000000 input") == 2, out


def test_a_hessian_vector_product_and_the_operators_products_are_checked(monkeypatch):
    """g.hvp on Rosenbrock at n = 30,000 (G about 150 MiB) with 60 MiB left: a MemoryLimitError naming the product,
    from g.hvp and from every product of the Hessian operator, before G is built."""
    from hessian_lab import families, memory
    n = 30_000
    g = hl.trace(families.rosenbrock(n), n)
    operator = g.hessian_operator(np.ones(n))
    monkeypatch.setattr(memory, "available_bytes", lambda: 60 * 2**20)
    with pytest.raises(hl.MemoryLimitError, match="a Hessian-vector product would need about .* GiB"):
        g.hvp(np.ones(n), np.ones(n))
    with pytest.raises(hl.MemoryLimitError, match="a Hessian-vector product"):
        operator.matvec(np.ones(n))
    with pytest.raises(hl.MemoryLimitError, match="a gradient would need"):
        g.gradient(np.ones(n))
    assert not g.has_cached("G")
