"""The table of methods is the one place a method is described, and the public layer checks a point once per call.

Adding a method is adding a row: a toy method added in a fixture is callable, listed, checked for options,
sized for memory and named in refusals, with no other change. A point goes through the one check
(hessian_lab.tracing.as_point) exactly once per public call, and the sweeps below trust it.
"""

from pathlib import Path

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import methods, tracing
from hessian_lab.hessian import hessian_rows

F = lambda x: hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1]  # noqa: E731
X0 = np.array([1.0, 2.0])


@pytest.fixture
def toy(monkeypatch):
    """One more row: `scale` times the rows method's Hessian, with a memory estimate the test can set."""
    needed = {"bytes": 0}

    def hessian_toy(graph, point, scale=1.0):
        return scale * hessian_rows(graph, point)

    row = methods.Method(hessian_toy, methods.HESSIAN, "a toy: scale times the rows method",
                         lambda graph, k, nnz: needed["bytes"], "method='rows', the toy's honest twin")
    monkeypatch.setitem(methods.METHODS, "toy", row)
    return needed


def test_a_row_added_is_a_method_everywhere(toy):
    H = hl.hessian(F, X0, method="rows")
    assert "toy" in hl.HESSIAN_METHODS and hl.HESSIAN_METHODS["toy"] is methods.METHODS["toy"].function
    assert np.array_equal(hl.hessian(F, X0, method="toy", scale=2.0), 2 * H)
    g = hl.trace(F, 2)
    H2, stats = g.hessian(X0, method="toy", return_stats=True)
    assert np.array_equal(H2, H) and stats["method"] == "toy" and stats["passes"] == 2
    assert "G_nodes" not in stats  # the row does not say it sweeps G
    with pytest.raises(hl.HessianLabError, match="'toy' does not take 'prune'; its options are: scale"):
        hl.hessian(F, X0, method="toy", prune=False)


def test_a_row_added_is_sized_and_refused_by_its_own_estimate(toy):
    toy["bytes"] = 10**18
    with pytest.raises(hl.MemoryLimitError, match="method 'toy' would need .* use method='rows', the toy's honest twin"):
        hl.hessian(F, X0, method="toy")


def test_without_the_row_the_method_is_unknown_and_listed_nowhere():
    assert "toy" not in hl.HESSIAN_METHODS
    with pytest.raises(hl.HessianLabError, match="unknown Hessian method 'toy'; choose one of: auto, rows, naive"):
        hl.hessian(F, X0, method="toy")


def test_the_docstrings_list_every_method_of_the_table():
    for name, row in methods.METHODS.items():
        listed = {methods.HESSIAN: hl.hessian.__doc__, methods.TENSOR: hl.derivative_tensor.__doc__}.get(row.kind)
        if listed is not None:
            assert f"{name!r}: {row.summary}" in listed
    assert "'auto':" in hl.hessian.__doc__ and "'kernel':" in hl.hessian.__doc__


def test_each_row_names_options_its_function_takes():
    assert methods.METHODS["rows"].options == ("prune",)
    assert methods.METHODS["nested"].options == ("symmetric",)
    assert methods.METHODS["tape"].options == ()


@pytest.fixture
def checks(monkeypatch):
    """Count the calls of the one point check, by the name of what it checks."""
    seen = []
    real = tracing.as_point

    def counted(x0, n=None, name="x0"):
        seen.append(name)
        return real(x0, n, name)

    monkeypatch.setattr(tracing, "as_point", counted)
    return seen


CALLS = {
    "gradient": lambda: hl.gradient(F, X0),
    **{f"hessian {m}": (lambda m=m: hl.hessian(F, X0, method=m)) for m in ["auto", *methods.HESSIAN_METHODS]},
    "hvp": lambda: hl.hvp(F, X0, [1.0, 0.0]),
    "derivative_tensor": lambda: hl.derivative_tensor(F, X0, 3),
    "taylor": lambda: hl.derivative_tensor(F, X0, 3, method="taylor"),
    "sparse_hessian": lambda: hl.sparse_hessian(F, X0),
    "hessian_operator": lambda: hl.hessian_operator(F, X0) @ np.ones(2),
}


@pytest.mark.parametrize("call", CALLS)
def test_a_public_call_checks_its_point_once(checks, call):
    CALLS[call]()
    assert checks.count("x0") == 1 and "at" not in checks and "the point" not in checks


def test_a_reused_trace_checks_each_new_point_once(checks):
    g = hl.trace(F, 2)
    for method in ["auto", "auto", "rows", "tape"]:
        g.hessian([0.5, 3.0], method=method)
    g.gradient([0.5, 3.0])
    g.hvp([0.5, 3.0], [1.0, 0.0])
    assert checks.count("x0") == 6


def test_products_of_the_hessian_operator_check_v_once_and_never_the_point_again(checks):
    op = hl.hessian_operator(F, X0)
    for v in np.eye(2):
        op @ v
    assert checks.count("x0") == 1 and checks.count("v") == 2


def test_the_operator_never_changes_the_callers_array():
    x0 = np.array([1.0, 2.0])
    hl.hessian_operator(F, x0)
    x0[0] = 3.0  # still writable
    assert x0[0] == 3.0


def test_the_readme_table_of_methods_lists_every_hessian_method():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [name for name in ["auto", *methods.HESSIAN_METHODS] if f"| `{name}` " not in readme]
    assert not missing, f"README's table of Hessian methods misses {missing}"
