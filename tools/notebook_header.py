#!/usr/bin/env python3
"""Write each notebook's Open-in-Colab badge, its install cell and its Colab links from one repository path.

A fork changes REPOSITORY (and BRANCH, if it publishes another branch) below, runs this tool, and every
notebook follows. The tool owns three things in a notebook and touches nothing else:
- the first line of the first cell: the Open-in-Colab badge for that notebook;
- the second cell: the install cell (in Colab it pip-installs hessian-lab, showing pip's output only if
  that fails; elsewhere it installs nothing; either way it imports hessian_lab and, if installing or
  importing fails, stops Run All with one sentence saying what failed and what to do, instead of a
  ModuleNotFoundError one cell later);
- every link in a markdown cell to a notebook in Colab (https://colab.research.google.com/github/
  OWNER/NAME/blob/BRANCH/notebooks/...), rewritten to REPOSITORY and BRANCH. Relative links between
  notebooks work in JupyterLab and on GitHub but not in Colab, so the notebooks put a Colab link beside
  them; this keeps those beside-links pointing at the right repository.
The same Colab links in README.md are rewritten too. Running the tool twice changes nothing the second time.

Usage (from the repository root):
    python tools/notebook_header.py            rewrite every notebook (and README.md) whose header differs
    python tools/notebook_header.py --check    only report; exit 1 if any header differs
    python tools/notebook_header.py [--check] notebooks/01_graphs_and_backprop.ipynb ...
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

# The one place that names the repository: "owner/name" on GitHub, and the branch Colab opens.
REPOSITORY = "hessian-lab/hessian-lab"
BRANCH = "main"

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_GLOBS = ("notebooks/*.ipynb", "notebooks/solutions/*.ipynb", "notebooks/exercises/*.ipynb")
README = "README.md"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)[ \t]*$")
# A Colab link to one of the lab's notebooks, in any repository or branch: group 1 is the notebook's path.
COLAB_LINK = re.compile(
    r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w./-]+?/(notebooks/[^)\s\"'>]*)"
)
# The install cell is recognised by this first line, whatever the rest of it says.
INSTALL_FIRST_LINE = "# Install hessian-lab in Colab; elsewhere this only checks that it can be imported."
# Ids for cells the tool inserts, fixed so that inserting is as reproducible as rewriting.
BADGE_CELL_ID = "colab-badge"
INSTALL_CELL_ID = "install-hessian-lab"


def colab_url(path: str) -> str:
    """The Colab address of a file of this repository, given its path from the repository root."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{path}"


def badge(path: str) -> str:
    """The markdown line of the Open-in-Colab badge for the notebook at `path`."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(path)})"


def install_source() -> str:
    """The install cell's code: pip only inside Colab, quiet unless it fails; then an import that fails with one
    clear sentence.

    pip runs as a subprocess whose output is kept, not as %pip: %pip prints every line of a failure and then
    "you may need to restart the kernel", which cannot help when the repository was never reached. A failure
    raises InstallError, which IPython shows as its message alone (its _render_traceback_), so Run All stops
    with no traceback and no SystemExit warning.
    """
    return f'''{INSTALL_FIRST_LINE}
import importlib
import subprocess
import sys

IN_COLAB = "google.colab" in sys.modules
SOURCE = "https://github.com/{REPOSITORY}"


class InstallError(Exception):
    """Stops Run All showing only its message: IPython prints _render_traceback_'s lines instead of a traceback."""

    def _render_traceback_(self):
        return str(self).splitlines()


if IN_COLAB:
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{{SOURCE}}"], capture_output=True, text=True)
    said = [line.strip() for line in (pip.stdout + pip.stderr).splitlines() if line.strip()]
    git_said = [line for line in said if line.startswith("fatal:")]  # git could not fetch the repository
    if pip.returncode != 0 and git_said:
        raise InstallError(f"hessian-lab did not install because pip could not reach {{SOURCE}}: check that this "
                           "address opens in your browser, then use Runtime → Run all again.\\ngit said: " + git_said[0])
    if pip.returncode != 0:
        raise InstallError("hessian-lab did not install (the end of pip's output is below): use Runtime → "
                           "Disconnect and delete runtime, then Runtime → Run all.\\n" + "\\n".join(said[-5:]))
    importlib.invalidate_caches()  # so that this running kernel sees the files pip just wrote
try:
    import hessian_lab  # noqa: F401
except ImportError:
    raise InstallError(
        "hessian-lab installed but does not import in this session: use Runtime → Restart session and run all."
        if IN_COLAB
        else "hessian-lab is not installed for this kernel: run `make lab` in the repository, then reopen the notebook."
    ) from None'''


def rewrite_links(text: str) -> str:
    """`text` with every Colab link to a lab notebook pointing at REPOSITORY and BRANCH."""
    return COLAB_LINK.sub(lambda m: colab_url(m.group(1)), text)


def is_install_cell(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell is an install cell this tool wrote, or the older `!pip install` cell it replaces."""
    return cell.cell_type == "code" and (
        cell.source.startswith(INSTALL_FIRST_LINE) or ("google.colab" in cell.source and "pip install" in cell.source)
    )


def with_header(nb: nbformat.NotebookNode, path: str) -> nbformat.NotebookNode:
    """Put the badge, the install cell and the Colab links for the notebook at `path` (from the root) into nb."""
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown":
        cells.insert(0, nbformat.v4.new_markdown_cell(badge(path), id=BADGE_CELL_ID))
    lines = cells[0].source.split("\n")
    if BADGE_LINE.match(lines[0]):
        lines[0] = badge(path)
    else:
        lines[:0] = [badge(path), ""]
    cells[0].source = "\n".join(lines)

    if len(cells) < 2 or not is_install_cell(cells[1]):
        cells.insert(1, nbformat.v4.new_code_cell(install_source(), id=INSTALL_CELL_ID))
    elif cells[1].source != install_source():
        cells[1].source = install_source()
        cells[1].outputs = []  # outputs of the old source say nothing about the new one

    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source)
    return nb


def notebooks() -> list[Path]:
    """Every notebook of the lab, in a stable order."""
    return sorted(p for pattern in NOTEBOOK_GLOBS for p in ROOT.glob(pattern))


def relative(path: Path) -> str:
    """A path as seen from the repository root, with forward slashes (as in a URL)."""
    return path.resolve().relative_to(ROOT).as_posix()


def render(nb: nbformat.NotebookNode) -> str:
    """A notebook as nbformat.write puts it on disk."""
    return nbformat.writes(nb) + "\n"


def expected_text(path: Path) -> tuple[str, str]:
    """(text on disk, text with the generated header) for a notebook or README.md."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return text, rewrite_links(text)
    nb = nbformat.reads(text, as_version=4)
    return text, render(with_header(nb, relative(path)))


def main(argv: list[str] | None = None) -> int:
    """Rewrite, or with --check only compare; the exit code says whether every header is the generated one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report headers that differ; exit 1 if any do")
    parser.add_argument("paths", nargs="*", type=Path, help="default: every notebook, and README.md")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or [*notebooks(), ROOT / README]

    stale = []
    for path in paths:
        text, wanted = expected_text(path)
        if text == wanted:
            continue
        stale.append(relative(path))
        if not args.check:
            path.write_text(wanted, encoding="utf-8")
            print(f"wrote {relative(path)}")
    if args.check:
        for name in stale:
            print(f"{name}: its Colab badge, install cell or Colab links are not the generated ones; "
                  "run: python tools/notebook_header.py", file=sys.stderr)
        return 1 if stale else 0
    if not stale:
        print("every header is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
