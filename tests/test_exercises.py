"""Exercise mode: the self-check accepts the reference solutions and every reasonable variant of them, rejects
planted mistakes and cheats with the right message, and the exercise notebooks run to every self-check."""

import ast
import contextvars
import importlib.util
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import nbformat
import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import ops
from hessian_lab.counting import process_totals, uncounted
from hessian_lab.exercises.problems import VALUE_PROBLEMS
from hessian_lab.exercises.result import describe_growth, number
from hessian_lab.higher import nested_tensor
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
            defines = cell.source.startswith("def ")
            if defines and all(isinstance(s, ast.FunctionDef) for s in ast.parse(cell.source).body):
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


def noted(result, *phrases):
    """True if one passing (✓) message holds every phrase."""
    return any(all(p in m for p in phrases) for m in result.messages if m.startswith("✓"))


# Reasonable ways to write a right answer, each of which must pass.

def own_G(g):
    """G's outputs from the engine's one-line sweep, as exercise 1 shows: hl.backprop without `at`."""
    return hl.backprop(g.output, g.inputs)


def rows_over(outputs, g, x0):
    """Row i of H as one numeric backprop over the node outputs[i] = x̄_i."""
    values = hl.evaluate(hl.topological_order([o for o in outputs if isinstance(o, hl.Node)]), x0)
    return np.array([hl.backprop(o, g.inputs, at=values) for o in outputs])


def rows_with_backprop_G(g, x0):
    """The row method over a G built with hl.backprop(g.output, g.inputs)."""
    return rows_over(own_G(g), g, x0)


def rows_with_own_gradient_graph(g, x0):
    """The row method over the G of the student's own exercise-1 gradient_graph."""
    return rows_over(SOLUTIONS["gradient_graph"](g), g, x0)


def naive_with_backprop_G(g, x0):
    """The naive method over a G built with hl.backprop(g.output, g.inputs)."""
    outputs = own_G(g)
    values = hl.evaluate(hl.topological_order(outputs), x0)
    return np.array([[hl.backprop(o, g.inputs, at=values)[j] for j in range(g.n)] for o in outputs])


def rows_upper_mirrored(g, x0):
    """The README's symmetric method: entries j >= i of each row, mirrored below the diagonal."""
    G = g.gradient_graph()
    values = G.evaluate(x0)
    upper = np.array([hl.backprop(G.output(i), g.inputs, at=values) for i in range(g.n)])
    return np.triu(upper) + np.triu(upper, 1).T


def rows_averaged(g, x0):
    """The row method, returned as (H + Hᵀ)/2."""
    H = SOLUTIONS["hessian_rows"](g, x0)
    return (H + H.T) / 2


@pytest.mark.parametrize("name", list(hl.exercises.EXERCISES))
def test_reference_solution_passes(name):
    result = check(name, SOLUTIONS[name])
    assert result.ok, result.report()
    assert result.messages and all(m.startswith("✓") for m in result.messages)


@pytest.mark.parametrize("name, fn", [("hessian_rows", rows_with_backprop_G),
                                      ("hessian_rows", rows_with_own_gradient_graph),
                                      ("hessian_naive", naive_with_backprop_G)])
def test_a_right_answer_over_a_G_built_by_hand_passes_with_its_orientation_judged(name, fn):
    result = check(name, fn)
    assert result.ok and result.values_ok and result.cost_ok, result.report()
    assert noted(result, "orientation: H's first index is the i of G_i")


@pytest.mark.parametrize("fn", [rows_upper_mirrored, rows_averaged])
def test_a_right_answer_mirrored_by_construction_passes_and_says_orientation_was_not_judged(fn):
    result = check("hessian_rows", fn)
    assert result.ok, result.report()
    assert noted(result, "orientation: not judged", "mirrored by construction")


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
    transposed = lambda g, x0: SOLUTIONS["hessian_rows"](g, x0).T  # noqa: E731
    result = check("hessian_rows", transposed)
    assert result.failures == ["transposed"]
    assert failed_with(result, "transposed", "returns the transpose", "you stored it as column i")


