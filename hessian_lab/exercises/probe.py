"""Telling a row from a column, which no smooth f can do: H is symmetric, so the check hands over a stand-in G.

Row i of the row method is ∇(e_iᵀ∇f), the gradient of G_i's output x̄_i: row i of the Jacobian of ∇f.
It equals column i only because H is symmetric. So the probe runs the student's function once more, on a
StandInTrace: a trace of f whose `g.gradient_graph()` answers a stand-in G (hl.GradientGraph with
`outputs=`, the documented hook) whose outputs are a vector field F with a non-symmetric Jacobian J.
Code that builds row i from G.output(i) returns J; code that stores it as column i returns Jᵀ. For third
derivatives the same stand-in gives S[i, j, k] = ∂²F_i/∂x_j∂x_k, and any axis that moves i is caught.

Orientation is judged only where it can be told apart: code that builds its own G (hl.backprop, or the
student's gradient_graph) never sees the stand-in, and an answer mirrored by construction (j >= i then
copied, or (H + Hᵀ)/2) is the same either way; both pass, with a note saying orientation was not judged.
"""

import itertools

import numpy as np

from .. import ops
from ..api import Graph, trace
from ..backprop import GradientGraph, backprop, evaluate
from ..node import Node, topological_order
from .result import number
from .student import call_student
from .values import as_array, entry, matches


def field(x):
    """F_i = x_i x_(i+1)² + sin(x_(i+2)), indices mod n: its Jacobian J is not symmetric."""
    n = len(x)
    return [x[i] * x[(i + 1) % n] ** 2 + ops.sin(x[(i + 2) % n]) for i in range(n)]


class StandInTrace(Graph):
    """A trace of f whose gradient_graph() is a stand-in G with outputs F_i, and which counts how often it was asked."""

    def __init__(self, inputs, output, branches=()):
        super().__init__(inputs, output, branches)
        self.asked = 0

    def gradient_graph(self):
        """The stand-in G: f's graph, with the field's F_i as the outputs in place of x̄_i = ∂f/∂x_i."""
        self.asked += 1
        return self.cached("stand-in G", lambda: GradientGraph(self, outputs=field(self.inputs)))


def derivatives(outputs, inputs, point, order):
    """[∂F/∂x_j] (order 1) or [∂²F/∂x_j∂x_k] (order 2) at point for each F of outputs, by the engine's backprop."""
    if order == 2:
        outputs = [d for F in outputs for d in backprop(F, inputs)]
    values = evaluate(topological_order([o for o in outputs if isinstance(o, Node)]), point)
    rows = np.array([backprop(o, inputs, at=values) for o in outputs], dtype=float)
    return rows.reshape((len(inputs),) * (order + 1))


def stand_in_answer(problem, k):
    """What a right answer of order k returns on the stand-in: J (k = 2), or S[i, j, k] = ∂²F_i/∂x_j∂x_k (k = 3)."""
    g = trace(problem.f, problem.n)
    return derivatives(field(g.inputs), g.inputs, problem.point(), k - 1)


def mirrored(array):
    """True if the answer is symmetric under a swap of its first index with another: mirrored by construction."""
    return any(matches(array, np.swapaxes(array, 0, axis)) for axis in range(1, array.ndim))


def probe_orientation(result, name, student_fn, problem, label, order):
    """Run student_fn on a StandInTrace of problem; record whether its answer's first index is the i of G_i."""
    g = StandInTrace(problem.f, problem.n, problem.point())
    got = call_student(student_fn, (g, problem.point()), problem)
    if not g.asked:
        result.note(f"orientation: not judged, since your {name} does not take G from g.gradient_graph() (it builds "
                    "its own, or none), so the check's stand-in G cannot reach it; your values are what count")
        return
    expected = stand_in_answer(problem, order)
    array, why = as_array(got, expected.shape)
    if why:
        result.fail("shape", f"orientation: with a stand-in G, your {name} {why}")
        return
    if matches(array, expected):
        result.note(f"orientation: {label}'s first index is the i of G_i, whose output is G.output(i) "
                    "(checked on a stand-in G whose outputs have a non-symmetric Jacobian)")
    elif array.ndim == 2 and matches(array, expected.T):
        i, j = np.unravel_index(np.argmax(np.abs(expected - expected.T)), expected.shape)
        result.fail(
            "transposed",
            f"orientation: your {name} returns the transpose. The check ran it with a stand-in G whose outputs "
            f"F_i have a non-symmetric Jacobian (F_i = x_i x_(i+1)² + sin(x_(i+2))): your {entry(label, (i, j))} "
            f"is {number(array[i, j])} = ∂F_{j}/∂x_{i}, which belongs at {entry(label, (j, i))}. Row i must be "
            "∇(e_iᵀ∇f), the gradient of G_i's output; you stored it as column i. For a smooth f the two agree, "
            "because H is symmetric, which is why only a stand-in can tell them apart",
        )
    elif moved := [p for p in itertools.permutations(range(array.ndim)) if matches(array, expected.transpose(p))]:
        axis = moved[0].index(0)
        result.fail(
            "axis",
            f"orientation: your {name} stores the index i of G_i along axis {axis} of {label}; it belongs on axis 0. "
            f"The check ran it with a stand-in G whose outputs F_i have a non-symmetric Jacobian: "
            f"{label}[i, j, k] must be ∂²F_i/∂x_j∂x_k, the row k of one backprop over ∂F_i/∂x_j. For a smooth f "
            "every order agrees, which is why only a stand-in can tell them apart",
        )
    elif mirrored(array):
        result.note(f"orientation: not judged, since your {label} is mirrored by construction (symmetric in i), "
                    "so rows and columns cannot be told apart; that is right for every smooth f")
    else:
        k = np.unravel_index(np.argmax(np.abs(array - expected)), expected.shape)
        result.fail(
            "orientation",
            f"orientation: with a stand-in G whose outputs F_i have a non-symmetric Jacobian, your {entry(label, k)} "
            f"is {number(array[k])} but should be {number(expected[k])}; {label}[i, ...] must come from G.output(i)",
        )
