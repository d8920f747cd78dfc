"""The package's house: its layers, declared here once, import strictly downward, and no import cycle exists.

A student reads the engine bottom-up (README, "Read the engine"); each layer may import only from its own
layer or the ones below, and a new module must be given a layer here before the test passes.
"""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hessian_lab"

# Bottom first. Within a layer imports may go either way, as long as they form no cycle; the two wings share a
# floor and may not import each other (test_the_wings_stand_on_the_core_alone).
LAYERS = [
    ("the ground", ["errors", "counting", "series", "corpus", "memory"]),
    ("nodes", ["node"]),
    ("the primitive table", ["ops", "arrays"]),
    ("the sweeps", ["backprop", "second_order"]),
    ("tracing", ["tracing", "families", "parse"]),
    ("the assignment's methods", ["hessian", "higher", "hessian_operator"]),
    ("the wings", ["fast", "fast.*", "beyond", "beyond.*"]),
    ("the table of methods", ["methods"]),
    ("the public layer", ["api"]),
    ("the teaching surfaces", ["scaling", "graph_layout", "plots", "widgets", "cli", "course", "__main__",
                               "exercises", "exercises.*", "hessian_lab"]),
]
WINGS = ("fast", "beyond")


def module_names():
    """Every module of the package as a dotted name below hessian_lab ("fast.tape"); the package itself is "hessian_lab"."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts) or "hessian_lab"] = path
    return names


def layer_of(name):
    """The index of the layer that declares `name` (a "pkg.*" entry declares every module below pkg), or None."""
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if name == member or (member.endswith(".*") and name.startswith(member[:-1])):
                return index
    return None


def imports_of(name, path, names):
    """The package modules that module `name` imports (relative or absolute), as names of module_names()."""
    package = [] if name == "hessian_lab" else name.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else None
            absolute = ".".join(["hessian_lab", *base, *([node.module] if node.module else [])]) if node.level \
                else (node.module or "")
            # `from A import b` imports the module A.b if there is one, else the name b of module A
            modules = [f"{absolute}.{alias.name}" if relative_name(f"{absolute}.{alias.name}") in names else absolute
                       for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found |= {relative_name(module) for module in modules if relative_name(module) in names}
    return found - {name}


def relative_name(module):
    """ "hessian_lab.fast.tape" -> "fast.tape", "hessian_lab" -> "hessian_lab"; other packages' names pass through."""
    if module == "hessian_lab":
        return module
    return module.removeprefix("hessian_lab.") if module.startswith("hessian_lab.") else f"<{module}>"


def import_graph():
    """{module: modules it imports} for the whole package."""
    names = module_names()
    return {name: imports_of(name, path, names) for name, path in names.items()}


def test_every_module_has_a_layer():
    """A new module is placed in the house on purpose: it must be declared in LAYERS."""
    missing = sorted(name for name in module_names() if layer_of(name) is None)
    assert not missing, f"declare these modules in a layer of tests/test_layers.py: {missing}"


def test_imports_go_strictly_downward():
    """No module imports from a layer above its own."""
    upward = [(name, target, LAYERS[layer_of(name)][0], LAYERS[layer_of(target)][0])
              for name, targets in import_graph().items() for target in targets
              if layer_of(name) is not None and layer_of(target) is not None and layer_of(target) > layer_of(name)]
    assert not upward, "imports that go up the house: " + "; ".join(f"{a} ({la}) imports {b} ({lb})" for a, b, la, lb in upward)


def test_the_package_has_no_import_cycle():
    """Depth-first search over the import graph finds no module that reaches itself."""
    graph = import_graph()
    state, cycles = {}, []

    def visit(name, path):
        """Walk on from name, noting any edge back into the current path."""
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_a_planted_upward_import(tmp_path, monkeypatch):
    """The layer test itself can fail: node importing ops (the old cycle) is reported as upward and as a cycle."""
    graph = import_graph()
    graph["node"] = graph["node"] | {"ops"}
    monkeypatch.setattr(sys.modules[__name__], "import_graph", lambda: graph)
    with pytest.raises(AssertionError, match="node .nodes. imports ops"):
        test_imports_go_strictly_downward()
    with pytest.raises(AssertionError, match="import cycles"):
        test_the_package_has_no_import_cycle()


def test_the_wings_stand_on_the_core_alone():
    """fast/ and beyond/ import only the core below them, never each other."""
    crossing = [(name, target) for name, targets in import_graph().items() for target in targets
                for wing, other in (WINGS, WINGS[::-1])
                if name.split(".")[0] == wing and target.split(".")[0] == other]
    assert not crossing, f"a wing imports the other: {crossing}"


def test_memory_knows_budgets_not_methods():
    """memory.py imports nothing of the package but errors: each method's estimate lives beside its own code."""
    assert import_graph()["memory"] <= {"errors"}


def test_the_checker_sees_a_wing_leaning_on_the_other(monkeypatch):
    """The wing test can fail: beyond.taylor importing fast.tape is reported."""
    graph = import_graph()
    graph["beyond.taylor"] = graph["beyond.taylor"] | {"fast.tape"}
    monkeypatch.setattr(sys.modules[__name__], "import_graph", lambda: graph)
    with pytest.raises(AssertionError, match="beyond.taylor"):
        test_the_wings_stand_on_the_core_alone()
