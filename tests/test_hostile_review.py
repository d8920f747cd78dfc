"""Robustness, round two (issue 12): each finding of the hostile review, as a test that failed before its fix.

Silent wrong answers (f's domain in every method, Taylor mode near zero, non-finite results), hangs and
memory (k! fills, working memory refused before it is spent), and clean errors (command line, plain Python
errors, misleading messages, the compiled tape's public checks).
"""

import math
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import hessian_lab as hl
from hessian_lab import cli

ROOT = Path(__file__).resolve().parent.parent
ALL_HESSIANS = ["auto", *hl.HESSIAN_METHODS]


# 1. Every method honours f's own domain.

@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("method", ["nested", "taylor"])
def test_every_tensor_method_checks_fs_own_domain(method, k):
    """log(x1) at x1 = -1 is outside f's domain even where no derivative graph reaches it."""
    with pytest.raises(hl.DomainError, match=r"log\(-1\)"):
        hl.derivative_tensor(lambda x: x[0] ** 2 + hl.log(x[1]), [1.0, -1.0], k, method=method)


@pytest.mark.parametrize("method", ["nested", "taylor"])
def test_an_overflowing_f_gives_no_tensor(method):
    """x0² at 1e308 overflows f itself: no finite third-derivative tensor comes back."""
    with pytest.raises(hl.DomainError, match="not a finite number"):
        hl.derivative_tensor(lambda x: x[0] ** 2, [1e308], 3, method=method)


# 2. Taylor mode stays exact near zero.

POWERS = [(p, k, a) for p in (2, 3, 4) for k in range(1, p + 1)
          for a in (1e-300, 5e-324, 1e-170, 1e-110, 1e-80, 0.5, 3.0, 1e50) if abs(a) ** p < 1e300]


@pytest.mark.parametrize("p, k, a", POWERS)
def test_taylor_mode_powers_match_sympy_from_1e_minus_300_to_1e300(p, k, a):
    """d^k/dx^k x^p at a, Taylor mode against sympy: x³ at 1e-110 has third derivative 6, not 0."""
    x = sp.Symbol("x")
    exact = float(sp.diff(x**p, x, k).subs(x, sp.Float(a, 30)))
    got = hl.derivative_tensor(lambda v: v[0] ** p, [a], k, method="taylor").reshape(-1)[0]
    assert got == pytest.approx(exact, rel=1e-13, abs=1e-320)


# 3. Non-finite results are a DomainError in every method.

@pytest.mark.parametrize("method", ALL_HESSIANS)
def test_an_overflowing_second_derivative_is_a_domain_error_in_every_method(method):
    """log(x) - log(x + 0) + x² at 1e-200: the second derivative of log overflows (-1e400), whatever the method."""
    with pytest.raises(hl.DomainError, match="finite"):
        hl.hessian(lambda x: hl.log(x[0]) - hl.log(x[0] + 0) + x[0] ** 2, [1e-200], method=method)


@pytest.mark.parametrize("method", ["nested", "taylor"])
def test_an_overflowing_derivative_is_a_domain_error_in_tensors(method):
    """The same overflow in third derivatives."""
    with pytest.raises(hl.DomainError, match="finite"):
        hl.derivative_tensor(lambda x: hl.log(x[0]) * 2 + x[0] ** 2, [1e-200], 3, method=method)


def test_an_overflowing_hvp_is_a_domain_error():
    """H v with v = [1e308, 1e308] overflows: a DomainError naming the node, not inf."""
    with pytest.raises(hl.DomainError, match=r"node #\d+"):
        hl.hvp(lambda x: x[0] * x[1] * 4, [1.0, 1.0], [1e308, 1e308])


def test_f_returning_nan_is_a_domain_error():
    """f returning float('nan') is no function to differentiate, not a zero Hessian."""
    with pytest.raises(hl.DomainError, match="nan"):
        hl.hessian(lambda x: float("nan"), [1.0])


# 4. No k! work.

def test_high_orders_fill_by_sorted_multi_index():
    """n = 1, k = 12 and n = 2, k = 20 finish at once (they took 45 s and forever) and match sympy exactly."""
    assert hl.derivative_tensor(lambda x: hl.exp(x[0]), [0.3], 12).reshape(-1) == pytest.approx([math.exp(0.3)])
    for method in ("nested", "taylor"):
        T = hl.derivative_tensor(lambda x: hl.exp(x[0]) * x[1] ** 2, [0.3, 0.7], 20, method=method)
        ones = np.indices(T.shape).sum(axis=0)  # how many of the 20 derivatives are along x1
        expected = np.select([ones == 0, ones == 1, ones == 2], [0.49, 1.4, 2.0], 0.0) * math.exp(0.3)
        np.testing.assert_allclose(T, expected, rtol=1e-10, atol=1e-10)  # 20 nested orders of round-off


