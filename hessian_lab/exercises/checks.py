"""hl.exercises.check(name, student_fn): values, cost and robustness of a student's function, in plain words.

Every exercise function receives the trace g = hl.trace(f, n, at=x0) (and x0), so that the orientation
probe can hand it a stand-in trace through the same door (see probe.py): nothing in the engine is patched.
The work is what the process-wide tally (hessian_lab.counting.process_totals) moved while the student's
function ran and its answer was turned into numbers: every pass, build, local partial and finished engine
method, in any thread or contextvars.Context, paused or not. The sealed hl.counting block beside it sees
this context's share, so the difference names the work done elsewhere. Another process moves no tally;
processes.py notices it was started.
"""

from typing import Callable, NamedTuple, Optional

import numpy as np

from .. import api
from ..api import trace
from ..counting import Counter, counting, process_totals
from ..errors import HessianLabError
from ..node import Node, count_edges, to_text, topological_order
from .cost import Bound, amount, judge_cost
from .probe import PROBE, judge_orientation, probe_answer, stand_in_trace
from .problems import HESSIAN_SIZES, SWEEP_SIZES, THIRD_SIZES, Problem, VALUE_PROBLEMS, shared_subexpressions, tanh_mlp
from .processes import children_snapshot, started_children
from .result import CheckResult
from .student import StudentError, call_student
from .sweeps import tally
from .tryout import output_values
from .values import VALUE_KINDS, as_array, judge


class AnswerError(Exception):
    """The student's function returned something that is not an answer of the asked kind; the message says why."""


def as_numbers(raw):
    """(raw as a float array, None), or (None, why not): a ragged list or a non-number gets a sentence, not a raise."""
    try:
        return np.array(raw, dtype=float), None
    except (TypeError, ValueError) as error:
        ragged = "inhomogeneous" in str(error)
        return None, (f"returned a ragged {type(raw).__name__} (its rows have different lengths), not an array"
                      if ragged else f"returned {type(raw).__name__} {raw!r:.80}, which is not an array of numbers "
                                     f"({type(error).__name__}: {error})")


def as_outputs(raw):
    """(raw as a list of nodes and floats, None), or (None, why not): what a gradient_graph must return."""
    try:
        return [o if isinstance(o, Node) else float(o) for o in raw], None
    except (TypeError, ValueError) as error:
        return None, (f"returned {type(raw).__name__} {raw!r:.80}, which is not a list of nodes and numbers "
                      f"({type(error).__name__}: {error})")


class Exercise(NamedTuple):
    """How to call one exercise's function, what it must return, and the cost it must reach."""

    args: Callable  # (g, point) -> the arguments of the student's function; g is a fresh trace of the problem's f
    expected: Callable  # problem -> the engine's exact answer, an ndarray
    label: str  # the answer's name in messages: "∇f", "H", "T"
    bounds: list
    family: Callable  # the function whose sizes the cost is measured on
    sizes: tuple
    convert: Callable = as_numbers  # raw -> (answer, why not): run inside the count, so an answer's __array__ is counted
    read: Callable = lambda answer, g, point: answer  # the answer as numbers at point (for a returned graph, its values)
    sizes_of: Callable = lambda raw, g: {}  # sizes of what the student built, counted with the work
    probe_order: Optional[int] = None  # the answer's order, for the orientation probe (2: H, 3: T); None: no probe


def reference_sizes(g):
    """Sizes of f's graph and the engine's G that the bounds refer to (computed outside the student's count)."""
    G = g.gradient_graph()
    return {"op_nodes": sum(1 for v in g.nodes if v.args), "f_nodes": g.num_nodes, "m": g.m,
            "engine_G_edges": G.num_edges, "engine_G_nodes": len(G.nodes)}


