"""The lesson notebooks as a student reads them: no exercise's answer in a code cell, links that work in Colab,
no progress bar saved half-way, and numbers in the prose that match the outputs they come from."""

import ast
import json
import posixpath
import re
import textwrap
from pathlib import Path

import pytest

import hessian_lab as hl

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION", re.M | re.S)
# What the engine offers a student to call: a solution's use of these, in order, is its fingerprint.
ENGINE_CALLS = {name for space in (hl, hl.Graph, hl.GradientGraph, hl.exercises) for name in dir(space)
                if not name.startswith("_")}
LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def cells(path, kind):
    """The sources of a notebook's cells of one kind ("code" or "markdown"), with their indices."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"]) if c["cell_type"] == kind]


def parse_cell(source):
    """A code cell as a Python module: IPython's %magic and !shell lines become `pass` at their indentation."""
    lines = [re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in source.splitlines()]
    return ast.parse("\n".join(lines))


class Anonymise(ast.NodeTransformer):
    """Every variable, argument and function name becomes `_`, and docstrings go: what is left is the code's shape."""

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id="_", ctx=node.ctx), node)

    def visit_arg(self, node):
        node.arg, node.annotation = "_", None
        return node

    def visit_FunctionDef(self, node):
        node.name = "_"
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node


def shape(statements):
    """The anonymised dump of a list of statements, comparable whatever the names."""
    module = Anonymise().visit(ast.Module(body=[ast.parse(ast.unparse(s)).body[0] for s in statements],
                                          type_ignores=[]))
    return [ast.dump(s) for s in module.body]


def statement_lists(tree):
    """Every list of statements in a tree: a module's body, a function's, a loop's, a branch's ..."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def engine_calls(tree):
    """(name, inside a loop) for each call of an engine name, in the order the source reads."""
    found = []

    def walk(node, in_loop):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in ENGINE_CALLS:
                found.append((name, in_loop))
        inner = in_loop or isinstance(node, LOOPS)
        for field, value in ast.iter_fields(node):
            looped = inner if not isinstance(node, (ast.For, ast.AsyncFor, ast.While)) or field != "iter" else in_loop
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    walk(child, looped)

    walk(tree, False)
    return found


def follows(fingerprint, calls):
    """Whether the solution's calls occur in `calls` in the same order, each one in a loop where the solution loops."""
    remaining = iter(calls)
    return all(any(name == n and (looped or not needs_loop) for n, looped in remaining)
               for name, needs_loop in fingerprint)


def solution_regions():
    """(label, statements) of every ### BEGIN/END SOLUTION region in notebooks/solutions/."""
    regions = []
    for path in SOLUTIONS:
        for index, source in cells(path, "code"):
            for match in SOLUTION_REGION.finditer(source):
                body = ast.parse(textwrap.dedent(match.group(1))).body
                regions.append((f"{path.name} cell {index}", body))
    return regions


REGIONS = solution_regions()


def holds_solution(tree, body):
    """Why a parsed cell holds this solution body ('' if it does not): its statements, or its sequence of engine calls."""
    wanted = shape(body)
    for block in statement_lists(tree):
        have = shape(block)
        if any(have[k:k + len(wanted)] == wanted for k in range(len(have) - len(wanted) + 1)):
            return "the same statements, up to names"
    fingerprint = engine_calls(ast.Module(body=body, type_ignores=[]))
    if fingerprint and follows(fingerprint, engine_calls(tree)):
        return "the same engine calls in the same order, looped where the solution loops: " + \
            ", ".join(name for name, _ in fingerprint)
    return ""


def test_there_are_solution_regions_to_compare_against():
    """Every solution notebook has at least one answer region (otherwise the test below compares nothing)."""
    assert {label.split(" cell")[0] for label, _ in REGIONS} == {p.name for p in SOLUTIONS} and len(SOLUTIONS) == 3


@pytest.mark.parametrize("label, body", REGIONS, ids=[label for label, _ in REGIONS])
def test_the_check_finds_a_solution_under_other_names(label, body):
    """A solution body with every name changed, inside a function of another name, is found by both checks."""
    renamer = ast.NodeTransformer()
    renamer.visit_Name = lambda node: ast.copy_location(ast.Name(id=f"my_{node.id}" if node.id not in ("hl", "np")
                                                                    else node.id, ctx=node.ctx), node)
    disguised = ast.parse("def my_method(trace, point):\n    pass")
    disguised.body[0].body = [renamer.visit(ast.parse(ast.unparse(s)).body[0]) for s in body]
    tree = ast.parse(ast.unparse(disguised))
    assert holds_solution(tree, body) == "the same statements, up to names"
    assert holds_solution(tree, body[:-1] + [ast.parse("result = 0").body[0]]) != ""  # its engine calls are still there
    assert holds_solution(ast.parse("x = hl.hessian(f, x0)"), body) == ""


