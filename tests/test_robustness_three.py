"""Robustness, round three (issue 19): each finding of the third hostile review, as a test that failed before its fix.

Silent wrong answers (folded constants, a row's own function in compiled kernels, Taylor mode's promise), false
refusals, hangs, a memory model within 2x of the truth, and no raw error or warning from inside the engine.
"""

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import ops
from hessian_lab.ops import PRIMITIVES, Primitive

ALL_HESSIANS = ["auto", *hl.HESSIAN_METHODS]


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