@pytest.mark.parametrize("axes", [(1, 0, 2), (2, 0, 1), (1, 2, 0)])
def test_third_derivatives_along_the_wrong_axis_are_caught_by_the_stand_in_G(axes):
    moved = lambda g, x0: SOLUTIONS["third_derivatives"](g, x0).transpose(axes)  # noqa: E731
    result = check("third_derivatives", moved)
    assert result.failures == ["axis"], result.report()
    assert failed_with(result, "axis", "stores the index i of G_i along axis", "it belongs on axis 0")


@pytest.mark.parametrize("name, wrong", [("hessian_rows", lambda H: 2 * H), ("hessian_rows", lambda H: H + 1),
                                         ("hessian_naive", lambda H: 2 * H), ("third_derivatives", lambda T: T + 1)])
def test_a_value_bug_is_reported_once_not_also_as_orientation(name, wrong):
    result = check(name, lambda g, x0: wrong(SOLUTIONS[name](g, x0)))
    assert {"factor", "offset"} & set(result.failures)
    assert not {"orientation", "transposed", "axis"} & set(result.failures), result.report()
    assert "  (the orientation check waits for right values)" in result.messages


def test_an_answer_of_zeros_never_prints_minus_zero():
    result = check("hessian_rows", lambda g, x0: -0.0 * SOLUTIONS["hessian_rows"](g, x0))
    assert failed_with(result, "zero", "every entry is 0")
    assert not any("-0 " in m or "-0," in m or "-0;" in m for m in result.messages), result.report()
    assert number(-0.0) == "0" and number(-0.04, ".1f") == "0.0" and number(-2.5) == "-2.5"


def test_row_method_with_n_squared_passes_is_rejected():
    result = check("hessian_rows", SOLUTIONS["hessian_naive"])  # right values, one pass per entry
    assert failed_with(result, "passes",
                       "your hessian_rows made n^2 passes; the row method needs n", "n per row")
    assert "values" not in result.failures
    assert result.values_ok and not result.cost_ok


def test_naive_method_with_n_passes_is_rejected():
    result = check("hessian_naive", SOLUTIONS["hessian_rows"])
    assert failed_with(result, "passes", "made n passes;", "one pass per entry: n^2")


def test_naive_method_computing_j_at_least_i_passes():
    def naive_upper(g, x0):
        """One pass per entry with j >= i, mirrored: n(n+1)/2 passes."""
        G = g.gradient_graph()
        values = G.evaluate(x0)
        H = np.zeros((g.n, g.n))
        for i in range(g.n):
            for j in range(i, g.n):
                H[i, j] = H[j, i] = hl.backprop(G.output(i), g.inputs, at=values)[j]
        return H

    result = check("hessian_naive", naive_upper)
    assert result.ok, result.report()
    assert result.counts[8]["passes"] == 36


def test_finite_differences_are_named_as_such():
    def rows_by_differences(g, x0, h=1e-5):
        """A planted mistake: row i as a central difference of two gradients: 2n passes over f, no G."""
        return np.array([(g.gradient(x0 + h * e) - g.gradient(x0 - h * e)) / (2 * h) for e in np.eye(g.n)])

    result = check("hessian_rows", rows_by_differences)
    assert result.failures == ["finite_differences"], result.report()
    assert failed_with(result, "finite_differences", "close to the exact derivatives", "finite differences")
    assert not any("per row" in m for m in result.messages), result.report()
    assert not result.values_ok and not result.cost_ok


def test_third_derivatives_by_central_differences_of_the_hessian_are_named_as_such():
    def by_differences(g, x0, h=1e-4):
        """A planted mistake: T[i] as a central difference of two Hessians, by the student's own row method."""
        return np.array([(SOLUTIONS["hessian_rows"](g, x0 + h * e) - SOLUTIONS["hessian_rows"](g, x0 - h * e)) / (2 * h)
                         for e in np.eye(g.n)])

    result = check("third_derivatives", by_differences)
    assert failed_with(result, "finite_differences", "finite differences"), result.report()


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


