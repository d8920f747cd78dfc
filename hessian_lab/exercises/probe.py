"""Telling a row from a column, which no smooth f can do: H is symmetric, so the probe hands over a stand-in f.

Row i of the row method is ∇(e_iᵀ∇f), the gradient of G_i's output x̄_i: row i of the Jacobian of ∇f.
It equals column i only because H is symmetric. The probe's trace breaks the symmetry in f's graph itself,
so that it holds wherever G comes from (g.gradient_graph(), hl.backprop(g.output, g.inputs), or the
student's own sweep with hl.exercises.local_partials): its output is one `dot` node over the inputs whose
coefficients are numbers when f is evaluated and the nodes of a vector field F when it is differentiated
(F_i = x_i x_(i+1)² + sin(x_(i+2)), indices mod n). Every backward sweep over it reads its local partials,
so every G has the outputs x̄_i = F_i, and their Jacobian J is not symmetric in any pair i ≠ j. Code that
builds row i from x̄_i returns J; code that stores it as column i returns Jᵀ. For third derivatives
S[i, j, k] = ∂²F_i/∂x_j∂x_k, and any axis that moves i is caught.

An answer mirrored by construction (j >= i then copied, or (H + Hᵀ)/2) is the same either way round; it
passes, with a note saying that orientation was not judged. The probe's size and point are used by no
other run of the check, so an answer remembered from an earlier call cannot answer it.
"""

import itertools

import numpy as np

from .. import ops
from ..api import trace
from ..backprop import backprop, evaluate
from ..node import Node, topological_order
from .problems import Problem, shared_subexpressions
from .result import number
from .values import entry, matches

PROBE = Problem(shared_subexpressions, 5)  # only its size and point are used: n = 5 is measured nowhere else
STAND_IN = "a stand-in f whose output's local partials are F_i = x_i x_(i+1)² + sin(x_(i+2)), so that x̄_i = F_i"


def field(x):
    """F_i = x_i x_(i+1)² + sin(x_(i+2)), indices mod n: its Jacobian J is not symmetric."""
    n = len(x)
    return [x[i] * x[(i + 1) % n] ** 2 + ops.sin(x[(i + 2) % n]) for i in range(n)]


class FieldWeights:
    """The stand-in output's dot coefficients: ones where f is evaluated (numpy reads __array__), the field's
    nodes where it is differentiated (dot's local partials are its coefficients, read by iterating them)."""

    def __init__(self, nodes):
        self.nodes = list(nodes)

    def __array__(self, dtype=None, copy=None):
        return np.ones(len(self.nodes), dtype=dtype or float)

    def __iter__(self):
        return iter(self.nodes)

    def __len__(self):
        return len(self.nodes)


def stand_in_trace(problem):
    """A trace with problem.n inputs whose output is the stand-in dot node: every sweep over it gives x̄_i = F_i."""
    return trace(lambda x: Node("dot", tuple(x), FieldWeights(field(x))), problem.n, at=problem.point())


def probe_answer(g, point, order):
    """What a right answer of order 2 or 3 returns on the stand-in trace g: J, or S, by the engine's backprop."""
    outputs = backprop(g.output, g.inputs)
    if order == 3:
        outputs = [d for x_bar in outputs for d in backprop(x_bar, g.inputs)]
    values = evaluate(topological_order([g.output, *(o for o in outputs if isinstance(o, Node))]), point)
    rows = np.array([backprop(o, g.inputs, at=values) for o in outputs], dtype=float)
    return rows.reshape((g.n,) * order)


def mirrored(array):
    """True if the answer is symmetric under a swap of its first index with another: mirrored by construction."""
    return any(matches(array, np.swapaxes(array, 0, axis)) for axis in range(1, array.ndim))


def judge_orientation(result, name, array, expected, label):
    """Record whether the answer on the coupled trace has the i of G_i on its first axis."""
    coupled = f"{STAND_IN}, whose Jacobian is not symmetric"
    if matches(array, expected):
        result.note(f"orientation: {label}'s first index is the i of G_i, whose output is x̄_i (checked on {coupled})")
    elif array.ndim == 2 and matches(array, expected.T):
        i, j = np.unravel_index(np.argmax(np.abs(expected - expected.T)), expected.shape)
        result.fail(
            "transposed",
            f"orientation: your {name} returns the transpose. The check ran it on {coupled}: your "
            f"{entry(label, (i, j))} is {number(array[i, j])} = ∂F_{j}/∂x_{i}, which belongs at {entry(label, (j, i))}. "
            "Row i must be ∇(e_iᵀ∇f), the gradient of G_i's output x̄_i; you stored it as column i. For a smooth f "
            "the two agree, because H is symmetric, which is why only such a probe tells them apart",
        )
    elif moved := [p for p in itertools.permutations(range(array.ndim)) if matches(array, expected.transpose(p))]:
        axis = moved[0].index(0)
        result.fail(
            "axis",
            f"orientation: your {name} stores the index i of G_i along axis {axis} of {label}; it belongs on axis 0. "
            f"The check ran it on {coupled}: {label}[i, j, k] must be ∂²F_i/∂x_j∂x_k, the row k of one backprop "
            "over ∂F_i/∂x_j. For a smooth f every order agrees, which is why only such a probe "
            "tells them apart",
        )
    elif mirrored(array):
        result.note(f"orientation: not judged, since your {label} is mirrored by construction (symmetric in i), "
                    "so rows and columns cannot be told apart; that is right for every smooth f")
    else:
        k = np.unravel_index(np.argmax(np.abs(array - expected)), expected.shape)
        result.fail(
            "orientation",
            f"orientation: on {coupled}, your {entry(label, k)} is {number(array[k])} but should be "
            f"{number(expected[k])}; {label}[i, ...] must come from x̄_i, G_i's output",
        )