def graph_values(outputs, g, point):
    """The values at point of the nodes (or numbers) a student's gradient_graph returned."""
    return output_values(outputs, point)


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
                     "the exercise is to build the answer from G and hl.backprop yourself (the check counts the "
                     "engine's methods in every thread and contextvars.Context)", guard=True)
NO_HIDDEN_PARTIALS = Bound(
    "hidden", "local partials outside any counted sweep", lambda n, c: 0,
    "every local partial is counted wherever it is applied (hessian_lab.ops.local_partials too, and in another "
    "thread or context), so a sweep goes through hl.backprop, or through hl.exercises.local_partials, which counts it",
    guard=True)
NO_OTHER_PROCESSES = Bound(
    "processes", "other processes started", lambda n, c: 0,
    "work in another process (os.fork, multiprocessing, subprocess) moves no count of this one, so its cost "
    "cannot be judged: compute in this process (threads are counted)", guard=True)

EXERCISES = {
    "backprop": Exercise(
        args=lambda g, x0: (g, x0),
        expected=lambda p: api.gradient(p.f, p.point()),
        label="∇f",
        bounds=[ONE_VISIT_PER_NODE,
                Bound("passes", "numeric engine passes", lambda n, c: 0,
                      "the sweep is yours to write, without the engine's backprop (hl.backprop, g.gradient)", guard=True),
                Bound("builds", "symbolic builds", lambda n, c: 0, "a numeric backward pass builds no graph", guard=True),
                Bound("partials", "local partials", lambda n, c: c["op_nodes"],
                      "one backward pass applies each operation node's partials once in all, in your own sweep",
                      unit="operation node"),
                NO_HIDDEN_PARTIALS, NO_OTHER_PROCESSES],
        family=shared_subexpressions,
        sizes=SWEEP_SIZES,
    ),
    "gradient_graph": Exercise(
        args=lambda g, x0: (g,),
        expected=lambda p: api.gradient(p.f, p.point()),
        label="x̄",
        bounds=[
            Bound("G_edges", "edges in G", lambda n, c: 3 * c["engine_G_edges"],
                  "one mirrored sweep over f gives O(m) edges (the engine's G skips `g * 1` and `0 * g`; "
                  "the bound allows 3 times the engine's G)"),
            Bound("build_visits", "build visits", lambda n, c: c["op_nodes"],
                  "one symbolic sweep over f visits each operation node once, for every x̄_i at once",
                  least=lambda n, c: c["op_nodes"], unit="operation node"),
            Bound("builds", "engine builds", lambda n, c: 0,
                  "the sweep is yours to write with hl.exercises.local_partials (hl.backprop and "
                  "g.gradient_graph() are the engine's own sweep)", guard=True),
            Bound("passes", "numeric passes", lambda n, c: 0, "G is built from nodes, with no numbers at all", guard=True),
            NO_HIDDEN_PARTIALS,
            NO_OTHER_PROCESSES,
        ],
        family=shared_subexpressions,
        sizes=SWEEP_SIZES,
        convert=as_outputs,
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
            NO_OTHER_PROCESSES,
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
            NO_OTHER_PROCESSES,
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
            NO_OTHER_PROCESSES,
        ],
        family=tanh_mlp,
        sizes=THIRD_SIZES,
        probe_order=3,
    ),
}