def test_one_symbolic_sweep_per_input_is_named_as_such():
    def sweep_per_input(g):
        """A planted mistake: a whole symbolic sweep for each x̄_i, keeping only that input's adjoint."""
        outputs = []
        for x in g.inputs:
            adjoint = {g.output: 1.0}
            for node in reversed(g.nodes):
                if node in adjoint:
                    for arg, partial in zip(node.args, hl.exercises.local_partials(node)):
                        term = adjoint[node] * partial
                        adjoint[arg] = adjoint[arg] + term if arg in adjoint else term
            outputs.append(adjoint.get(x, 0.0))
        return outputs

    result = check("gradient_graph", sweep_per_input)
    assert "values" not in result.failures and "double_visit" not in result.failures
    assert failed_with(result, "repeated_sweeps", "sweeps f 3 times (one sweep per input?)")
    assert failed_with(result, "build_visits", "build visits (at n = 4, 8, 16, 32);", "n per operation node")
    assert not any("recursively" in m for m in result.messages)


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


def test_gradient_graph_built_once_per_input_by_the_engine_is_rejected():
    per_input = lambda g: [hl.backprop(g.output, [x])[0] for x in g.inputs]  # noqa: E731
    result = check("gradient_graph", per_input)
    assert "values" not in result.failures
    assert failed_with(result, "builds", "made n engine builds")
    assert failed_with(result, "build_visits", "build visits (at n = 4, 8, 16, 32);", "one symbolic sweep over f")


def test_third_derivatives_entry_by_entry_is_rejected():
    def per_entry(g, x0):
        """A planted mistake: one numeric pass per entry T[i, j, k], n^3 passes."""
        G = g.gradient_graph()
        second = [hl.backprop(G.output(i), g.inputs) for i in range(g.n)]
        values = hl.evaluate(hl.topological_order([d for row in second for d in row]), x0)
        return np.array([[[hl.backprop(d, g.inputs, at=values)[k] for k in range(g.n)] for d in row] for row in second])

    result = check("third_derivatives", per_entry)
    assert failed_with(result, "passes", "n^3 numeric passes;", "needs n^2", "n per second derivative")


# Cheats: each used to pass the self-check.

def naive_by_engine_backprop(g, x0):
    """The naive method: n² numeric passes over G."""
    return SOLUTIONS["hessian_naive"](g, x0)


def naive_paused(g, x0):
    """A cheat: the naive method, n² passes, hidden from hl.counting by uncounted()."""
    with uncounted():
        return naive_by_engine_backprop(g, x0)


def naive_by_hand_with_uncounted_partials(g, x0):
    """A cheat: n² hand-written numeric sweeps over G through hessian_lab.ops.local_partials, which no visit counts."""
    G = g.gradient_graph()
    values = G.evaluate(x0)
    H = np.zeros((g.n, g.n))
    for i in range(g.n):
        for j in range(g.n):
            adjoint = {G.output(i): 1.0}
            for node in reversed(hl.topological_order([G.output(i)])):
                if node in adjoint and node.args:
                    for arg, partial in zip(node.args, ops.local_partials(node, values)):
                        adjoint[arg] = adjoint.get(arg, 0.0) + adjoint[node] * partial
            H[i, j] = adjoint.get(g.inputs[j], 0.0)
    return H


@pytest.mark.parametrize("name, cheat, kind, phrase", [
    ("hessian_rows", lambda g, x0: hl.HESSIAN_METHODS["rows"](g, g.point(x0)), "shortcuts", "finished method"),
    ("hessian_naive", lambda g, x0: hl.HESSIAN_METHODS["naive"](g, g.point(x0)), "shortcuts", "finished method"),
    ("third_derivatives", lambda g, x0: nested_tensor(g, g.point(x0), 3), "shortcuts", "finished method"),
    ("hessian_rows", naive_paused, "passes", "made n^2 passes"),
    ("hessian_rows", naive_by_hand_with_uncounted_partials, "hidden", "local partials outside any counted sweep"),
])
def test_a_cheat_is_rejected(name, cheat, kind, phrase):
    result = check(name, cheat)
    assert not result.ok
    assert failed_with(result, kind, phrase), result.report()


def test_hand_written_uncounted_sweeps_also_show_as_missing_passes():
    result = check("hessian_rows", naive_by_hand_with_uncounted_partials)
    assert failed_with(result, "passes", "made no passes", "the row method needs n")