def test_a_filled_tensor_is_symmetric_and_equals_the_unsymmetric_construction():
    """The sorted-index fill gives the same tensor as computing every multi-index."""
    f = lambda x: hl.sin(x[0] * x[1]) * hl.exp(x[2]) + x[0] ** 3 * x[2]  # noqa: E731
    full = hl.derivative_tensor(f, [0.3, -0.4, 0.8], 4, symmetric=False)
    np.testing.assert_allclose(hl.derivative_tensor(f, [0.3, -0.4, 0.8], 4), full, rtol=1e-12, atol=1e-12)


# 5. Memory is refused before it is spent (in a subprocess, under an address-space cap).

def run_capped(code, cap_gib=3):
    """Run code in a fresh Python whose address space is capped: (exit code, stdout + stderr)."""
    script = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({cap_gib} * 2**30, {cap_gib} * 2**30))
        import numpy as np
        import hessian_lab as hl
        def dense(x):
            return hl.log(hl.sum([hl.exp(v) for v in x]))
    """) + textwrap.dedent(code)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                           cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return child.returncode, child.stdout + child.stderr


@pytest.mark.parametrize("method", ["auto", "edge_pushing"])
def test_a_dense_hessian_too_big_for_the_cap_is_refused_by_name(method):
    """n = 14,000 under a 3 GiB cap (the tape's blocked sweep holds 2 H = 3.1 GB): a MemoryLimitError naming the
    method and a cheaper one, not a raw MemoryError."""
    code, out = run_capped(f"""
        try:
            hl.hessian(dense, np.full(14000, 0.1), method={method!r})
        except hl.MemoryLimitError as error:
            print("refused:", error)
    """)
    assert code == 0 and "refused: method" in out and "use " in out and "MemoryError" not in out.replace(
        "MemoryLimitError", ""), out


def test_taylor_mode_is_sized_by_its_directions_before_it_runs():
    """Taylor at n = 200, k = 3 has C(202, 3) = 1,353,400 directions: refused under a 3 GiB cap at once."""
    code, out = run_capped("""
        try:
            hl.derivative_tensor(lambda x: hl.sum([v * v for v in x]), np.ones(200), 3, method="taylor")
        except hl.MemoryLimitError as error:
            print("refused:", error)
    """)
    assert code == 0 and "refused: method 'taylor'" in out and "nested" in out, out


def test_what_fits_still_runs_under_the_cap():
    """The same cap leaves ordinary work alone: a sparse n = 2000 Hessian and a small dense one are computed."""
    code, out = run_capped("""
        f = lambda x: sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))
        print(hl.sparse_hessian(f, np.ones(2000)).nnz, hl.hessian(dense, np.full(50, 0.1)).shape)
    """)
    assert code == 0 and out.split() == ["5998", "(50,", "50)"], out


def test_pattern_detection_gives_up_at_once_on_a_dense_hessian():
    """One node coupling all 12,000 inputs is recognised as dense without building n² row sets."""
    code, out = run_capped("""
        g = hl.trace(dense, 12000)
        print(g.sparse_plan())
    """, cap_gib=2)
    assert code == 0 and out.strip() == "None", out


# 6 and 7. The command line.

def run_cli(capsys, *argv):
    """cli.main(argv) in this process: (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_tensor_too_big_for_its_variables_is_refused_before_it_starts(capsys):
    """--order 8 with 10 variables ran 3 min 40 s, then crashed: now one sentence and exit code 2 at once."""
    expression = " + ".join(f"sin(x{k} * x{(k + 1) % 10})" for k in range(10))
    point = ",".join(f"x{k}=0.5" for k in range(10))
    code, out, err = run_cli(capsys, "tensor", expression, "--order", "8", "--at", point)
    assert (code, out) == (2, "") and "--order 8 with 10 variables" in err and "Traceback" not in err


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_an_infinite_hessian_entry_is_an_error_not_minus_inf(capsys, json_flag):
    """log(x) at 1e-200 by rows: exit code 2 and a DomainError, never -inf with exit code 0 (or a raw ValueError)."""
    code, out, err = run_cli(capsys, "hessian", "log(x)", "--at", "x=1e-200", "--method", "rows", *json_flag)
    assert (code, out) == (2, "") and "not a finite number" in err and "Traceback" not in err


def test_draw_names_the_file_it_writes(capsys, tmp_path):
    """draw -o graph writes graph.png, and says so."""
    code, out, err = run_cli(capsys, "draw", "x^2*y", "-o", str(tmp_path / "graph"))
    assert code == 0 and (tmp_path / "graph.png").exists() and out.strip().endswith("graph.png")


def test_an_error_inside_an_at_value_names_the_option(capsys):
    """x=1/0 is a mistake in --at, and the message says so."""
    code, out, err = run_cli(capsys, "grad", "x^2", "--at", "x=1/0")
    assert code == 2 and "--at x=1/0" in err and "div" in err


# 8. Plain Python errors become HessianLabErrors.

F2 = lambda x: x[0] ** 2 * x[1]  # noqa: E731


@pytest.mark.parametrize("x0", [[10**400, 1], ["1", "2"], [1 + 2j, 1], [True, False]],
                         ids=["huge-int", "strings", "complex", "booleans"])
def test_a_bad_point_is_a_named_error(x0):
    """x0 of huge ints, text, complex numbers or booleans: refused by name, never converted or overflowing."""
    with pytest.raises(hl.HessianLabError, match="x0"):
        hl.hessian(F2, x0)


def test_fractions_work_and_huge_constants_are_named():
    """Fraction(1, 2) in f is a number like any other; + 10**400 is a DomainError, not a TypeError."""
    assert hl.gradient(lambda x: Fraction(1, 2) * x[0] ** 2, [3.0]) == pytest.approx([3.0])
    with pytest.raises(hl.DomainError, match="too large"):
        hl.gradient(lambda x: x[0] + 10**400, [3.0])


@pytest.mark.parametrize("v", ["ab", [1j, 1], (t for t in (1.0, 2.0)), [10**400, 1]],
                         ids=["text", "complex", "generator", "huge-int"])
def test_a_bad_direction_is_a_named_error(v):
    """hvp's v: text, complex values, a generator or a huge int are refused by name."""
    with pytest.raises(hl.HessianLabError, match="v"):
        hl.hvp(F2, [1.0, 2.0], v)


def test_options_and_methods_are_checked_by_name_everywhere():
    """An option a tensor method does not take, an unknown one, and an unhashable method name: HessianLabErrors."""
    with pytest.raises(hl.HessianLabError, match="'taylor' does not take 'symmetric'"):
        hl.derivative_tensor(F2, [1.0, 2.0], 3, method="taylor", symmetric=False)
    with pytest.raises(hl.HessianLabError, match="does not take 'bogus'"):
        hl.derivative_tensor(F2, [1.0, 2.0], 3, bogus=1)
    with pytest.raises(hl.HessianLabError, match="unknown Hessian method"):
        hl.hessian(F2, [1.0, 2.0], method=["rows"])


# 9. Misleading messages.

def test_numpy_scalars_compare_with_nodes_like_python_numbers():
    """np.float64(0.5) < x[0] records a branch, as 0.5 < x[0] does; np.int64 orders are accepted."""
    f = lambda x: x[0] ** 3 if np.float64(0.5) < x[0] else -x[0] ** 2  # noqa: E731
    assert hl.hessian(f, [1.0])[0, 0] == 6.0 and hl.hessian(f, [0.1])[0, 0] == -2.0
    assert hl.derivative_tensor(F2, [1.0, 2.0], np.int64(2)).shape == (2, 2)


def test_a_number_too_small_for_a_float_is_a_parse_error():
    """1e-400 would silently become 0."""
    with pytest.raises(hl.ParseError, match="too small"):
        hl.parse("x + 1e-400")
    assert hl.parse("x * 1e-300")[0]([2.0]) == 2e-300


# 10. The compiled tape checks its point like every public entry point.

def test_the_tape_checks_length_and_branches():
    """g.tape().hessian(x): a point of the wrong length is a ShapeError; a flipped branch is a BranchError."""
    g = hl.trace(lambda x: (x[0] * x[1]) ** 2 if x[0] > 0 else x[1] ** 3, 2, at=[1.0, 1.0])
    with pytest.raises(hl.ShapeError):
        g.tape().hessian([2.0])
    with pytest.raises(hl.BranchError):
        g.tape().hessian([-1.0, 1.0])
    with pytest.raises(hl.BranchError):
        g.tape().gradient([-1.0, 1.0])


# The second review, after the reshape: what it found, each as a test.

def test_a_redefined_row_gets_fresh_rules_in_every_fast_path(monkeypatch):
    """A row redefined under the same name (a notebook cell run again) is never answered by the old row's cached rules."""
    from hessian_lab.ops import PRIMITIVES, Primitive, apply

    name = "cube_redefined_test"
    f = lambda x: apply(name, x[0]) * x[1]  # noqa: E731
    monkeypatch.setitem(PRIMITIVES, name, Primitive(lambda a: a**3, lambda a, y: (3 * a,)))  # a wrong partial
    for method in ("tape", "edge_pushing"):
        hl.hessian(f, [1.0, 2.0], method=method)
    monkeypatch.setitem(PRIMITIVES, name, Primitive(lambda a: a**3, lambda a, y: (3 * a * a,)))
    expected = hl.hessian(f, [1.0, 2.0], method="rows")
    assert np.array_equal(expected, [[12.0, 3.0], [3.0, 0.0]])
    for method in ("tape", "edge_pushing", "colouring"):
        np.testing.assert_allclose(hl.hessian(f, [1.0, 2.0], method=method), expected, rtol=1e-14)
    np.testing.assert_allclose(hl.derivative_tensor(f, [1.0, 2.0], 2, method="taylor"), expected, rtol=1e-14)


@pytest.mark.parametrize("k", [10**5, 10**20, 33])
def test_an_impossible_order_is_refused_at_once_by_name(k):
    """Orders whose result could never exist are refused from logarithms, never by computing n**k."""
    with pytest.raises(hl.HessianLabError, match="GiB|axes"):
        hl.derivative_tensor(F2, [1.0, 2.0], k)
    with pytest.raises(hl.HessianLabError, match="axes"):
        hl.derivative_tensor(lambda x: x[0] ** 2, [1.0], 65)


def test_the_hessian_operator_checks_its_vectors_like_hvp():
    """matvec with huge ints or text is a named error, as hl.hvp's v is."""
    op = hl.hessian_operator(F2, [1.0, 2.0])
    for v in ([10**400, 0], ["1", "0"]):
        with pytest.raises(hl.HessianLabError, match="v"):
            op.matvec(v)
    np.testing.assert_allclose(op.matvec([1.0, 0.0]), [4.0, 2.0])


def test_the_low_level_sweeps_name_their_mistakes():
    """hl.evaluate checks its point; hl.backprop names a missing value and a list passed as its output."""
    g = hl.trace(F2, 2)
    with pytest.raises(hl.ShapeError, match="x\\[1\\]"):
        hl.evaluate(g.nodes, [1.0])
    with pytest.raises(hl.HessianLabError, match="real numbers"):
        hl.evaluate(g.nodes, ["1", "2"])
    with pytest.raises(hl.HessianLabError, match="`at` has no value"):
        hl.backprop(g.output, g.inputs, at={})
    G = g.gradient_graph()
    with pytest.raises(hl.HessianLabError, match="G.output\\(i\\)"):
        hl.backprop(G.outputs, g.inputs, at=G.evaluate([1.0, 2.0]))


@pytest.mark.parametrize("f", [lambda x: x[0] // x[1], lambda x: x[0] % 2, lambda x: math.trunc(x[0])],
                         ids=["floordiv", "mod", "trunc"])
def test_steps_on_nodes_are_a_named_conversion_error(f):
    """//, % and math.trunc on nodes (no row; round() and math.floor have one) say why, instead of a raw TypeError."""
    with pytest.raises(hl.NodeConversionError, match="graph node"):
        hl.gradient(f, [1.0, 2.0])


@pytest.mark.parametrize("method", ["auto", "tape", "colouring", "edge_pushing"])
def test_the_fast_paths_name_the_node_whose_derivative_overflows(method):
    """log(x0) x1 at 1e-200: the fast paths say which node of f it was, not only the template's div."""
    with pytest.raises(hl.DomainError, match=r"node #\d+: log\(x\[0\]\)"):
        hl.hessian(lambda x: hl.log(x[0]) * x[1], [1e-200, 1.0], method=method)


def test_booleans_in_a_list_are_refused():
    """[True, 2.0] would become [1.0, 2.0] silently."""
    with pytest.raises(hl.HessianLabError, match="booleans"):
        hl.hessian(F2, [True, 2.0])


def test_tracing_out_of_memory_is_a_memory_limit_error():
    """A trace too big for the address space stops with a MemoryLimitError, not a raw MemoryError."""
    code, out = run_capped("""
        try:
            hl.gradient(lambda x: sum(100 * (x[i + 1] - x[i] ** 2) ** 2 for i in range(len(x) - 1)), np.ones(3_000_000))
        except hl.MemoryLimitError as error:
            print("refused:", error)
    """, cap_gib=1)
    assert code == 0 and "refused: tracing f" in out, out