# Notebook 4 as it was: exercise 3's loop written out with explicit for-loops instead of the solution's comprehensions.
OLD_NOTEBOOK_4 = """
with hl.counting() as work:
    g = hl.trace(f, n); G = g.gradient_graph()
    T = np.zeros((n, n, n))
    for i_ in range(n):
        second = hl.backprop(G.output(i_), g.inputs)
        for j_ in range(n):
            values = hl.evaluate(hl.topological_order([second[j_]]), x0)
            T[i_, j_] = hl.backprop(second[j_], g.inputs, at=values)
"""


def test_the_check_finds_an_answer_rewritten_with_other_loops():
    """Exercise 3's answer spelled with for-loops, as notebook 4 once held it, is found by its engine calls."""
    (body,) = [body for label, body in REGIONS if label.startswith("ex3")]
    assert holds_solution(ast.parse(OLD_NOTEBOOK_4), body).startswith("the same engine calls")
    one_entry = OLD_NOTEBOOK_4.replace("for i_ in range(n):", "if True:").replace("for j_ in range(n):", "if True:")
    assert holds_solution(ast.parse(one_entry), body) == ""  # one entry, no loop: the idea, not the answer


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_lesson_code_cell_holds_an_exercises_answer(path):
    """No code cell of a lesson contains the body of a solution (issue 22): lessons use and show the engine's methods."""
    found = []
    for index, source in cells(path, "code"):
        tree = parse_cell(source)
        for label, body in REGIONS:
            why = holds_solution(tree, body)
            if why:
                found.append(f"cell {index} holds the answer of {label}: {why}")
    assert not found, "\n".join(found)


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_relative_link_has_a_colab_or_github_link_beside_it(path):
    """A relative link is dead inside Colab, so the same cell links the same file in Colab (notebooks) or on GitHub."""
    missing = []
    for index, source in cells(path, "markdown"):
        targets = LINK.findall(source)
        absolute = [t for t in targets if t.startswith("https://")]
        for target in targets:
            if target.startswith(("https://", "http://", "#")):
                continue
            in_repo = posixpath.normpath(posixpath.join("notebooks", target.split("#")[0]))
            if not any(url.endswith("/" + in_repo) and ("colab.research.google.com" in url or "github.com" in url)
                       for url in absolute):
                missing.append(f"cell {index}: {target}")
    assert not missing, "relative links with no Colab or GitHub link beside them: " + ", ".join(missing)


def outputs_text(path):
    """Every text output of a notebook, per code cell index: streams and text/plain results."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    texts = {}
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        parts = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append("".join(output["text"]))
            elif "text/plain" in output.get("data", {}):
                parts.append("".join(output["data"]["text/plain"]))
        texts[index] = "\n".join(parts)
    return texts


def unfinished_bar(line):
    """Whether a line of text is a progress bar that had not reached its end ("  0%|          | 0/5 [...")."""
    bar = re.search(r"\d+%\|.*?\|\s*(\d+)/(\d+)", line)
    return bool(bar) and bar.group(1) != bar.group(2)


def test_the_progress_check_sees_a_bar_stuck_at_zero():
    """The check below can fail: tqdm's first line is unfinished, its last is not."""
    assert unfinished_bar("rosenbrock (banded H):   0%|          | 0/5 [00:00<?, ?it/s]")
    assert not unfinished_bar("rosenbrock (banded H): 100%|██████████| 5/5 [00:01<00:00]")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_progress_bar_is_saved_unfinished(path):
    """A saved progress bar reads as stuck before the notebook runs: what is saved is its finished line, or nothing."""
    stuck = [f"cell {i}: {line.strip()}" for i, text in outputs_text(path).items() for line in text.splitlines()
             if unfinished_bar(line)]
    assert not stuck, stuck


def prose(path, pattern):
    """Every match of a regular expression in the notebook's markdown cells."""
    return [m for _, source in cells(path, "markdown") for m in re.finditer(pattern, source)]


def printed(path, pattern):
    """The one match of a regular expression in the notebook's text outputs (exactly one must exist)."""
    found = [m for text in outputs_text(path).values() for m in re.finditer(pattern, text)]
    assert len(found) == 1, f"{pattern!r} printed {len(found)} times in {path.name}"
    return found[0]


def numbers(text):
    """The decimal numbers in a piece of text."""
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text.replace("−", "-"))]


NOTEBOOK = {path.name[:2]: path for path in LESSONS}