def test_backprop_by_the_engine_paused_behind_dummy_visits_is_rejected():
    def disguised(g, x0):
        """A cheat: the engine's gradient inside uncounted(), plus one dummy counted call per node for the visits."""
        values = hl.evaluate(g.nodes, x0)
        for node in g.nodes:
            hl.exercises.local_partials(node, values)
        with uncounted():
            return g.gradient(x0)

    result = check("backprop", disguised)
    assert failed_with(result, "passes", "your backprop made 1 numeric engine pass")
    assert failed_with(result, "partials", "2 per operation node")


@pytest.mark.parametrize("elsewhere", ["context", "thread"])
def test_backprop_run_in_another_context_or_thread_is_rejected(elsewhere):
    """The same cheat with the engine's gradient run where the sealed counter cannot see it: it still shows."""
    def run_elsewhere(work):
        """work() in a fresh contextvars.Context, or in another thread."""
        if elsewhere == "context":
            return contextvars.Context().run(work)
        result = []
        thread = threading.Thread(target=lambda: result.append(work()))
        thread.start()
        thread.join()
        return result[0]

    def disguised(g, x0):
        """A cheat: one dummy counted call per node, and the real gradient computed out of the checker's sight."""
        values = hl.evaluate(g.nodes, x0)
        for node in g.nodes:
            hl.exercises.local_partials(node, values)
        return run_elsewhere(lambda: g.gradient(x0))

    result = check("backprop", disguised)
    assert failed_with(result, "passes", "your backprop made 1 numeric engine pass"), result.report()
    assert "ran in another thread or contextvars.Context" in result.report()


def test_equal_looking_numbers_are_written_with_enough_digits():
    """An answer off by round-off of float32 shows where it differs, not '2.15968 but should be 2.15968'."""
    result = check("hessian_rows", lambda g, x0: SOLUTIONS["hessian_rows"](g, x0).astype(np.float32))
    message = next(m for m in result.messages if "should be" in m)
    got, expected = message.split(" is ")[1].split(" but should be ")
    assert got != expected.split(" ")[0], message


def test_a_nan_answer_is_not_also_called_accumulating():
    """nan != nan, but two identical nan answers are the same answer."""
    result = check("backprop", lambda g, x0: np.full(g.n, np.nan))
    assert "repeat" not in result.failures, result.report()


def test_gradient_graph_that_returns_the_engines_G_is_rejected():
    result = check("gradient_graph", lambda g: g.gradient_graph().outputs)
    assert failed_with(result, "engine_G", "the very nodes of the engine's G")
    assert failed_with(result, "builds", "made 1 engine build")


def test_gradient_graph_built_by_the_engines_class_is_rejected():
    result = check("gradient_graph", lambda g: hl.GradientGraph(g).outputs)
    assert failed_with(result, "builds", "made 1 engine build")
    assert failed_with(result, "build_visits", "your gradient_graph made")


def test_a_student_exception_is_reported_with_its_function_and_line():
    def rows_that_fail(g, x0):
        """A planted bug: indexes past the end of x0."""
        return x0[len(x0)]

    result = check("hessian_rows", rows_that_fail)
    assert result.failures == ["error"]
    assert failed_with(result, "error", "on shared_subexpressions (n = 3)", "IndexError",
                       "in rows_that_fail, line", "return x0[len(x0)]")


def test_an_answer_of_the_wrong_kind_is_reported():
    result = check("gradient_graph", lambda g: 42)
    assert failed_with(result, "shape", "returned int 42, which is not a list of nodes and numbers")


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
    assert not result.values_ok and not result.cost_ok


@pytest.mark.parametrize("name", list(hl.exercises.EXERCISES))
def test_reference_solutions_earn_value_and_cost_points(name):
    result = check(name, SOLUTIONS[name])
    assert result.values_ok and result.cost_ok


def test_check_of_an_unknown_exercise_names_the_exercises():
    with pytest.raises(hl.HessianLabError, match="hessian_rows"):
        hl.exercises.check("hessian_cols", SOLUTIONS["hessian_rows"])


def test_check_prints_its_report(capsys):
    result = hl.exercises.check("hessian_rows", SOLUTIONS["hessian_rows"])
    assert capsys.readouterr().out.strip() == result.report()