def run(exercise, student_fn, problem, g=None):
    """Call the student's function on g (a fresh trace of problem by default); return its answer as numbers,
    its counts and the per-node tally of its hand-written sweeps.

    The answer is converted to numbers before the count closes, so work hidden in its conversion (an
    __array__ that computes) is counted; the counts are the process-wide tally's, so work in another
    thread or context is counted too, and `passes_elsewhere`/`methods_elsewhere` say how much of it there was.
    """
    point = problem.point()
    g = trace(problem.f, problem.n, at=point) if g is None else g
    reference = reference_sizes(trace(problem.f, problem.n, at=point))
    before, children = process_totals(), children_snapshot()
    with counting(sealed=True) as counter, tally() as visits:
        raw = call_student(student_fn, exercise.args(g, point), problem)
        converted, why = call_student(exercise.convert, (raw,), problem)
    after, processes = process_totals(), started_children(children, children_snapshot())
    if why:
        raise AnswerError(f"on {problem.name}, your function {why}")
    done = {field: after[field] - before[field] for field in after}
    try:
        answer, built = exercise.read(converted, g, point), exercise.sizes_of(converted, g)
    except HessianLabError as error:
        raise AnswerError(f"on {problem.name}, the nodes your function returned cannot be evaluated at x0 "
                          f"({type(error).__name__}: {error})") from error
    counts = {**{field: done[field] for field in Counter.FIELDS}, "partials": done["partials"],
              "shortcuts": done["methods"], "hidden": max(0, done["partials"] - done["visits"] - done["build_visits"]),
              "processes": processes, "passes_elsewhere": done["passes"] - counter.passes,
              "methods_elsewhere": done["methods"] - len(counter.methods)}
    return answer, {**counts, **built, **reference}, visits


def note_work_elsewhere(result, measured):
    """Say once how much of the counted work ran in another thread or context, where hl.counting cannot see it."""
    sizes = sorted(measured)
    passes, methods = ([measured[n][field] for n in sizes] for field in ("passes_elsewhere", "methods_elsewhere"))
    parts = [amount(sizes, passes, "passes")] * any(passes) + \
        [amount(sizes, methods, "calls of the engine's finished methods")] * any(methods)
    if parts:
        result.messages.append(f"  (of these, {' and '.join(parts)} ran in another thread or contextvars.Context, "
                               "out of sight of hl.counting; the check counts them with the rest)")


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
    first, second = (run(exercise, student_fn, problem)[0] for _ in range(2))
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


def probe_orientation(result, name, exercise, student_fn):
    """Run student_fn on the stand-in trace (probe.py), where H is not symmetric; judge its answer's first index."""
    g = stand_in_trace(PROBE)
    expected = probe_answer(g, PROBE.point(), exercise.probe_order)
    array, why = as_array(run(exercise, student_fn, PROBE, g)[0], expected.shape)
    if why:
        result.fail("shape", f"orientation: on the probe's trace (n = {PROBE.n}), your {name} {why}")
    else:
        judge_orientation(result, name, array, expected, exercise.label)


def check(name, student_fn, verbose=True):
    """Check a student's solution of exercise `name`: values, cost over a range of n, robustness, orientation.

    Prints the verdict (unless verbose=False) and returns a CheckResult (ok, values_ok, cost_ok, messages,
    failures, counts, slopes).
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
        if "finite_differences" in result.failures:
            result.judged.add("values")
            result.messages.append("  (the cost check measures backprop over G, so it does not judge finite differences)")
            return finish(result, verbose)
        judge_visits_once(result, name, tallies)
        measured = {n: run(exercise, student_fn, Problem(exercise.family, n))[1] for n in exercise.sizes}
        judge_cost(result, name, measured, exercise.bounds)
        note_work_elsewhere(result, measured)
        judge_own_graph(result, name, measured)
        result.judged.add("cost")
        judge_repeatable(result, exercise, student_fn)
        if exercise.probe_order and any(kind in result.failures for kind in VALUE_KINDS):
            result.messages.append("  (the orientation check waits for right values)")
        elif exercise.probe_order:
            probe_orientation(result, name, exercise, student_fn)
        result.judged.add("values")
    except NotImplementedError:
        result.fail("not_implemented", f"{name} is not written yet: replace `raise NotImplementedError` with your code")
    except AnswerError as error:
        result.fail("shape", f"values: {error}")
    except StudentError as error:
        result.fail("error", f"your {name} failed: {error}")
    return finish(result, verbose)


def finish(result, verbose):
    """Print the report if asked, and return the result."""
    if verbose:
        print(result.report())
    return result
