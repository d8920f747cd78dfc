"""Telling a Hessian from its transpose, which no smooth f can do: H is symmetric, so a stand-in G is used.

Row i of the row method is ∇(e_iᵀ∇f), the gradient of G_i's output x̄_i: row i of the Jacobian of ∇f.
It equals column i only because H is symmetric. So the probe runs the student's code with
`g.gradient_graph()` answering a stand-in G whose outputs are a vector field F with a non-symmetric
Jacobian J. Code that builds row i from G.output(i) must return J; code that stores it as column i
returns Jᵀ, and is caught.
"""

from unittest import mock

import numpy as np

from .. import ops
from ..api import Graph, trace
from ..backprop import GradientGraph, backprop
from ..forward import evaluate
from ..node import topological_order
from .student import call_student
from .values import as_array, entry, wrong_entries


def field(x):
    """F_i = x_i x_(i+1)² + sin(x_(i+2)), indices mod n: its Jacobian J is not symmetric."""
    n = len(x)
    return [x[i] * x[(i + 1) % n] ** 2 + ops.sin(x[(i + 2) % n]) for i in range(n)]


def jacobian(problem):
    """J[i, j] = ∂F_i/∂x_j at the problem's point, by the engine: one backward pass per F_i."""
    g = trace(problem.f, problem.n)
    F = field(g.inputs)
    values = evaluate(topological_order(F), problem.point())
    return np.array([backprop(Fi, g.inputs, at=values) for Fi in F], dtype=float)


def probe_orientation(result, name, student_fn, problem):
    """Run student_fn(f, x0) with the stand-in G, and record whether its rows are rows."""
    asked = []

    def stand_in(graph):
        """What g.gradient_graph() answers during the probe."""
        asked.append(graph)
        return GradientGraph(graph, outputs=field(graph.inputs))

    with mock.patch.object(Graph, "gradient_graph", stand_in):
        got = call_student(student_fn, (problem.f, problem.point()), problem)
    J = jacobian(problem)
    if not asked:
        result.fail(
            "orientation_unchecked",
            f"orientation: your {name} never asked g.gradient_graph() for G, so the check cannot tell its rows "
            "from its columns; build row i from G_i, whose output is G.output(i), as the docstring asks",
        )
        return
    array, why = as_array(got, J.shape)
    if why:
        result.fail("shape", f"orientation: with a stand-in G, your {name} {why}")
        return
    if not wrong_entries(array, J).any():
        result.note("orientation: row i is the gradient of G_i's output (checked on a non-symmetric stand-in G)")
        return
    i, j = np.unravel_index(np.argmax(np.abs(J - J.T)), J.shape)
    if not wrong_entries(array, J.T).any():
        result.fail(
            "transposed",
            f"orientation: your {name} returns the transpose. The check ran it with a stand-in G whose outputs "
            f"F_i have a non-symmetric Jacobian (F_i = x_i x_(i+1)² + sin(x_(i+2))): your {entry('H', (i, j))} is "
            f"{array[i, j]:.6g} = ∂F_{j}/∂x_{i}, which belongs at {entry('H', (j, i))}. Row i must be ∇(e_iᵀ∇f), "
            "the gradient of G_i's output; you stored it as column i. For a smooth f the two agree, "
            "because H is symmetric, which is why only a stand-in can tell them apart",
        )
        return
    k = np.unravel_index(np.argmax(np.where(wrong_entries(array, J), np.abs(array - J), -1)), J.shape)
    result.fail(
        "orientation",
        f"orientation: with a stand-in G whose outputs F_i have a non-symmetric Jacobian, your {entry('H', k)} is "
        f"{array[k]:.6g} but ∂F_{k[0]}/∂x_{k[1]} is {J[k]:.6g}; row i must be the gradient of G.output(i)",
    )