def test_local_partials_counts_one_visit_per_call():
    g = hl.trace(lambda x: hl.sin(x[0]) * x[1], 2)
    values = hl.evaluate(g.nodes, np.array([0.3, 2.0]))
    before = process_totals()["partials"]
    with hl.counting() as c:
        assert hl.exercises.local_partials(g.output, values) == (2.0, values[g.output.args[0]])
        hl.exercises.local_partials(g.output)
        assert hl.exercises.local_partials(g.inputs[0], values) == ()
    assert (c.visits, c.build_visits, process_totals()["partials"] - before) == (1, 1, 2)


def test_attempt_and_compare_print_one_line_instead_of_a_traceback(capsys):
    assert hl.exercises.attempt(STUBS["hessian_rows"], hl.trace(np.sum, 2), np.ones(2)) is None
    assert "hessian_rows is not written yet" in capsys.readouterr().out
    hl.exercises.compare("H", np.eye(2), 2 * np.eye(2))
    assert capsys.readouterr().out.startswith("✗ H[0, 0] is 1 but should be 2; 2 of 4 entries are wrong")
    hl.exercises.compare("H", np.eye(2), np.eye(2))
    assert capsys.readouterr().out.startswith("✓ H matches")


def test_growth_language():
    assert describe_growth([2, 4, 8], [4, 16, 64]) == "n^2"
    assert describe_growth([2, 4, 8], [4, 8, 16]) == "2n"
    assert describe_growth([2, 4, 8], [0, 0, 0]) == "no"
    assert describe_growth([2, 4], [5, 7]) == "5, 7 (at n = 2, 4)"
    assert fit_slope([2, 4, 8], [8, 64, 512]) == pytest.approx(3.0)


@pytest.mark.parametrize("name, shortcut", [("hessian_rows", lambda g, x0: g.hessian(x0, "rows")),
                                            ("hessian_naive", lambda g, x0: g.hessian(x0, "naive")),
                                            ("third_derivatives", lambda g, x0: g.derivative_tensor(x0, 3))])
def test_calling_the_engines_finished_method_is_rejected(name, shortcut):
    result = check(name, shortcut)
    assert failed_with(result, "shortcuts", "made 1 call of the engine's finished method", "yourself")


def test_an_answer_of_the_wrong_shape_stops_after_the_values():
    result = check("hessian_rows", lambda g, x0: np.zeros(len(x0)))
    assert result.failures == ["shape"]
    assert failed_with(result, "shape", "on shared_subexpressions (n = 3)", "returned shape (3,)", "shape (3, 3)")


# The notebooks: generated in sync, and Run All reaches every self-check.

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


@pytest.mark.parametrize("exercise, lesson", [("ex1_backprop", "01_graphs_and_backprop"),
                                              ("ex2_hessian_rows", "02_rows_are_gradients"),
                                              ("ex2_hessian_rows", "03_naive_vs_rows"),
                                              ("ex3_higher_order", "04_higher_orders")])
def test_each_exercise_links_the_notebook_it_practises(exercise, lesson):
    intro = nbformat.read(ROOT / "notebooks" / "exercises" / f"{exercise}.ipynb", as_version=4).cells[0].source
    assert f"(../{lesson}.ipynb)" in intro
    assert f"blob/main/notebooks/{lesson}.ipynb)" in intro
    assert (ROOT / "notebooks" / f"{lesson}.ipynb").exists()


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


