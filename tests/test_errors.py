"""Every deliberate error: the right named class, derived from HessianLabError, with a message that names the problem."""

import math

import numpy as np
import pytest

import hessian_lab as hl


def square(x):
    """x[0]² + x[0] x[1]: a plain f for the input checks."""
    return x[0] ** 2 + x[0] * x[1]


def test_every_error_is_a_value_error_under_one_base():
    """HessianLabError is a ValueError, and each named error derives from it; NodeConversionError is also a TypeError."""
    assert issubclass(hl.HessianLabError, ValueError)
    for error in (hl.ShapeError, hl.DomainError, hl.TraceError, hl.BranchError, hl.NodeConversionError):
        assert issubclass(error, hl.HessianLabError)
    assert issubclass(hl.BranchError, hl.TraceError)
    assert issubclass(hl.NodeConversionError, TypeError)


def test_two_dimensional_x0_is_a_shape_error():
    """x0 must be 1-D: a 2-D array is refused, and the message shows its shape."""
    with pytest.raises(hl.ShapeError, match=r"1-D.*\(1, 2\)"):
        hl.hessian(square, [[1.0, 2.0]])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_x0_is_refused(bad):
    """x0 with nan or inf is refused up front, naming the entry, never a silent NaN Hessian."""
    with pytest.raises(hl.HessianLabError, match=r"x0\[1\] = (nan|inf) is not a finite number"):
        hl.gradient(square, [1.0, bad])


def test_x0_shorter_than_f_needs():
    """f reads x[5] with n = 3: a ShapeError naming the index and n, not a bare IndexError."""
    with pytest.raises(hl.ShapeError, match=r"x\[5\].*n = 3") as caught:
        hl.hessian(lambda x: x[0] * x[5], [1.0, 2.0, 3.0])
    assert not isinstance(caught.value, IndexError)


@pytest.mark.parametrize(
    "result, kind",
    [(lambda x: [x[0], x[1]], "list"), (lambda x: "x0 + x1", "str"), (lambda x: True, "bool")],
    ids=["list", "string", "bool"],
)
def test_f_must_return_one_scalar(result, kind):
    """f returning a list, a string or a bool is a TraceError that says what it returned."""
    with pytest.raises(hl.TraceError, match=f"scalar.*{kind}"):
        hl.hessian(result, [1.0, 2.0])


@pytest.mark.parametrize(
    "f, x0, message",
    [
        (lambda x: hl.log(x[0] - 2), [1.0], r"log\(-1\)"),
        (lambda x: hl.sqrt(x[0] * -4), [1.0], r"sqrt\(-4\)"),
        (lambda x: 1 / (x[0] - 1), [1.0], r"div\(1, 0\)"),
    ],
    ids=["log", "sqrt", "division"],
)
def test_domain_errors_at_evaluation_name_the_op_and_the_value(f, x0, message):
    """A trace made without a point fails when evaluated outside the domain, naming the op and its argument."""
    g = hl.trace(f, 1)
    for compute in (g.value, g.gradient, g.hessian):
        with pytest.raises(hl.DomainError, match=message):
            compute(x0)


def test_exp_overflow_is_a_domain_error():
    """exp(1000) overflows to inf: a DomainError naming exp, never an inf in the Hessian."""
    with pytest.raises(hl.DomainError, match=r"exp\(1000\).*not a finite number"):
        hl.hessian(lambda x: hl.exp(x[0] * 1000), [1.0])


@pytest.mark.parametrize(
    "convert, says",
    [(lambda node: math.sin(node), r"hl\.sin"), (lambda node: float(node), r"hl\.sin"),
     (lambda node: np.arcsin(node), r"numpy's arcsin .* no row")],
    ids=["math.sin", "float", "np.arcsin"],
)
def test_turning_a_node_into_a_number_is_refused(convert, says):
    """math.sin(node), float(node) and np.arcsin(node) (numpy's, with no row) raise NodeConversionError, a TypeError
    that says what to use instead."""
    with pytest.raises(hl.NodeConversionError, match=says) as caught:
        hl.gradient(lambda x: convert(x[0]) * x[1], [0.5, 2.0])
    assert isinstance(caught.value, TypeError)


def test_numpy_scalars_and_arrays_multiply_nodes():
    """np.float64(2.0) * node is a node, and np.array([1., 2.]) * node an array of nodes: derivatives flow through."""

    def f(x):
        """Numpy numbers on the left of nodes."""
        scaled = np.array([1.0, 2.0]) * x[1]
        assert all(isinstance(node, hl.Node) for node in scaled)
        return np.float64(2.0) * x[0] ** 2 + scaled[0] * scaled[1]

    np.testing.assert_array_equal(hl.gradient(f, [3.0, 5.0]), [12.0, 20.0])
    np.testing.assert_array_equal(hl.hessian(f, [3.0, 5.0], method="rows"), [[4.0, 0.0], [0.0, 4.0]])


def test_unknown_method_names_the_method_and_the_choices():
    """An unknown Hessian method is refused, naming it and listing the real ones."""
    with pytest.raises(hl.HessianLabError, match=r"'newton'.*rows"):
        hl.hessian(square, [1.0, 2.0], method="newton")


def relu_by_branch(x):
    """x[0]² where x[0] > 0, else -x[0]: a Python branch on a node's value."""
    return x[0] ** 2 * x[1] if x[0] > 0 else -x[0] * x[1]


def test_reusing_a_trace_across_a_branch_raises():
    """A trace made where x[0] > 0 works on that side, and raises a BranchError naming the comparison on the other."""
    g = hl.trace(relu_by_branch, 2, at=[1.0, 3.0])
    np.testing.assert_array_equal(g.hessian([2.0, 3.0], method="rows"), [[6.0, 4.0], [4.0, 0.0]])
    for compute in (g.value, g.gradient, g.hessian):
        with pytest.raises(hl.BranchError, match=r"x\[0\] > 0"):
            compute([-1.0, 3.0])


def test_branching_without_a_point_is_a_trace_error():
    """A branch cannot be decided without a point: tracing it with no `at` is a TraceError that says to pass one."""
    with pytest.raises(hl.TraceError, match="at=") as caught:
        hl.trace(relu_by_branch, 2)
    assert not isinstance(caught.value, hl.BranchError)


def test_dot_with_mismatched_lengths():
    """hl.dot with 3 coefficients for 2 terms is a ShapeError that gives both lengths."""
    with pytest.raises(hl.ShapeError, match=r"\(3,\) coefficients for 2 terms"):
        hl.gradient(lambda x: hl.dot([1.0, 2.0, 3.0], [x[0], x[1]]), [1.0, 2.0])


@pytest.mark.parametrize("v", [[1.0], [1.0, 2.0, 3.0]], ids=["short", "long"])
def test_hvp_with_wrong_length_v(v):
    """v must have n entries: a ShapeError naming the expected shape."""
    with pytest.raises(hl.ShapeError, match=r"v must have shape \(2,\)"):
        hl.hvp(square, [1.0, 2.0], v)
