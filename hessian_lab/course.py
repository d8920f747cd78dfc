"""The exercises as a course: one source of truth (the solution notebooks) for the exercise notebooks and for an
nbgrader 0.9 course directory, `python -m hessian_lab course DIR`.

A solution notebook marks each answer between `### BEGIN SOLUTION` and `### END SOLUTION` lines of a code
cell, and notes meant for the solution only between `<!-- BEGIN SOLUTION -->` and `<!-- END SOLUTION -->`.
tools/make_exercises.py turns the answers into `raise NotImplementedError`; the course keeps them and gives
each answer cell nbgrader's solution metadata, and after every self-check cell, `name = hl.exercises.check("fn",
fn)`, two autograded cells: value points (result.values_ok: right numbers, a repeat call, the orientation)
and cost points (result.cost_ok: those numbers at the method's cost, counted). nbgrader's generate_assignment
then writes the release, and its autograde scores the submissions.
"""

import re
from pathlib import Path

import nbformat

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"  # in a clone of the repository
SUFFIX = "_solution"
ASSIGNMENT = "hessians"
CODE_ANSWER = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*$", re.M | re.S)
MARKDOWN_ANSWER = re.compile(r"[ \t]*<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->\s*", re.S)
SELF_CHECK = re.compile(r'^(\w+) = hl\.exercises\.check\("(\w+)", (\w+)\)\s*$')  # parsed, never run
POINTS = {"values": 3, "cost": 2}  # per function; a right-valued function at the wrong cost keeps the 3

CONFIG = '''"""nbgrader configuration of the hessian-lab course, written by `python -m hessian_lab course`."""

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "hessian-lab"
c.CourseDirectory.root = "."
# The exercises' stubs read like the rest of the lab, and the self-check names them "not written yet".
c.ClearSolutions.code_stub = {"python": "raise NotImplementedError"}
c.Execute.timeout = 300  # seconds per cell; every self-check takes well under one
'''


def strip_code(source):
    """Each answer block of a code cell becomes `raise NotImplementedError`, indented like its BEGIN line."""
    return CODE_ANSWER.sub(lambda m: f"{m.group(1)}raise NotImplementedError", source)


def exercise_name(solution):
    """`ex1_backprop.ipynb` for `ex1_backprop_solution.ipynb`."""
    if not solution.stem.endswith(SUFFIX):
        raise ValueError(f"{solution.name}: a solution notebook's name must end in {SUFFIX}.ipynb")
    return solution.stem[: -len(SUFFIX)] + solution.suffix


def solution_paths(solutions_dir=SOLUTIONS):
    """The solution notebooks, in order."""
    return sorted(Path(solutions_dir).glob(f"*{SUFFIX}.ipynb"))


def student_cells(solution):
    """The cells of a solution notebook as a student sees them: solution-only notes dropped, links pointed at the
    exercise, outputs and metadata cleared (the answers are still in the code; the caller strips or marks them)."""
    nb = nbformat.read(solution, as_version=4)
    link_from = f"notebooks/solutions/{solution.name}"
    link_to = f"notebooks/exercises/{exercise_name(solution)}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.source = MARKDOWN_ANSWER.sub("", cell.source).replace(link_from, link_to)
        cell.metadata = {}
    return nb


def nbgrader_metadata(grade_id, solution=False, points=None):
    """nbgrader's cell metadata (schema 3): an answer cell, or a locked autograded cell worth `points`."""
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def grade_cell(function, name, aspect):
    """An autograded cell: a fresh self-check of `function`, asserting its value or cost verdict, with the report."""
    what = ("right values: every entry, a repeat call, and the orientation" if aspect == "values"
            else "the method's cost, counted: passes, visits, builds, nothing hidden")
    source = (f"# Autograded, {POINTS[aspect]} points: {name}'s {what}.\n"
              f'graded = hl.exercises.check("{name}", {function}, verbose=False)\n'
              f"assert graded.{aspect}_ok, graded.report()")
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = nbgrader_metadata(f"{name}_{aspect}", points=POINTS[aspect])
    return cell


def course_notebook(solution):
    """The nbgrader source notebook of one solution notebook: answer cells as solution cells, grade cells added."""
    nb = student_cells(solution)
    cells = []
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        if CODE_ANSWER.search(cell.source):
            cell.metadata = nbgrader_metadata(f"answer_{index}", solution=True)
        elif match := SELF_CHECK.match(cell.source):
            _, name, function = match.groups()
            cells += [grade_cell(function, name, "values"), grade_cell(function, name, "cost")]
    nb.cells = cells
    return nb


def write_course(directory, solutions_dir=SOLUTIONS):
    """Write an nbgrader course: directory/nbgrader_config.py and directory/source/hessians/*.ipynb; return the paths."""
    solutions = solution_paths(solutions_dir)
    if not solutions:
        raise FileNotFoundError(f"no solution notebooks in {solutions_dir}: run this from a clone of the repository")
    directory = Path(directory)
    source = directory / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    (directory / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    written = [directory / "nbgrader_config.py"]
    for solution in solutions:
        target = source / exercise_name(solution)
        nbformat.write(course_notebook(solution), target)
        written.append(target)
    return written
