#!/usr/bin/env python3
"""Generate notebooks/exercises/ from notebooks/solutions/, so that both come from one source.

In a solution notebook, every answer sits between `### BEGIN SOLUTION` and `### END SOLUTION` lines in
a code cell; the exercise notebook gets `raise NotImplementedError` there, at the same indentation.
Markdown between `<!-- BEGIN SOLUTION -->` and `<!-- END SOLUTION -->` is dropped, links to the
solution notebook point to the exercise instead, and every output is cleared. The exercise gets its own
Open-in-Colab badge and install cell from tools/notebook_header.py, so it needs no separate header run.
The rules live in hessian_lab/course.py, which also writes the nbgrader course (`python -m hessian_lab course`).

Usage (from the repository root):
    python tools/make_exercises.py           rewrite notebooks/exercises/*.ipynb
    python tools/make_exercises.py --check   exit 1 if a committed exercise notebook is out of sync
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/, also when a test loads this file by path
import notebook_header  # noqa: E402

from hessian_lab.course import SUFFIX, exercise_name, strip_code, student_cells  # noqa: E402,F401

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"
EXERCISES = ROOT / "notebooks" / "exercises"


def exercise_notebook(solution: Path) -> nbformat.NotebookNode:
    """The exercise notebook generated from one solution notebook."""
    nb = student_cells(solution)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_code(cell.source)
    return notebook_header.with_header(nb, f"notebooks/exercises/{exercise_name(solution)}")


def render(nb: nbformat.NotebookNode) -> str:
    """A notebook as the text written to disk (what --check compares)."""
    return nbformat.writes(nb) + "\n"


def out_of_sync(solutions_dir: Path = SOLUTIONS, exercises_dir: Path = EXERCISES) -> list[str]:
    """Names of the exercise notebooks that differ from (or are missing for) their generated version."""
    stale = []
    for solution in sorted(solutions_dir.glob(f"*{SUFFIX}.ipynb")):
        target = exercises_dir / exercise_name(solution)
        if not target.exists() or target.read_text(encoding="utf-8") != render(exercise_notebook(solution)):
            stale.append(target.name)
    return stale


def generate(solutions_dir: Path = SOLUTIONS, exercises_dir: Path = EXERCISES) -> list[Path]:
    """Write every exercise notebook; return the paths written."""
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for solution in sorted(solutions_dir.glob(f"*{SUFFIX}.ipynb")):
        target = exercises_dir / exercise_name(solution)
        target.write_text(render(exercise_notebook(solution)), encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Generate, or with --check only compare; the exit code says whether all is in sync."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the exercise notebooks are in sync")
    args = parser.parse_args(argv)
    if args.check:
        stale = out_of_sync()
        for name in stale:
            print(f"notebooks/exercises/{name} is out of sync; run: python tools/make_exercises.py", file=sys.stderr)
        return 1 if stale else 0
    for path in generate():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