def test_notebook_5_says_what_one_product_costs_as_measured():
    """'1.7 to 2.7 gradients' in the prose is the range of the printed ratios of one Hv to one gradient."""
    path = NOTEBOOK["05"]
    ratios = [x for m in re.finditer(r"one Hv / one gradient = \[([^\]]*)\]", outputs_text(path)[8])
              for x in numbers(m.group(1))]
    claims = prose(path, r"(\d\.\d) to (\d\.\d)(?: of them)?,? (?:measured|here)")
    assert len(claims) == 3 and len(ratios) == 10
    for claim in claims:
        assert (float(claim.group(1)), float(claim.group(2))) == (round(min(ratios), 1), round(max(ratios), 1))
    assert not prose(path, r"about one gradient|≈ one gradient")


def test_notebook_7_conditioning_numbers_are_the_printed_ones():
    """κ ≈ 24, 0.85 per step, at most 140 steps, 150 steps, and λ^-0.65 are what the cells print."""
    path = NOTEBOOK["07"]
    kappa = float(printed(path, r"condition number κ = ([\d.]+)").group(1))
    bound = printed(path, r"\(\(κ−1\)/\(κ\+1\)\)² = ([\d.]+): at most (\d+) steps .*? took (\d+) steps")
    slope = float(printed(path, r"fitted slope of log κ against log λ: (-?[\d.]+)").group(1))
    (kappa_claim,) = prose(path, r"\\kappa \\approx (\d+)\$ that is about \$([\d.]+)\$ per step: at most (\d+) steps")
    assert float(kappa_claim.group(1)) == round(kappa)
    assert float(kappa_claim.group(2)) == float(bound.group(1))
    assert kappa_claim.group(3) == bound.group(2)
    (gd_claim,) = prose(path, r"the run above took (\d+) steps")
    assert gd_claim.group(1) == bound.group(3)
    (slope_claim,) = prose(path, r"like \$\\lambda\^\{(-[\d.]+)\}\$ here")
    assert float(slope_claim.group(1)) == round(slope, 2)
    assert not prose(path, r"\\kappa \\propto 1/\\lambda|steps\s+grow in proportion to")


def test_notebook_4_growth_factors_are_below_what_the_prose_says():
    """'below 3' for every measured growth factor per level, as printed."""
    path = NOTEBOOK["04"]
    factors = [x for m in re.finditer(r"growth per level \[([^\]]*)\]", outputs_text(path)[25]) for x in numbers(m.group(1))]
    assert len(factors) == 12 and max(factors) < 3
    assert prose(path, r"stays below 3")


def test_notebook_3_pruning_numbers_are_the_printed_ones():
    """'exactly a factor n = 8 above' and the per-node slopes the prose reads off are the printed ones."""
    path = NOTEBOOK["03"]
    slopes = printed(path, r"slope of visits / \|G\| against n:(.*)").group(1)
    per_family = {name: (float(naive), float(rows))
                  for name, naive, rows in re.findall(r"(\w+) naive (-?[\d.]+), rows (-?[\d.]+)", slopes)}
    assert set(per_family) == {"rosenbrock", "logsumexp", "deep_chain", "banded_chain"}
    for naive, rows in per_family.values():
        assert naive - rows == pytest.approx(1.0, abs=0.011)  # "one more in every slope"
    assert per_family["deep_chain"][1] == pytest.approx(1.0, abs=0.1)  # "runs along" the bound n
    assert abs(per_family["rosenbrock"][1]) < 0.1 and abs(per_family["banded_chain"][1]) < 0.1  # "a factor n below"
    assert prose(path, r"exactly a factor \$n = 8\$ above")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_saved_widget_has_its_state_saved_too(path):
    """A reopened, trusted notebook renders each widget from saved state; without it JupyterLab shows 'model not found'.

    Every widget an output shows has its model saved, with the models it refers to, in under 200 kB per notebook.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    state = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    shown = [output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for cell in nb["cells"] if cell["cell_type"] == "code" for output in cell.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    referred = {ref for model in state.values() for ref in re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(model))}
    assert set(shown) | referred <= set(state)
    assert len(json.dumps(nb["metadata"].get("widgets", {}))) < 200_000
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert all(m.get("buffers") for m in images) and len(images) == len(shown)  # each view's one picture, in its state


def test_exercise_1_states_the_constant_of_g_it_prints():
    """'about 2.4 for the engine's G (2.2 to 2.5 ...)' in the prose is the printed range of edges of G per edge of f;
    no '3 per edge' is claimed for the engine's G, which has fewer."""
    path = ROOT / "notebooks" / "solutions" / "ex1_backprop_solution.ipynb"
    low, high = map(float, printed(path, r"the engine's G: ([\d.]+) to ([\d.]+) edges per edge of f").groups())
    (claim,) = prose(path, r"about ([\d.]+) for the engine's G \(([\d.]+) to ([\d.]+) over these sizes\)")
    about, claim_low, claim_high = map(float, claim.groups())
    assert (claim_low, claim_high) == (low, high)
    assert low <= about <= high
    assert not prose(path, r"constant of about 3|about 3 per edge")