def run_all(nb):
    """Every code cell of nb in one IPython shell, as Run All does; returns (printed text, cells that raised)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell()
    shell.run_cell("import matplotlib\nmatplotlib.use('Agg')")
    out, raised = StringIO(), []
    with redirect_stdout(out):
        for index, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            if not shell.run_cell(cell.source).success:
                raised.append(index)
    shell.run_cell("import matplotlib.pyplot as plt\nplt.close('all')")
    return out.getvalue(), raised


EXERCISE_NOTEBOOKS = {"ex1_backprop": ["backprop", "gradient_graph"],
                      "ex2_hessian_rows": ["hessian_naive", "hessian_rows"],
                      "ex3_higher_order": ["third_derivatives"]}


@pytest.mark.parametrize("notebook", list(EXERCISE_NOTEBOOKS))
def test_run_all_on_an_unfilled_exercise_reaches_every_self_check(notebook):
    text, raised = run_all(nbformat.read(ROOT / "notebooks" / "exercises" / f"{notebook}.ipynb", as_version=4))
    assert raised == [], text
    for name in EXERCISE_NOTEBOOKS[notebook]:
        assert f"{name}: 1 problem(s) found\n  ✗ {name} is not written yet" in text, text
    assert "Traceback" not in text and "NotImplementedError\n" not in text


def test_run_all_with_a_planted_naive_row_method_prints_the_cost_message():
    nb = nbformat.read(ROOT / "notebooks" / "exercises" / "ex2_hessian_rows.ipynb", as_version=4)
    planted = "return np.array([[hl.backprop(G.output(i), g.inputs, at=values)[j] for j in range(g.n)]\n" \
              "                     for i in range(g.n)])"
    stub = next(c for c in nb.cells if c.source.startswith("def hessian_rows"))
    stub.source = stub.source.replace("raise NotImplementedError",
                                      f"G = g.gradient_graph()\n    values = G.evaluate(x0)\n    {planted}")
    text, raised = run_all(nb)
    assert raised == [], text
    assert "your hessian_rows made n^2 passes; the row method needs n" in text


# Cheats and fairness cases of issue 22, each written as a student would write it.

def in_fresh_context(work):
    """work() inside a brand-new contextvars.Context, where no hl.counting block of the caller is open."""
    return contextvars.Context().run(work)


@pytest.mark.parametrize("name, cheat", [
    ("hessian_rows", lambda g, x0: in_fresh_context(lambda: g.hessian(x0, "tape"))),
    ("hessian_naive", lambda g, x0: in_fresh_context(lambda: g.hessian(x0, "tape"))),
    ("third_derivatives", lambda g, x0: in_fresh_context(lambda: g.derivative_tensor(x0, 3, method="taylor"))),
])
def test_the_engines_methods_in_a_fresh_context_are_rejected(name, cheat):
    result = check(name, cheat)
    assert failed_with(result, "shortcuts", "call of the engine's finished method"), result.report()
    assert "ran in another thread or contextvars.Context" in result.report()
    assert not result.cost_ok


def test_a_gradient_by_the_tape_in_a_fresh_context_is_rejected():
    result = check("backprop", lambda g, x0: in_fresh_context(lambda: g.tape().gradient(g.point(x0))))
    assert not result.cost_ok, result.report()
    assert {"passes", "shortcuts", "hidden"} & set(result.failures), result.report()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_naive_work_in_a_forked_child_is_rejected():
    def rows_forked(g, x0):
        """A cheat: the naive n² passes in a forked child, sent back through a pipe; n cheap passes here."""
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: whatever happens, it ends here
            try:
                os.close(read)
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(SOLUTIONS["hessian_naive"](g, x0).tobytes())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            H = np.frombuffer(pipe.read()).reshape(g.n, g.n)
        os.waitpid(pid, 0)
        for i in range(g.n):
            hl.backprop(g.inputs[i], g.inputs, at={})
        return H

    result = check("hessian_rows", rows_forked)
    assert failed_with(result, "processes", "another process"), result.report()
    assert result.values_ok and not result.cost_ok


def test_an_answer_whose_array_conversion_runs_the_naive_method_is_counted():
    class LazyHessian:
        """A cheat: nothing computed in the call; the naive n² passes run when the answer is turned into numbers."""

        def __init__(self, g, x0):
            self.g, self.x0 = g, x0

        def __array__(self, dtype=None, copy=None):
            return np.asarray(SOLUTIONS["hessian_naive"](self.g, self.x0), dtype=dtype)

    result = check("hessian_rows", LazyHessian)
    assert failed_with(result, "passes", "made n^2 passes"), result.report()


def test_a_memo_cache_keyed_by_x0_cannot_skip_the_orientation_probe():
    cache = {}

    def rows_transposed_and_memoised(g, x0):
        """A cheat: a transposed row method whose answers are remembered by x0."""
        key = np.asarray(x0, dtype=float).tobytes()
        if key not in cache:
            cache[key] = SOLUTIONS["hessian_rows"](g, x0).T
        return cache[key]

    result = check("hessian_rows", rows_transposed_and_memoised)
    assert failed_with(result, "transposed", "returns the transpose"), result.report()


def test_a_transposed_hessian_over_a_G_built_by_hand_is_caught():
    def columns(g, x0):
        """A planted mistake: G by hl.backprop, each row stored as a column."""
        outputs = hl.backprop(g.output, g.inputs)
        values = hl.evaluate(hl.topological_order([o for o in outputs if isinstance(o, hl.Node)]), x0)
        H = np.zeros((g.n, g.n))
        for i in range(g.n):
            H[:, i] = hl.backprop(outputs[i], g.inputs, at=values)
        return H

    result = check("hessian_rows", columns)
    assert result.failures == ["transposed"], result.report()
    assert not result.values_ok


def test_rows_computed_in_a_thread_pool_are_counted():
    def rows_in_threads(g, x0):
        """The row method with each row's pass in a ThreadPoolExecutor."""
        G = g.gradient_graph()
        values = G.evaluate(x0)
        with ThreadPoolExecutor(max_workers=2) as pool:
            return np.array(list(pool.map(lambda i: hl.backprop(G.output(i), g.inputs, at=values), range(g.n))))

    result = check("hessian_rows", rows_in_threads)
    assert result.ok and result.cost_ok, result.report()
    assert "made no passes" not in result.report()
    assert all(result.counts[n]["passes"] == n for n in result.counts)


