#!/usr/bin/env python3
"""Re-execute the lab's notebooks in place, so that their stored outputs are what nbval checks.

Runs every notebooks/*.ipynb and notebooks/solutions/*.ipynb top to bottom (not the generated
notebooks/exercises/, which raise NotImplementedError on purpose), each with its own folder as
the working directory. Then it strips saved widget state, sets the kernelspec to "python3", and
fails if an output holds an absolute path of this machine.

Usage (from the repository root, or via `make notebooks`):
    python tools/execute_notebooks.py [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_GLOBS = ("notebooks/*.ipynb", "notebooks/solutions/*.ipynb")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
# An output mentioning one of these leaks this machine's layout into the committed notebook.
ABSOLUTE_PATH = re.compile(r"/(?:work|root|home|tmp|Users)/")
CELL_TIMEOUT_S = 900


def default_notebooks() -> list[Path]:
    """Every notebook that `make notebooks` refreshes, in a stable order."""
    return sorted(p for pattern in NOTEBOOK_GLOBS for p in ROOT.glob(pattern))


def execute(path: Path) -> nbformat.NotebookNode:
    """Run one notebook top to bottom in its own folder and return it with fresh outputs."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        record_timing=False,  # no per-cell timestamps: they would change on every run
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def tidy(nb: nbformat.NotebookNode) -> None:
    """Drop saved widget state and pin the kernelspec, so that diffs show only real changes."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)


def leaked_paths(nb: nbformat.NotebookNode) -> list[str]:
    """Where an output holds an absolute path such as /home/... or /tmp/..."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = json.dumps(cell.get("outputs", []), ensure_ascii=False)
        for match in ABSOLUTE_PATH.finditer(text):
            start = max(0, match.start() - 40)
            found.append(f"cell {index}: ...{text[start:match.end() + 40]}...")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all lab notebooks")
    args = parser.parse_args(argv)

    # A backend set in the shell (e.g. MPLBACKEND=Agg) would stop inline figures in the kernel.
    os.environ.pop("MPLBACKEND", None)

    paths = [p.resolve() for p in args.notebooks] or default_notebooks()
    if not paths:
        print("No notebooks found under notebooks/ or notebooks/solutions/.", file=sys.stderr)
        return 1

    problems = []
    for path in paths:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"executing {shown} ...", flush=True)
        try:
            nb = execute(path)
        except CellExecutionError as exc:
            problems.append(f"{shown}: a cell raised an error (notebook left unchanged)\n{exc}")
            continue
        tidy(nb)
        nbformat.write(nb, path)
        problems += [f"{shown}: absolute path in an output, {where}" for where in leaked_paths(nb)]

    if problems:
        print("\n".join(["", "FAILED:", *problems]), file=sys.stderr)
        return 1
    print(f"executed {len(paths)} notebook(s) in place.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
