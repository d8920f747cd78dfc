#!/usr/bin/env python3
"""Re-execute the lab's notebooks in place, so that their stored outputs are what nbval checks.

Runs every notebooks/*.ipynb and notebooks/solutions/*.ipynb top to bottom (not the generated
notebooks/exercises/, which raise NotImplementedError on purpose), each with its own folder as
the working directory. Then it keeps the saved state of only the widgets an output shows (so that a reopened,
trusted notebook renders them instead of "Error displaying widget: model not found"), sets the kernelspec to
"python3", and fails if an output holds an absolute path of this machine or the widget state is over
MAX_WIDGET_STATE_BYTES.

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
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MODEL_REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]+)")
MAX_WIDGET_STATE_BYTES = 200_000


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


def shown_widget_state(nb: nbformat.NotebookNode) -> dict:
    """The saved state of every widget an output shows, and of the models it refers to (children, layouts, styles).

    Widgets no output shows (closed progress bars, links between controls) are left out: they draw nothing.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    wanted = [output["data"][WIDGET_VIEW]["model_id"] for cell in nb.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if WIDGET_VIEW in output.get("data", {})]
    kept = {}
    while wanted:
        model = wanted.pop()
        if model in state and model not in kept:
            kept[model] = state[model]
            wanted += MODEL_REFERENCE.findall(json.dumps(state[model]))
    return kept


def tidy(nb: nbformat.NotebookNode) -> None:
    """Keep only the widget state the outputs need, and pin the kernelspec, so that diffs show only real changes."""
    kept = shown_widget_state(nb)
    nb.metadata.pop("widgets", None)
    if kept:
        nb.metadata["widgets"] = {WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": kept}}
    nb.metadata["kernelspec"] = dict(KERNELSPEC)


def widget_state_bytes(nb: nbformat.NotebookNode) -> int:
    """The size of the saved widget state, as JSON."""
    return len(json.dumps(nb.metadata.get("widgets", {})))


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
        if widget_state_bytes(nb) > MAX_WIDGET_STATE_BYTES:
            problems.append(f"{shown}: saved widget state is {widget_state_bytes(nb):,} bytes, over "
                            f"{MAX_WIDGET_STATE_BYTES:,}")

    if problems:
        print("\n".join(["", "FAILED:", *problems]), file=sys.stderr)
        return 1
    print(f"executed {len(paths)} notebook(s) in place.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
