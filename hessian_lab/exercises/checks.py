"""hl.exercises.check(name, student_fn): values, cost and robustness of a student's function, in plain words.

Every exercise function receives the trace g = hl.trace(f, n, at=x0) (and x0), so that the orientation
probe can hand it a StandInTrace through the same door (see probe.py): nothing in the engine is patched.
The work is counted by a sealed hl.counting block, which `uncounted()` cannot pause and which sees every
finished engine method that ran (`methods`), and by the process-wide count of local partials, which any
sweep applies in any thread or context (`partials`).
"""

from typing import Callable, NamedTuple, Optional

import numpy as np

from .. import api
from ..api import trace
from ..backprop import evaluate
from ..counting import counting, process_totals
from ..errors import HessianLabError
from ..node import Node, count_edges, to_text, topological_order
from .cost import Bound, judge_cost
from .probe import probe_orientation
from .problems import HESSIAN_SIZES, SWEEP_SIZES, THIRD_SIZES, Problem, VALUE_PROBLEMS, shared_subexpressions, tanh_mlp
from .result import CheckResult
from .student import StudentError, call_student
from .sweeps import tally
from .values import VALUE_KINDS, judge


class Exercise(NamedTuple):
    """How to call one exercise's function, what it must return, and the cost it must reach."""

    args: Callable  # (g, point) -> the arguments of the student's function; g is a fresh trace of the problem's f
    expected: Callable  # problem -> the engine's exact answer, an ndarray
    label: str  # the answer's name in messages: "∇f", "H", "T"
    bounds: list
    family: Callable  # the function whose sizes the cost is measured on
    sizes: tuple
    read: Callable = lambda raw, g, point: raw  # the answer as numbers at point (for a returned graph, its values)
    sizes_of: Callable = lambda raw, g: {}  # sizes of what the student built, counted with the work
    probe_order: Optional[int] = None  # the answer's order, for the orientation probe (2: H, 3: T); None: no probe


def reference_sizes(g):
    """Sizes of f's graph and the engine's G that the bounds refer to (computed outside the student's count)."""
    G = g.gradient_graph()
    return {"op_nodes": sum(1 for v in g.nodes if v.args), "f_nodes": g.num_nodes, "m": g.m,
            "engine_G_edges": G.num_edges, "engine_G_nodes": len(G.nodes)}


def graph_values(outputs, g, point):
    """The values at point of the nodes (or numbers) a student's gradient_graph returned."""
    outputs = list(outputs)
    values = evaluate(topological_order([o for o in outputs if isinstance(o, Node)]), point)
    return [values[o] if isinstance(o, Node) else o for o in outputs]


def graph_sizes(outputs, g):
    """Edges of the student's G (f's graph and every node the returned x̄_i depend on), and how many x̄_i are
    the very nodes of the engine's G for this trace (asked for after the student's call, outside the count)."""
    outputs = [o for o in outputs if isinstance(o, Node)]
    engine = {id(node) for node in g.gradient_graph().outputs}
    return {"G_edges": count_edges(topological_order([g.output, *outputs])),
            "engine_outputs": sum(id(o) in engine for o in outputs)}


ONE_VISIT_PER_NODE = Bound(
    "visits", "visits", lambda n, c: c["op_nodes"],
    "a backward pass applies each operation node's local partials once (one call of "
    "hl.exercises.local_partials per node with arguments)", least=lambda n, c: c["op_nodes"])
G_BUILT_ONCE = Bound("builds", "symbolic builds", lambda n, c: 1, "G is built once and reused by every pass")
G_BUILT = Bound("build_visits", "build visits", None,
                "every pass is a backprop over G, so G is built first, by one symbolic sweep over f that visits "
                "each of its operation nodes (g.gradient_graph(), or your own gradient_graph)",
                least=lambda n, c: c["op_nodes"])
NO_SHORTCUTS = Bound("shortcuts", "calls of the engine's finished method", lambda n, c: 0,
                     "the exercise is to build the answer from G and hl.backprop yourself")
NO_HIDDEN_PARTIALS = Bound(
    "hidden", "local partials outside any counted sweep", lambda n, c: 0,
    "every local partial is counted wherever it is applied (hessian_lab.ops.local_partials too, and in another "
    "thread or context), so a sweep goes through hl.backprop, or through hl.exercises.local_partials, which counts it")

