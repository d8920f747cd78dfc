"""Exercise mode: the self-check accepts the reference solutions, rejects planted mistakes with the right
message, and the exercise notebooks are generated in sync with the solution notebooks."""

import ast
import importlib.util
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab.exercises.result import describe_growth
from hessian_lab.scaling import fit_slope

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
make_exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_exercises)


def notebook_functions(folder):
    """The functions that the notebooks in `folder` define in cells holding nothing but function definitions."""
    namespace = {"np": np, "hl": hl}
    for path in sorted((ROOT / "notebooks" / folder).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.source.startswith("def ") and all(isinstance(s, ast.FunctionDef) for s in ast.parse(cell.source).body):
                exec(cell.source, namespace)
    return namespace


SOLUTIONS = notebook_functions("solutions")
STUBS = notebook_functions("exercises")


def check(name, fn):
    """The self-check, quietly."""
    return hl.exercises.check(name, fn, verbose=False)


def failed_with(result, kind, *phrases):
    """True if `kind` failed and one failure message holds every phrase."""
    return kind in result.failures and any(all(p in m for p in phrases) for m in result.messages if m.startswith("✗"))


@pytest.mark.parametrize("name", list(hl.exercises.EXERCISES))
def test_reference_solution_passes(name):
    result = check(name, SOLUTIONS[name])
    assert result.ok, result.report()
    assert result.messages and all(m.startswith("✓") for m in result.messages)


@pytest.mark.parametrize("name, passes, slope", [("hessian_naive", lambda n: n**2, 2.0),
                                                 ("hessian_rows", lambda n: n, 1.0),
                                                 ("third_derivatives", lambda n: n**2, 2.0)])
def test_reference_counts_and_slopes_are_exact(name, passes, slope):
    result = check(name, SOLUTIONS[name])
    assert all(result.counts[n]["passes"] == passes(n) for n in result.counts)
    assert result.slopes["passes"] == pytest.approx(slope, abs=1e-9)


def test_naive_visits_are_n_times_the_rows_visits():
    naive, rows = check("hessian_naive", SOLUTIONS["hessian_naive"]), check("hessian_rows", SOLUTIONS["hessian_rows"])
    assert all(naive.counts[n]["visits"] == n * rows.counts[n]["visits"] for n in rows.counts)


def test_transposed_hessian_is_caught_by_the_stand_in_G():
    transposed = lambda f, x0: SOLUTIONS["hessian_rows"](f, x0).T  # noqa: E731
    result = check("hessian_rows", transposed)
    assert result.failures == ["transposed"]
    assert failed_with(result, "transposed", "returns the transpose", "you stored it as column i")


def test_row_method_with_n_squared_passes_is_rejected():
    result = check("hessian_rows", SOLUTIONS["hessian_naive"])  # right values, one pass per entry
    assert failed_with(result, "passes", "your hessian_rows made n^2 passes (slope 2.0 in n); the row method needs n (slope 1)")
    assert "values" not in result.failures


def test_naive_method_with_n_passes_is_rejected():
    result = check("hessian_naive", SOLUTIONS["hessian_rows"])
    assert failed_with(result, "passes", "made n passes (slope 1.0 in n)", "one pass per entry: n^2 (slope 2)")


def backprop_recursive(g, x0):
    """A planted mistake: propagate along every path, so a shared node passes its adjoint on more than once."""
    values = hl.evaluate(g.nodes, x0)
    adjoint = {g.output: 1.0}

    def visit(node):
        for arg, partial in zip(node.args, hl.exercises.local_partials(node, values)):
            adjoint[arg] = adjoint.get(arg, 0.0) + adjoint[node] * partial
            visit(arg)

    visit(g.output)
    return np.array([adjoint.get(x, 0.0) for x in g.inputs])


def test_backprop_that_double_counts_shared_nodes_is_rejected():
    result = check("backprop", backprop_recursive)
    assert failed_with(result, "values", "on shared_subexpressions (n = 3)", "should be")
    assert failed_with(result, "double_visit", "applied the partials of the node", "reversed(g.nodes)")
    assert failed_with(result, "visits", "your backprop made")


def test_gradient_off_by_a_constant_is_named_as_such():
    result = check("backprop", lambda g, x0: SOLUTIONS["backprop"](g, x0) + 0.5)
    assert result.failures[0] == "offset"
    assert failed_with(result, "offset", "off by the same constant, +0.5, on every function")


def test_gradient_off_by_a_factor_is_named_as_such():
    result = check("backprop", lambda g, x0: 2 * SOLUTIONS["backprop"](g, x0))
    assert failed_with(result, "factor", "2 times the right one")


def test_backprop_that_calls_the_engine_is_rejected():
    result = check("backprop", lambda g, x0: g.gradient(x0))
    assert failed_with(result, "passes", "your backprop made 1 numeric engine pass;")


def test_gradient_graph_built_once_per_input_is_rejected():
    per_input = lambda g: [hl.backprop(g.output, [x])[0] for x in g.inputs]  # noqa: E731
    result = check("gradient_graph", per_input)
    assert "values" not in result.failures
    assert failed_with(result, "build_visits", "build visits (slope", "one symbolic sweep over f")


def test_third_derivatives_entry_by_entry_is_rejected():
    def per_entry(f, x0):
        """A planted mistake: one numeric pass per entry T[i, j, k], n^3 passes."""
        rows = SOLUTIONS["third_derivatives"]
        n = len(x0)
        return np.array([[[rows(f, x0)[i, j, k] for k in range(n)] for j in range(n)] for i in range(n)])

    result = check("third_derivatives", per_entry)
    assert failed_with(result, "passes", "numeric passes (slope", "needs n^2")


def test_rows_that_bypass_G_cannot_be_probed_and_say_so():
    def rows_without_G(f, x0):
        """Right values, but G built by hand, so the orientation probe cannot see the rows."""
        g = hl.trace(f, len(x0), at=x0)
        grad = hl.backprop(g.output, g.inputs)
        values = hl.evaluate(hl.topological_order(grad), x0)
        return np.array([hl.backprop(d, g.inputs, at=values) for d in grad])

    result = check("hessian_rows", rows_without_G)
    assert result.failures == ["orientation_unchecked"]


def test_a_student_exception_is_reported_with_its_function_and_line():
    def rows_that_fail(f, x0):
        """A planted bug: indexes past the end of x0."""
        return x0[len(x0)]

    result = check("hessian_rows", rows_that_fail)
    assert result.failures == ["error"]
    assert failed_with(result, "error", "on shared_subexpressions (n = 3)", "IndexError",
                       "in rows_that_fail, line", "return x0[len(x0)]")


def test_an_answer_of_the_wrong_kind_is_reported():
    result = check("gradient_graph", lambda g: 42)
    assert failed_with(result, "error", "it returned int 42, which is not an answer of the kind")


def test_results_that_change_between_calls_are_rejected():
    calls = []

    def accumulating(g, x0):
        """A planted mistake: state that survives between calls."""
        calls.append(1)
        return SOLUTIONS["backprop"](g, x0) * (1 if len(calls) % 2 else 1 + 1e-3)

    assert "repeat" in check("backprop", accumulating).failures


@pytest.mark.parametrize("name", list(hl.exercises.EXERCISES))
def test_exercise_stubs_are_reported_as_not_written(name):
    result = check(name, STUBS[name])
    assert result.failures == ["not_implemented"]


def test_check_of_an_unknown_exercise_names_the_exercises():
    with pytest.raises(hl.HessianLabError, match="hessian_rows"):
        hl.exercises.check("hessian_cols", SOLUTIONS["hessian_rows"])


def test_check_prints_its_report(capsys):
    result = hl.exercises.check("hessian_rows", SOLUTIONS["hessian_rows"])
    assert capsys.readouterr().out.strip() == result.report()


def test_local_partials_counts_one_visit_per_call():
    g = hl.trace(lambda x: hl.sin(x[0]) * x[1], 2)
    values = hl.evaluate(g.nodes, np.array([0.3, 2.0]))
    with hl.counting() as c:
        assert hl.exercises.local_partials(g.output, values) == (2.0, values[g.output.args[0]])
        hl.exercises.local_partials(g.output)
        assert hl.exercises.local_partials(g.inputs[0], values) == ()
    assert (c.visits, c.build_visits) == (1, 1)


def test_growth_language():
    assert describe_growth([2, 4, 8], [4, 16, 64]) == "n^2"
    assert describe_growth([2, 4, 8], [0, 0, 0]) == "no"
    assert describe_growth([2, 4], [5, 7]) == "5, 7 (at n = 2, 4)"
    assert fit_slope([2, 4, 8], [8, 64, 512]) == pytest.approx(3.0)


def test_strip_code_keeps_the_indentation_of_each_block():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    y = x\n    return y\n    ### END SOLUTION\n\nprint(f)\n"
    assert make_exercises.strip_code(source) == "def f(x):\n    raise NotImplementedError\n\nprint(f)\n"


def test_exercise_notebooks_are_in_sync_with_the_solutions():
    assert make_exercises.out_of_sync() == [], "run: python tools/make_exercises.py"


def test_generated_exercises_hold_no_answers_and_no_outputs():
    for solution in sorted(make_exercises.SOLUTIONS.glob("*_solution.ipynb")):
        nb = make_exercises.exercise_notebook(solution)
        text = nbformat.writes(nb)
        assert "BEGIN SOLUTION" not in text and "notebooks/solutions/" not in text
        assert all(not c.outputs for c in nb.cells if c.cell_type == "code")
        assert "notebooks/exercises/" in nb.cells[0].source and "colab-badge" in nb.cells[0].source


def test_sync_check_notices_an_edited_solution(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(make_exercises.SOLUTIONS, solutions)
    make_exercises.generate(solutions, exercises)
    assert make_exercises.out_of_sync(solutions, exercises) == []
    edited = solutions / "ex2_hessian_rows_solution.ipynb"
    nb = nbformat.read(edited, as_version=4)
    nb.cells[-1].source += "\nprint('a new line')"
    nbformat.write(nb, edited)
    assert make_exercises.out_of_sync(solutions, exercises) == ["ex2_hessian_rows.ipynb"]
    assert make_exercises.main(["--check"]) == 0  # the repository's own notebooks are untouched


@pytest.mark.parametrize("name, shortcut", [("hessian_rows", lambda f, x0: hl.hessian(f, x0, method="rows")),
                                            ("hessian_naive", lambda f, x0: hl.trace(f, len(x0)).hessian(x0, "naive")),
                                            ("third_derivatives", lambda f, x0: hl.derivative_tensor(f, x0, 3))])
def test_calling_the_engines_finished_method_is_rejected(name, shortcut):
    result = check(name, shortcut)
    assert failed_with(result, "shortcuts", "made 1 call of the engine's finished method", "yourself")


def test_an_answer_of_the_wrong_shape_stops_after_the_values():
    result = check("hessian_rows", lambda f, x0: np.zeros(len(x0)))
    assert result.failures == ["shape"]
    assert failed_with(result, "shape", "on shared_subexpressions (n = 3)", "returned shape (3,)", "shape (3, 3)")
