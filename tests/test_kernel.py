"""The compiled Hessian kernel (hessian_lab.fast.kernel): exact against rows, safe source, named errors, and auto's tiering."""

import ast
import re
import warnings

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab.families import banded_chain, benchmark_point, logsumexp_quad, rosenbrock
from hessian_lab.fast import kernel
from hessian_lab.fast import source
from hessian_lab.fast.kernel import kernel_of
from hessian_lab.fast.source import MAX_SOURCE, TooLarge


@pytest.mark.parametrize("family", [rosenbrock, banded_chain, logsumexp_quad])
@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_kernel_equals_rows_on_the_families(family, n):
    """Every family at several n: the kernel's Hessian is the rows method's to 1e-12 (relative to its largest entry)."""
    x0 = benchmark_point(n)
    g = hl.trace(family(n), n)
    K, R = g.hessian(x0, method="kernel"), g.hessian(x0, method="rows")
    assert np.abs(K - R).max() <= 1e-12 * max(1.0, np.abs(R).max())
    assert np.array_equal(K, K.T)


def test_auto_compiles_a_kernel_on_a_traces_second_call():
    """A trace used once never compiles; from its second Hessian on, auto runs the kernel and says so in its stats."""
    n = 16
    g = hl.trace(rosenbrock(n), n)
    x0 = benchmark_point(n)
    first, stats = g.hessian(x0, return_stats=True)
    assert stats["method"] == "colouring" and stats["chosen_by"] == "auto"
    second, stats = g.hessian(x0 + 0.5, return_stats=True)
    assert stats["method"] == "kernel" and stats["chosen_by"] == "auto"
    assert stats["passes"] == 1 and stats["visits"] == kernel_of(g).statements
    assert np.allclose(second, hl.hessian(rosenbrock(n), x0 + 0.5, method="rows"), rtol=1e-12, atol=0)
    third, again = g.hessian(x0 + 0.5, return_stats=True)
    assert again == stats and np.array_equal(third, second)  # deterministic work, the same bits


def test_a_dense_many_term_hessian_is_refused_and_auto_keeps_the_tape():
    """logsumexp+quad at n = 64 would need n³/2 terms: method='kernel' names the limit; auto stays on the tape."""
    n = 64
    g = hl.trace(logsumexp_quad(n), n)
    x0 = benchmark_point(n)
    with pytest.raises(TooLarge, match=f"{MAX_SOURCE:,} characters.*method='tape'"):
        g.hessian(x0, method="kernel")
    for _ in range(2):
        _, stats = g.hessian(x0, return_stats=True)
        assert stats["method"] == "tape"


@pytest.mark.parametrize("f, good, bad, message", [
    (lambda x: hl.log(x[0]) * x[1], [1.0, 2.0], [-1.0, 2.0], "log"),
    (lambda x: hl.sqrt(x[0]) + x[1] ** 2, [1.0, 2.0], [0.0, 2.0], "sqrt"),
    (lambda x: 1 / (x[0] * x[0]) + x[1], [1.0, 2.0], [1e200, 2.0], "finite"),
    (lambda x: hl.exp(x[0]) * x[1], [1.0, 2.0], [800.0, 2.0], "finite"),
    (lambda x: x[0] ** 0.5 * x[1], [1.0, 2.0], [-4.0, 2.0], "powc"),
    (lambda x: x[0] ** 2.5 * x[1], [1.0, 2.0], [0.0, 2.0], "powc"),  # finite at 0, but outside powc's domain
    (lambda x: hl.relu(x[0] ** 2.5) + x[1], [1.0, 2.0], [-1.0, 2.0], "powc"),  # a complex power that relu would hide
    (lambda x: hl.sigmoid(x[0] ** 1.5) * x[1], [1.0, 2.0], [-1.0, 2.0], "powc"),
])
def test_a_failing_value_is_the_tapes_named_error_with_no_warning(f, good, bad, message):
    """The kernel, compiled at a good point, meets a bad one: the same named DomainError as the tape, and no RuntimeWarning."""
    g = hl.trace(f, 2)
    g.hessian(good, method="kernel")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(hl.DomainError, match=message):
            g.hessian(bad, method="kernel")
        with pytest.raises(hl.DomainError, match=message):
            g.hessian(bad, method="tape")


def test_extreme_but_finite_points_match_rows():
    """1e-300 and 1e150: where rows gives a finite Hessian, the kernel gives the same numbers."""
    f = lambda x: x[0] * x[0] * x[1] + hl.sin(x[1]) * x[0]  # noqa: E731
    g = hl.trace(f, 2)
    for x0 in ([1e-300, 1e-300], [1e150, 1e-150], [-3e100, 2.0]):
        assert np.allclose(g.hessian(x0, method="kernel"), g.hessian(x0, method="rows"), rtol=1e-12, atol=0)


