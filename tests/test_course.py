"""The course: `python -m hessian_lab course DIR` writes an nbgrader course that nbgrader itself releases and grades,
with value points and cost points apart (a right-valued row method at n² passes loses only the cost points)."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from hessian_lab import course

NAIVE_ROWS = """G = g.gradient_graph()
    values = G.evaluate(x0)
    return np.array([[hl.backprop(G.output(i), g.inputs, at=values)[j] for j in range(g.n)] for i in range(g.n)])"""


def test_every_self_check_gets_a_value_cell_and_a_cost_cell_and_every_answer_a_solution_cell():
    for solution in course.solution_paths():
        nb = course.course_notebook(solution)
        checks = [m.group(2) for c in nb.cells if (m := course.SELF_CHECK.match(c.source))]
        graded = [c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert [g["grade_id"] for g in graded] == [f"{name}_{aspect}" for name in checks for aspect in ("values", "cost")]
        assert all(g["points"] == course.POINTS[g["grade_id"].rsplit("_", 1)[1]] for g in graded)
        answers = [c for c in nb.cells if c.cell_type == "code" and course.CODE_ANSWER.search(c.source)]
        assert answers and all(c.metadata["nbgrader"]["solution"] for c in answers)
        assert "<!-- BEGIN SOLUTION -->" not in nbformat.writes(nb)


def run(command, cwd):
    """Run a command of this venv (nbgrader needs its own `alembic` on PATH) and return its output; fail loudly."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def submit(directory, student, notebooks):
    """Put {name: notebook} where nbgrader collects a student's submission."""
    folder = directory / "submitted" / student / course.ASSIGNMENT
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / name)


def test_nbgrader_releases_and_autogrades_the_course(tmp_path):
    pytest.importorskip("nbgrader", reason="nbgrader 0.9 needs IPython >= 8.10; the Colab set has 7.34")
    from nbgrader.api import Gradebook

    run([sys.executable, "-m", "hessian_lab", "course", "hessian-course"], tmp_path)
    directory = tmp_path / "hessian-course"
    run([sys.executable, "-m", "nbgrader", "generate_assignment", course.ASSIGNMENT], directory)
    release = directory / "release" / course.ASSIGNMENT
    released = {p.name: nbformat.read(p, as_version=4) for p in sorted(release.glob("*.ipynb"))}
    assert sorted(released) == [course.exercise_name(p) for p in course.solution_paths()]
    assert not any("BEGIN SOLUTION" in nbformat.writes(nb) for nb in released.values())

    source = directory / "source" / course.ASSIGNMENT
    submit(directory, "solution", {p.name: nbformat.read(p, as_version=4) for p in sorted(source.glob("*.ipynb"))})
    submit(directory, "unfilled", released)
    naive = nbformat.read(release / "ex2_hessian_rows.ipynb", as_version=4)
    stub = next(c for c in naive.cells if c.source.startswith("def hessian_rows"))
    stub.source = stub.source.replace("raise NotImplementedError", NAIVE_ROWS)
    submit(directory, "naive", {"ex2_hessian_rows.ipynb": naive})
    run([sys.executable, "-m", "nbgrader", "autograde", course.ASSIGNMENT, "--create"], directory)

    with Gradebook(f"sqlite:///{directory / 'gradebook.db'}") as gradebook:
        full = gradebook.find_submission(course.ASSIGNMENT, "solution")
        assert full.max_score == full.score > 0
        assert gradebook.find_submission(course.ASSIGNMENT, "unfilled").score == 0

        def points(grade_id):
            """The naive student's points on one grade cell of exercise 2."""
            grade = gradebook.find_grade(grade_id, "ex2_hessian_rows", course.ASSIGNMENT, "naive")
            return grade.score

        assert points("hessian_rows_values") == course.POINTS["values"]
        assert points("hessian_rows_cost") == 0
        assert 0 < gradebook.find_submission(course.ASSIGNMENT, "naive").score < full.max_score