def test_an_answer_that_turns_ragged_on_the_repeat_call_gets_a_verdict():
    calls = []

    def ragged_later(g, x0):
        """A planted bug: right the first times, a ragged list of rows on a later call."""
        calls.append(1)
        H = SOLUTIONS["hessian_rows"](g, x0)
        return H if len(calls) <= len(VALUE_PROBLEMS) + 3 else [list(H[0]), list(H[1][:-1]), list(H[2])]

    result = check("hessian_rows", ragged_later)
    assert failed_with(result, "shape", "ragged"), result.report()
    assert not result.values_ok


def test_messages_say_each_thing_once_and_tick_only_what_was_checked():
    for name in hl.exercises.EXERCISES:
        report = check(name, SOLUTIONS[name]).report()
        assert "slope" not in report, report  # the counts follow a formula, or the bound's own numbers
        assert "✓ cost: no " not in report, report  # the rules against shortcuts speak only when broken
        for line in report.splitlines():
            lists = [part for part in line.split("(at n = ")[1:]]
            assert len(lists) <= 1, line  # one list of sizes per line, never the same numbers twice


def test_a_slope_is_stated_where_it_tells_the_counts_from_the_bound():
    def rows_quadratic_visits(g, x0):
        """A planted mistake: n passes, but each over all of an n-times-bigger graph of repeated G's."""
        G = g.gradient_graph()
        values = G.evaluate(x0)
        order = hl.topological_order([G.output(i) for i in range(g.n)]) * g.n ** 2
        return np.array([hl.backprop(G.output(i), g.inputs, at=values, over=order) for i in range(g.n)])

    result = check("hessian_rows", rows_quadratic_visits)
    assert failed_with(result, "visits", "(slope", "where the bound's is"), result.report()


def test_run_all_with_a_gradient_graph_that_returns_numbers_raises_nothing():
    nb = nbformat.read(ROOT / "notebooks" / "exercises" / "ex1_backprop.ipynb", as_version=4)
    stub = next(c for c in nb.cells if c.source.startswith("def gradient_graph"))
    stub.source = stub.source.replace("raise NotImplementedError", "return [0.0] * g.n")
    text, raised = run_all(nb)
    assert raised == [], text
    assert "Traceback" not in text and "KeyError" not in text
    assert "✗ x̄[" in text  # the try-it cell compares the numbers instead


@pytest.mark.parametrize("notebook", list(EXERCISE_NOTEBOOKS))
def test_an_unfilled_exercise_draws_no_empty_axes(notebook):
    text, _ = run_all(nbformat.read(ROOT / "notebooks" / "exercises" / f"{notebook}.ipynb", as_version=4))
    assert "The picture appears once" in text and "slope nan" not in text