def test_generated_source_holds_only_the_engines_names_and_numbers():
    """Text a user typed never reaches the source: parsed functions compile to our locals, floats and the table's functions."""
    f, names = hl.parse("sin(x1) * exp(x2) + log(x1 + 3) / sqrt(x2 ^ 2 + 1) + tanh(relu(x1)) + abs(x2)")
    g = hl.trace(f, len(names))
    text = kernel_of(g).source
    tree = ast.parse(text)
    allowed_calls = {r"row_\d+", "abs", "min"}  # the table's functions; abs and min measure the smallest weight
    for node in ast.walk(tree):
        assert isinstance(node, (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.Return, ast.Tuple,
                                 ast.List, ast.Name, ast.Load, ast.Store, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call,
                                 ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.BoolOp, ast.IfExp,
                                 ast.And, ast.Or)), ast.dump(node)
        if isinstance(node, ast.Name):
            assert re.fullmatch(r"([xvtajwh]\d+(_\d+)*|probe)(_s\d+_\d+)?|" + "|".join(allowed_calls), node.id), node.id
        if isinstance(node, ast.Constant):
            assert type(node.value) is float


def test_long_sums_are_split_into_partial_sums_each_assigned_once(monkeypatch):
    """A sum of 5,000 terms nests two levels of partial sums; every local is assigned once, and the value is exact."""
    monkeypatch.setattr(source, "MAX_SOURCE", 10**6)  # a long kernel on purpose: the chunking is what is tested
    n = 5000
    g = hl.trace(lambda x: hl.sin(x[0]) * hl.sum(list(x)), n)
    x0 = np.linspace(-1, 1, n)
    text = kernel_of(g).source
    assigned = re.findall(r"^    (\w+) =", text, flags=re.M)
    assert len(assigned) == len(set(assigned)) and any("_s1_" in name for name in assigned)
    assert np.allclose(g.hessian(x0, method="kernel"), g.hessian(x0, method="tape"), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", [
    lambda x: (x[0] * 1e200) * (x[0] * 1e200) + x[1],  # a constant factor of H is 1e400
    lambda x: hl.sum([x[0] * x[1], 1e308, 1e308]),  # a constant sum overflows
    lambda x: hl.dot([1e308, 1e308], [x[0] * x[0], x[1]]) + hl.sin(x[1]),
])
@pytest.mark.parametrize("method", ["kernel", "tape", "colouring", "rows"])
def test_constants_that_overflow_are_a_domain_error_in_every_method(f, method):
    """A number fixed by f's constants that overflows: a named DomainError (never a NameError, never a number)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(hl.DomainError, match="finite"):
            hl.hessian(f, [1.0, 2.0], method=method)


def test_a_node_of_another_trace_never_reaches_the_source():
    """An input node that is not the trace's own (its parameter is text here) is refused, and nothing of it is run."""
    stranger = hl.Node("input", (), "0 if print('INJECTED') is None else 0")
    g = hl.trace(lambda x: x[0] * x[0] + stranger * 2.0, 1)
    with pytest.raises(hl.HessianLabError, match="another trace"):
        g.hessian([1.0], method="kernel")


def test_a_kernel_too_long_is_refused_while_it_is_written(monkeypatch):
    """sin(Σx) at n = 2000 has n²/2 Hessian terms: the kernel stops at MAX_SOURCE, after a small share of them."""
    n = 2000
    made = []
    original = source.Writer.term
    monkeypatch.setattr(source.Writer, "term", lambda self, product: made.append(1) or original(self, product))
    g = hl.trace(lambda x: hl.sin(hl.sum(list(x))), n)
    with pytest.raises(TooLarge):
        g.hessian(np.linspace(-1, 1, n), method="kernel")
    assert 0 < len(made) < MAX_SOURCE // 4 < n * n // 2
    _, stats = g.hessian(np.zeros(n), return_stats=True)
    assert stats["method"] != "kernel"


@pytest.mark.parametrize("method", ["auto", *hl.HESSIAN_METHODS])
def test_division_by_a_constant_zero_is_the_domain_error_of_div(method):
    """x / 0.0 stays a division (it is not affine with weight 1/0), so every method names div's domain."""
    with pytest.raises(hl.DomainError, match="nonzero divisor"):
        hl.hessian(lambda x: x[0] / 0.0 + x[1] ** 2, [1.0, 2.0], method=method)


@pytest.mark.parametrize("f, n", [
    (lambda x: (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2, 2),  # constant H: no weight is computed
    (lambda x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2, 2),  # one weight
    (lambda x: hl.sum([hl.tanh(x[i] * x[(i + 1) % 5]) + hl.sin(x[i]) for i in range(5)]), 5),
    (lambda x: hl.log(hl.exp(x[0]) + hl.exp(2 * x[1]) + hl.exp(x[2] - x[0])) + x[0] ** 0.5, 3),
])
def test_the_kernel_answers_ordinary_points_itself_without_the_tape(f, n):
    """At ordinary points the kernel's own call answers (no fallback to the tape), from auto's second call on."""
    g = hl.trace(f, n)
    x0 = np.linspace(0.3, 0.9, n)
    g.hessian(x0)
    H, stats = g.hessian(x0, return_stats=True)
    assert stats["method"] == "kernel" and "fallback" not in stats
    assert np.allclose(H, g.hessian(x0, method="rows"), rtol=1e-12, atol=1e-12)
