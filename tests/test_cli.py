"""The command line: labelled output for people, --json for programs, exit code 2 and no traceback for mistakes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hessian_lab as hl
from hessian_lab import cli

EXPR = "z + sin(x^(2) + (y * exp(z)))"
AT = "x=1,y=2,z=0.5"
X0 = [1.0, 2.0, 0.5]
F = hl.parse(EXPR)[0]


def run(capsys, *argv):
    """main(argv) in this process: (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    """main(argv + --json), which must succeed and print strict JSON (no NaN): the parsed object."""
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


def test_grad_json_has_variables_point_and_gradient(capsys):
    """--json: variables in alphabetical order, the point by name, the gradient in that order."""
    result = run_json(capsys, "grad", EXPR, "--at", "z=0.5,y=2", "--at", "x=1")
    assert result["variables"] == ["x", "y", "z"]
    assert result["point"] == {"x": 1.0, "y": 2.0, "z": 0.5}
    assert result["gradient"] == hl.gradient(F, X0).tolist()
    assert "stats" not in result


@pytest.mark.parametrize("method", ["auto", *hl.HESSIAN_METHODS])
def test_hessian_json_for_every_method(capsys, method):
    """hessian --method M gives hl.hessian(f, x0, method=M), and names the method it ran."""
    result = run_json(capsys, "hessian", EXPR, "--at", AT, "--method", method)
    expected, stats = hl.hessian(F, X0, method=method, return_stats=True)
    assert result["method"] == stats["method"]
    assert np.array_equal(result["hessian"], expected)


def test_stats_are_the_engines_counts(capsys):
    """--stats reports the exact work: the rows method makes n passes, the naive one n^2."""
    rows = run_json(capsys, "hessian", EXPR, "--at", AT, "--method", "rows", "--stats")["stats"]
    naive = run_json(capsys, "hessian", EXPR, "--at", AT, "--method", "naive", "--stats")["stats"]
    assert (rows["n"], rows["passes"], naive["passes"]) == (3, 3, 9)
    assert naive["visits"] == 3 * rows["visits"]


def test_stats_with_no_edges_stay_strict_json(capsys):
    """f = x has m = 0, so |G|/|f| is NaN; --json prints it as null, not as the non-JSON NaN."""
    result = run_json(capsys, "hessian", "x", "--at", "x=3", "--method", "rows", "--stats")
    assert result["hessian"] == [[0.0]] and result["stats"]["G_over_f"] is None


def test_tensor_json(capsys):
    """tensor --order 3 gives every third derivative, as nested lists of shape (n, n, n)."""
    result = run_json(capsys, "tensor", EXPR, "--order", "3", "--at", AT)
    assert result["order"] == 3
    assert np.array_equal(result["tensor"], hl.derivative_tensor(F, X0, 3))


def test_hessian_for_people_is_a_labelled_aligned_matrix(capsys):
    """The matrix has the variable names along both sides, right-aligned columns, and the values shown."""
    code, out, err = run(capsys, "hessian", "x^2*y + y^3", "--at", "x=1,y=2", "--digits", "4")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == ["f(x, y) = x^2*y + y^3", "at x = 1, y = 2", ""]
    header, row_x, row_y = lines[-3:]
    assert header.split() == ["x", "y"] and row_x.split() == ["x", "4", "2"] and row_y.split() == ["y", "2", "12"]
    assert len({len(header), len(row_x), len(row_y)}) == 1
    assert header.rindex("y") == row_x.rindex("2") == row_y.rindex("2")


def test_gradient_and_tensor_for_people(capsys):
    """grad prints name-value lines; an order-3 tensor prints one labelled matrix per first index."""
    code, out, _ = run(capsys, "grad", "x^2*y", "--at", "x=3,y=-1")
    assert code == 0 and out.splitlines()[-2:] == ["x  -6", "y  9"]
    code, out, _ = run(capsys, "tensor", "x^2*y", "--order", "3", "--at", "x=3,y=-1")
    assert code == 0 and "T[x, :, :] =" in out and "T[y, :, :] =" in out
    code, out, _ = run(capsys, "tensor", "x^2*y", "--order", "1", "--at", "x=3,y=-1")
    assert code == 0 and out.splitlines()[-2:] == ["x  -6", "y  9"]


def test_values_may_be_constant_expressions(capsys):
    """--at accepts 1/4, -2e-1 and 2^-1 as values, in the course syntax."""
    result = run_json(capsys, "grad", "x*y*z", "--at", "x=1/4,y=-2e-1,z=2^-1")
    assert result["point"] == {"x": 0.25, "y": -0.2, "z": 0.5}


def test_an_expression_starting_with_minus_goes_after_double_dash(capsys):
    """argparse would read -x^2 as an option; after -- it is the expression."""
    code, out, _ = run(capsys, "grad", "--json", "--at", "x=1", "--", "-x^2")
    assert code == 0 and json.loads(out)["gradient"] == [-2.0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["grad", "x*y*z", "--at", "x=1"], "--at has no value for y, z (the expression's variables are x, y, z)"),
        (["grad", "x*y", "--at", "x=1,y=2,w=3,v=4"], "--at gives w, v, which the expression does not use"),
        (["grad", "x*y", "--at", "x=1,w=3"], "--at has no value for y; --at gives w, which"),
        (["grad", "x*y", "--at", "x=1,y=2,x=3"], "--at gives x twice"),
        (["grad", "x*y", "--at", "x=1,y"], "name=value pairs separated by commas"),
        (["grad", "x*y", "--at", "x=1,y=z"], "--at y=z: a value must be a finite number"),
        (["grad", "x", "--at", "x=nan"], "--at x=nan: a value must be a finite number"),
        (["grad", "x*y", "--at", "x=1,y=2)"], "--at y=2): column 2: this ')' has no matching '('"),
        (["grad", "x*y", "--at", "x=1,y=1/0"], "div(1, 0) is outside the domain of div"),
        (["grad", "log(x)", "--at", "x=-1"], "log(-1) is outside the domain of log"),
        (["grad", "2 + 3", "--at", "x=1"], "has no variables"),
        (["grad", "x + foo(y)", "--at", "x=1,y=2"], "column 5: unknown function 'foo'"),
        (["grad", "__import__('os')", "--at", "x=1"], "column 1: unexpected character '_'"),
        (["tensor", "x*y", "--order", "4", "--at", "x=1,y=2", "--method", "nested"], "unrecognized arguments"),
        (["tensor", "x*y", "--order", "0", "--at", "x=1,y=2"], "expected a whole number from 1 to"),
        (["hessian", "x*y", "--at", "x=1,y=2", "--method", "fast"], "invalid choice: 'fast'"),
        (["grad", "x*y", "--at", "x=1,y=2", "--digits", "many"], "expected a whole number, not 'many'"),
        (["grad", "x*y"], "the following arguments are required: --at"),
        (["integrate", "x"], "invalid choice: 'integrate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_user_mistakes_exit_2_with_a_message_and_no_traceback(capsys, argv, message):
    """Every mistake in the input is one message on stderr, exit code 2, nothing on stdout, no traceback."""
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err


def test_help_exits_0(capsys):
    """--help prints the usage with examples and exits 0."""
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "hessian-lab grad" in out and "examples:" in out


def test_a_dense_result_too_large_is_refused_with_the_sparse_hint(capsys):
    """An order-8 tensor of 20 variables (2e10 entries) is a MemoryLimitError before any work: exit 2."""
    expression = " + ".join(f"x{k}" for k in range(20))
    point = ",".join(f"x{k}=1" for k in range(20))
    code, out, err = run(capsys, "tensor", expression, "--order", "8", "--at", point)
    assert (code, out) == (2, "") and "limit" in err and "hvp" in err


def test_ctrl_c_exits_130_without_a_traceback(capsys, monkeypatch):
    """A KeyboardInterrupt during the computation ends the command with code 130 and one line."""

    def interrupted(*args, **kwargs):
        """Stand-in for a long computation that the user interrupts."""
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.api.Graph, "hessian", interrupted)
    code, out, err = run(capsys, "hessian", EXPR, "--at", AT)
    assert (code, out, err) == (130, "", "hessian-lab: interrupted\n")


def test_draw_writes_an_image(capsys, tmp_path):
    """draw saves f's graph beside G as a PNG."""
    pytest.importorskip("matplotlib")
    target = tmp_path / "graph.png"
    code, out, err = run(capsys, "draw", EXPR, "-o", str(target))
    assert (code, err) == (0, "") and str(target) in out
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name, message", [("missing/graph.png", "No such file"), ("graph.nope", "not supported")])
def test_draw_to_a_bad_file_is_a_user_error(capsys, tmp_path, name, message):
    """An unwritable path or an unknown image format is a message and exit code 2."""
    pytest.importorskip("matplotlib")
    code, out, err = run(capsys, "draw", "x*y", "-o", str(tmp_path / name))
    assert (code, out) == (2, "") and message in err and "Traceback" not in err


def command_line():
    """The ways to start the command line here: python -m hessian_lab, and the installed hessian-lab if any."""
    ways = [[sys.executable, "-m", "hessian_lab"]]
    installed = shutil.which("hessian-lab", path=str(Path(sys.executable).parent))
    if installed:
        ways.append([installed])
    return ways


@pytest.mark.parametrize("start", command_line(), ids=lambda start: Path(start[-1]).name)
def test_the_command_line_runs_as_a_program(start):
    """As a real process: the answer on stdout and exit 0; a mistake gives exit 2 and no traceback."""
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    argv = [*start, "grad", "x^2*y", "--at", "x=3,y=-1", "--json"]
    ok = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["gradient"] == [-6.0, 9.0]
    bad = subprocess.run([*start, "grad", "x^2*y", "--at", "x=3"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "no value for y" in bad.stderr and "Traceback" not in bad.stderr