EXERCISES = {
    "backprop": Exercise(
        args=lambda g, x0: (g, x0),
        expected=lambda p: api.gradient(p.f, p.point()),
        label="∇f",
        bounds=[ONE_VISIT_PER_NODE,
                Bound("passes", "numeric engine passes", lambda n, c: 0,
                      "the sweep is yours to write, without the engine's backprop (hl.backprop, g.gradient)"),
                Bound("builds", "symbolic builds", lambda n, c: 0, "a numeric backward pass builds no graph"),
                Bound("partials", "local partials", lambda n, c: c["op_nodes"],
                      "one backward pass applies each operation node's partials once in all, in your own sweep",
                      unit="operation node"),
                NO_HIDDEN_PARTIALS],
        family=shared_subexpressions,
        sizes=SWEEP_SIZES,
    ),
    "gradient_graph": Exercise(
        args=lambda g, x0: (g,),
        expected=lambda p: api.gradient(p.f, p.point()),
        label="x̄",
        bounds=[
            Bound("G_edges", "edges in G", lambda n, c: 3 * c["engine_G_edges"],
                  "one mirrored sweep over f gives O(m) edges (the engine's G, which skips `g * 1` and `0 * g`, "
                  "has about 3 per edge of f; the bound allows 3 times the engine's G)"),
            Bound("build_visits", "build visits", lambda n, c: c["op_nodes"],
                  "one symbolic sweep over f visits each operation node once, for every x̄_i at once",
                  least=lambda n, c: c["op_nodes"], unit="operation node"),
            Bound("builds", "engine builds", lambda n, c: 0,
                  "the sweep is yours to write with hl.exercises.local_partials (hl.backprop and "
                  "g.gradient_graph() are the engine's own sweep)"),
            Bound("passes", "numeric passes", lambda n, c: 0, "G is built from nodes, with no numbers at all"),
            NO_HIDDEN_PARTIALS,
        ],
        family=shared_subexpressions,
        sizes=SWEEP_SIZES,
        read=graph_values,
        sizes_of=graph_sizes,
    ),
    "hessian_naive": Exercise(
        args=lambda g, x0: (g, x0),
        expected=lambda p: api.hessian(p.f, p.point()),
        label="H",
        bounds=[
            Bound("passes", "passes", lambda n, c: n**2,
                  "the naive method makes one pass per entry: n^2 (or n(n+1)/2, computing j >= i and mirroring)",
                  least=lambda n, c: n * (n + 1) // 2, unit="entry"),
            G_BUILT_ONCE,
            G_BUILT,
            NO_SHORTCUTS,
            NO_HIDDEN_PARTIALS,
        ],
        family=tanh_mlp,
        sizes=HESSIAN_SIZES,
        probe_order=2,
    ),
    "hessian_rows": Exercise(
        args=lambda g, x0: (g, x0),
        expected=lambda p: api.hessian(p.f, p.point()),
        label="H",
        bounds=[
            Bound("passes", "passes", lambda n, c: n, "the row method needs n", least=lambda n, c: n, unit="row"),
            Bound("visits", "visits", lambda n, c: 3 * n * c["engine_G_nodes"],
                  "each row's pass sweeps at most all of G, n·|G| nodes (allowing a G 3 times the engine's, "
                  "as exercise 1 does)"),
            G_BUILT_ONCE,
            G_BUILT,
            NO_SHORTCUTS,
            NO_HIDDEN_PARTIALS,
        ],
        family=tanh_mlp,
        sizes=HESSIAN_SIZES,
        probe_order=2,
    ),
    "third_derivatives": Exercise(
        args=lambda g, x0: (g, x0),
        expected=lambda p: api.derivative_tensor(p.f, p.point(), 3),
        label="T",
        bounds=[
            Bound("passes", "numeric passes", lambda n, c: n**2,
                  "nesting the construction twice needs n^2, one per second derivative (1 + n + n^2 sweeps in all)",
                  unit="second derivative"),
            Bound("builds", "symbolic builds", lambda n, c: 1 + n,
                  "G once, then one graph per x̄_i: 1 + n"),
            G_BUILT,
            NO_SHORTCUTS,
            NO_HIDDEN_PARTIALS,
        ],
        family=tanh_mlp,
        sizes=THIRD_SIZES,
        probe_order=3,
    ),
}


def run(exercise, student_fn, problem):
    """Call the student's function on a fresh trace of problem; return its answer as numbers, counts and tally."""
    point = problem.point()
    g = trace(problem.f, problem.n, at=point)
    reference = reference_sizes(trace(problem.f, problem.n, at=point))
    before = process_totals()["partials"]
    with counting(sealed=True) as counter, tally() as visits:
        raw = call_student(student_fn, exercise.args(g, point), problem)
    partials = process_totals()["partials"] - before  # in any thread or context: work done elsewhere cannot hide
    try:
        answer, built = exercise.read(raw, g, point), exercise.sizes_of(raw, g)
    except Exception as error:
        raise StudentError(f"on {problem.name}, it returned {type(raw).__name__} {raw!r:.80}, which is not an "
                           f"answer of the kind the docstring asks for ({type(error).__name__}: {error})") from error
    counts = {**counter.as_dict(), "partials": partials, "shortcuts": len(counter.methods),
              "hidden": max(0, partials - counter.visits - counter.build_visits)}
    return answer, {**counts, **built, **reference}, visits


def judge_visits_once(result, name, tallies):
    """Fail if a hand-written sweep applied some node's partials more than once, and say how it came to."""
    for problem, visits in tallies:
        repeated = [(node, k) for node, k in visits.items() if k > 1]
        if not repeated:
            continue
        node, k = max(repeated, key=lambda item: item[1])
        sweeps = min(visits.values())
        if sweeps > 1:
            result.fail(
                "repeated_sweeps",
                f"sweep: on {problem.name}, your {name} applied the partials of every node at least {sweeps} times: "
                f"it sweeps f {sweeps} times (one sweep per input?), {sweeps} × O(m) work. One backward sweep "
                "carries the adjoints of all the inputs at once: walk reversed(g.nodes) once, and read every x̄_i "
                "at the end",
            )
        else:
            result.fail(
                "double_visit",
                f"sweep: on {problem.name}, your {name} applied the partials of the node {to_text(node)} {k} times "
                f"({len(repeated)} node(s) more than once). A shared node must collect the adjoint contributions of "
                "all its users first, then pass its total on once: walk the nodes in reverse topological order "
                "(reversed(g.nodes)), not recursively along each path",
            )
        return


def judge_repeatable(result, exercise, student_fn):
    """Two calls on the same input must return identical numbers: nothing may accumulate between calls."""
    problem = VALUE_PROBLEMS[0]
    first, second = (np.asarray(run(exercise, student_fn, problem)[0], dtype=float) for _ in range(2))
    if np.array_equal(first, second, equal_nan=True):
        result.note(f"robustness: a second call on {problem.name} returned identical numbers")
    else:
        result.fail("repeat", f"robustness: a second call on {problem.name} returned other numbers; does something "
                              "(an adjoint, a .grad, a cache) accumulate between calls?")


def judge_own_graph(result, name, measured):
    """Fail if the returned x̄_i are the nodes of the engine's G for the trace rather than nodes the sweep built."""
    taken = {n: counts["engine_outputs"] for n, counts in measured.items() if counts.get("engine_outputs")}
    if taken:
        n, count = max(taken.items())
        result.fail("engine_G", f"graph: at n = {n}, {count} of the x̄_i your {name} returned are the very nodes of "
                                "the engine's G (g.gradient_graph().outputs); build them with your own sweep")


def check(name, student_fn, verbose=True):
    """Check a student's solution of exercise `name`: values, cost over a range of n, robustness, orientation.

    Prints the verdict (unless verbose=False) and returns a CheckResult (ok, messages, failures, counts, slopes).
    """
    if name not in EXERCISES:
        raise HessianLabError(f"no exercise named {name!r}; the exercises are: {', '.join(EXERCISES)}")
    exercise = EXERCISES[name]
    result = CheckResult(name)
    try:
        runs, tallies = [], []
        for problem in VALUE_PROBLEMS:
            got, _, visits = run(exercise, student_fn, problem)
            runs.append((problem, got, exercise.expected(problem)))
            tallies.append((problem, visits))
        judge(result, exercise.label, runs)
        if "shape" in result.failures:
            result.messages.append("  (the cost and robustness checks wait for an answer of the right shape)")
            return finish(result, verbose)
        judge_visits_once(result, name, tallies)
        measured = {n: run(exercise, student_fn, Problem(exercise.family, n))[1] for n in exercise.sizes}
        judge_cost(result, name, measured, exercise.bounds)
        judge_own_graph(result, name, measured)
        judge_repeatable(result, exercise, student_fn)
        if exercise.probe_order and any(kind in result.failures for kind in VALUE_KINDS):
            result.messages.append("  (the orientation check waits for right values)")
        elif exercise.probe_order:
            probe_orientation(result, name, student_fn, Problem(shared_subexpressions, 3), exercise.label,
                              exercise.probe_order)
    except NotImplementedError:
        result.fail("not_implemented", f"{name} is not written yet: replace `raise NotImplementedError` with your code")
    except StudentError as error:
        result.fail("error", f"your {name} failed: {error}")
    return finish(result, verbose)


def finish(result, verbose):
    """Print the report if asked, and return the result."""
    if verbose:
        print(result.report())
    return result
