"""Every notebook's Colab badge, install cell and Colab links come from tools/notebook_header.py's REPOSITORY."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

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
    assert r'SOURCE = \"https://github.com/someone/lab-fork\"' in text  # the pip URL, as JSON writes it
    links = re.findall(r"https://colab\.research\.google\.com/github/[^)\s\"]*", text)
    assert len(links) == 2
    assert all(link.startswith("https://colab.research.google.com/github/someone/lab-fork/blob/spring/") for link in links)


# Runs an install cell in a real IPython shell, in a fresh interpreter: the cell's code comes on stdin; argv says
# whether to pretend to be in Colab and whether hessian_lab can be imported. Exit code 0 when the cell succeeded.
CELL_RUNNER = """
import sys, types
if sys.argv[1] == "colab":
    sys.modules["google.colab"] = types.ModuleType("google.colab")
if sys.argv[2] == "unimportable":
    sys.modules["hessian_lab"] = None  # import hessian_lab now raises ImportError
from IPython.core.interactiveshell import InteractiveShell
sys.exit(0 if InteractiveShell.instance().run_cell(sys.stdin.read()).success else 1)
"""
# A stand-in for pip, found first on PYTHONPATH: it writes its arguments to $FAKE_PIP_LOG, prints $FAKE_PIP_NOISE
# lines and exits with $FAKE_PIP_EXIT.
FAKE_PIP = """
import os, sys
with open(os.environ["FAKE_PIP_LOG"], "w") as log:
    log.write(" ".join(sys.argv[1:]))
for line in range(int(os.environ["FAKE_PIP_NOISE"])):
    print(f"pip noise line {line}", file=sys.stderr)
sys.exit(int(os.environ["FAKE_PIP_EXIT"]))
"""
NOISE = ("restart", "Traceback", "SystemExit", "UserWarning", "InstallError", "subprocess-exited-with-error",
         "%tb", "note:")


def run_install_cell(tmp_path, *, in_colab, importable=True, pip="fake", pip_exit=0, noise=0):
    """Run the generated install cell as a notebook would, in a subprocess; return (succeeded, output, pip's argv).

    pip="fake" puts FAKE_PIP first on the path; pip="unreachable" runs the real pip with every HTTPS connection
    sent to a closed port on 127.0.0.1, as when GitHub cannot be reached (nothing leaves the machine).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if pip == "fake":
        (tmp_path / "pip").mkdir()
        (tmp_path / "pip" / "__main__.py").write_text(FAKE_PIP)
        (tmp_path / "pip" / "__init__.py").write_text("")
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
        env.update(FAKE_PIP_LOG=str(tmp_path / "pip.log"), FAKE_PIP_EXIT=str(pip_exit), FAKE_PIP_NOISE=str(noise))
    else:
        closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
        env.update(https_proxy=closed, HTTPS_PROXY=closed, http_proxy=closed, HTTP_PROXY=closed, no_proxy="",
                   NO_PROXY="", GIT_TERMINAL_PROMPT="0", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run([sys.executable, "-c", CELL_RUNNER, "colab" if in_colab else "local",
                           "importable" if importable else "unimportable"], input=header.install_source(),
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    log = tmp_path / "pip.log"
    return done.returncode == 0, (done.stdout + done.stderr).strip(), log.read_text() if log.exists() else None


def test_outside_colab_the_install_cell_installs_nothing_and_says_nothing(tmp_path):
    """Outside Colab (and under nbval) the cell only imports hessian_lab, so its output stays empty."""
    assert run_install_cell(tmp_path, in_colab=False) == (True, "", None)


def test_in_colab_the_install_cell_pip_installs_this_repository_quietly(tmp_path):
    """In Colab the cell runs pip on REPOSITORY, then imports it; what pip prints on success is not shown."""
    succeeded, output, pip_args = run_install_cell(tmp_path, in_colab=True, noise=3)
    assert (succeeded, output) == (True, "")
    assert pip_args == f"install -q git+https://github.com/{header.REPOSITORY}"


def test_an_unreachable_repository_is_said_in_one_sentence_with_what_will_work(tmp_path):
    """The real pip, with GitHub out of reach: the student reads one sentence naming the repository it could not
    reach and what to do, then git's own line; no pip noise, no 'restart the kernel', no traceback or warning."""
    succeeded, output, _ = run_install_cell(tmp_path, in_colab=True, pip="unreachable")
    assert not succeeded
    lines = output.splitlines()
    assert lines[0] == (f"hessian-lab did not install because pip could not reach https://github.com/"
                        f"{header.REPOSITORY}: check that this address opens in your browser, then use "
                        "Runtime → Run all again."), output
    assert len(lines) == 2 and lines[1].startswith("git said: fatal: unable to access"), output
    assert not [word for word in NOISE if word in output], output


def test_another_pip_failure_shows_one_sentence_and_the_end_of_pips_output(tmp_path):
    """pip reached the repository but failed: one sentence, then only pip's last five lines."""
    succeeded, output, _ = run_install_cell(tmp_path, in_colab=True, pip_exit=1, noise=40)
    assert not succeeded
    assert output.splitlines() == [
        "hessian-lab did not install (the end of pip's output is below): use Runtime → Disconnect and delete "
        "runtime, then Runtime → Run all.", *(f"pip noise line {line}" for line in range(35, 40))], output
    assert not [word for word in NOISE if word in output], output


def test_a_failed_import_stops_with_one_sentence_saying_what_to_do(tmp_path):
    """Not a ModuleNotFoundError one cell later: the cell fails with one sentence fit for where it runs."""
    (tmp_path / "colab").mkdir()
    (tmp_path / "local").mkdir()
    in_colab = run_install_cell(tmp_path / "colab", in_colab=True, importable=False)
    elsewhere = run_install_cell(tmp_path / "local", in_colab=False, importable=False)
    assert in_colab[:2] == (False, "hessian-lab installed but does not import in this session: use Runtime → "
                                   "Restart session and run all.")
    assert elsewhere[:2] == (False, "hessian-lab is not installed for this kernel: run `make lab` in the "
                                    "repository, then reopen the notebook.")
