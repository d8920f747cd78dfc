"""Every notebook's Colab badge, install cell and Colab links come from tools/notebook_header.py's REPOSITORY."""

import importlib.util
import re
import sys
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("notebook_header", ROOT / "tools" / "notebook_header.py")
header = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(header)

OLD_INSTALL_CELL = (
    "import sys\n"
    'if "google.colab" in sys.modules:  # in Colab, install hessian-lab; elsewhere (and in CI) nothing happens\n'
    "    !pip install -q git+https://github.com/hessian-lab/hessian-lab"
)


def bare_notebook():
    """A notebook as written before the tool existed: a badge for another repository, the old install cell."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(
            "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            "(https://colab.research.google.com/github/old/place/blob/dev/notebooks/02_x.ipynb)\n\n# 2. Title"
        ),
        nbformat.v4.new_code_cell(OLD_INSTALL_CELL),
        nbformat.v4.new_markdown_cell(
            "Next: [3](03_y.ipynb) ([in Colab](https://colab.research.google.com/github/old/place/blob/dev/notebooks/03_y.ipynb))."
        ),
        nbformat.v4.new_code_cell("x = 1"),
    ])


@pytest.mark.parametrize("path", [*header.notebooks(), ROOT / header.README], ids=lambda p: header.relative(p))
def test_every_header_is_the_generated_one(path):
    """Badge, install cell and Colab links are what the tool writes (fix: python tools/notebook_header.py)."""
    text, wanted = header.expected_text(path)
    assert text == wanted, f"{header.relative(path)} is stale; run: python tools/notebook_header.py"


def test_every_colab_link_names_a_notebook_that_exists():
    """A Colab link to a renamed or missing notebook would open an error page in Colab."""
    for path in [*header.notebooks(), ROOT / header.README]:
        for match in header.COLAB_LINK.finditer(path.read_text(encoding="utf-8")):
            assert (ROOT / match.group(1)).is_file(), f"{header.relative(path)} links to {match.group(1)}"


def test_the_header_replaces_the_old_one_and_a_second_run_changes_nothing():
    """Badge and links move to REPOSITORY, the old !pip cell becomes the install cell, the rest is untouched."""
    nb = header.with_header(bare_notebook(), "notebooks/02_x.ipynb")
    once = nbformat.writes(nb)
    assert nbformat.writes(header.with_header(nb, "notebooks/02_x.ipynb")) == once
    assert len(nb.cells) == 4
    assert nb.cells[0].source == header.badge("notebooks/02_x.ipynb") + "\n\n# 2. Title"
    assert nb.cells[1].source == header.install_source()
    assert header.colab_url("notebooks/03_y.ipynb") in nb.cells[2].source
    assert "old/place" not in once
    assert nb.cells[3].source == "x = 1"


def test_a_notebook_without_a_header_gets_one_in_front():
    """No badge line and no install cell: both are inserted, ahead of the notebook's own first cells."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")])
    nb = header.with_header(nb, "notebooks/solutions/a_solution.ipynb")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[0].source == header.badge("notebooks/solutions/a_solution.ipynb") + "\n\n# Title"
    assert nb.cells[1].source == header.install_source()
    assert nb.cells[2].source == "x = 1"
    nbformat.validate(nb)


def test_a_fork_changes_one_line(monkeypatch):
    """With REPOSITORY and BRANCH changed, the badge, the pip URL and every Colab link follow."""
    monkeypatch.setattr(header, "REPOSITORY", "someone/lab-fork")
    monkeypatch.setattr(header, "BRANCH", "spring")
    text = nbformat.writes(header.with_header(bare_notebook(), "notebooks/02_x.ipynb"))
    assert "git+https://github.com/someone/lab-fork" in text
    links = re.findall(r"https://colab\.research\.google\.com/github/[^)\s\"]*", text)
    assert len(links) == 2
    assert all(link.startswith("https://colab.research.google.com/github/someone/lab-fork/blob/spring/") for link in links)


def run_install_cell(monkeypatch, *, in_colab, importable):
    """Run the install cell as IPython would; return the %-magics it called and how it ended."""
    magics = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: magics.append(f"%{name} {line}"))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if not importable:
        monkeypatch.setitem(sys.modules, "hessian_lab", None)  # import hessian_lab now raises ImportError
    code = TransformerManager().transform_cell(header.install_source())
    try:
        exec(compile(code, "install-cell", "exec"), {"get_ipython": lambda: shell})
    except SystemExit as stop:
        return magics, str(stop)
    return magics, None


def test_outside_colab_the_install_cell_installs_nothing_and_says_nothing(monkeypatch):
    """Outside Colab (and under nbval) the cell only imports hessian_lab, so its output stays empty."""
    assert run_install_cell(monkeypatch, in_colab=False, importable=True) == ([], None)


def test_in_colab_the_install_cell_pip_installs_this_repository(monkeypatch):
    """In Colab the cell runs %pip on REPOSITORY, then imports it."""
    magics, stop = run_install_cell(monkeypatch, in_colab=True, importable=True)
    assert magics == [f"%pip install -q git+https://github.com/{header.REPOSITORY}"]
    assert stop is None


def test_a_failed_install_stops_with_one_sentence_saying_what_to_do(monkeypatch):
    """Not a ModuleNotFoundError one cell later: SystemExit here, with a message fit for where it runs."""
    _, in_colab = run_install_cell(monkeypatch, in_colab=True, importable=False)
    _, elsewhere = run_install_cell(monkeypatch, in_colab=False, importable=False)
    assert in_colab.startswith("hessian-lab did not install") and "Restart session and run all" in in_colab
    assert elsewhere.startswith("hessian-lab is not installed") and "make lab" in elsewhere
    assert all(message.count(". ") == 0 and message.endswith(".") for message in (in_colab, elsewhere))
