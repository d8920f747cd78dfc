"""Forward sweeps: values (the forward pass) and tangents (forward-mode derivatives), and the rule that no sweep
hands on a number that is not finite."""

import math

import numpy as np

from . import ops
from .counting import record
from .errors import DomainError
from .node import Node, to_text, topological_order


def evaluate(order, point, values=None):
    """Forward pass: the value of each node of `order` (topological) at `point`, added to `values`."""
    values = {} if values is None else values
    computed = 0
    with np.errstate(all="ignore"):
        for node in order:
            if node in values:
                continue
            if node.op == "input":
                values[node] = point[node.param]
            elif node.op == "const":
                values[node] = node.param
            else:
                try:
                    values[node] = ops.evaluate_op(node.op, [values[a] for a in node.args], node.param)
                except DomainError as error:
                    raise DomainError(f"{error} (at node #{node.id}: {to_text(node)})") from None
            computed += 1
    record(evaluations=computed)
    return values


def finite(value, node, what):
    """value, if it is a finite number; else a DomainError naming the node whose `what` (adjoint, tangent) overflowed."""
    if math.isfinite(value):
        return value
    raise DomainError(
        f"the {what} of node #{node.id}: {to_text(node)} is {value}, not a finite number: a derivative "
        "overflows at this point (a second derivative beyond 1e308, or inf - inf)"
    )


def jvp(outputs, tangents, at=None):
    """Forward mode: the derivative of each output along `tangents` ({input node: tangent}).

    Graph nodes when `at` is None (a symbolic tangent graph), numbers when `at` maps nodes to values.
    One call is one pass; its visits are the nodes the outputs depend on.
    """
    order = topological_order(outputs)
    dots = {x: t for x, t in tangents.items() if ops.number_of(t) != 0}
    with np.errstate(all="ignore"):  # numpy scalars overflow quietly here; `finite` raises the named error instead
        for node in order:
            incoming = [(k, dots[a]) for k, a in enumerate(node.args) if a in dots]
            if not incoming:
                continue
            partials = ops.local_partials(node, at)
            terms = [ops.times(partials[k], dot) for k, dot in incoming]
            terms = [t for t in terms if t is not None]
            if terms:
                dots[node] = ops.sum(terms) if at is None else finite(ops.sum(terms), node, "tangent")
    record_sweep(at, len(order))
    return [dots.get(o, 0.0) if isinstance(o, Node) else 0.0 for o in outputs]


def record_sweep(at, visits):
    """Count one sweep: numeric when it had values, else a symbolic build."""
    if at is None:
        record(builds=1, build_visits=visits)
    else:
        record(passes=1, visits=visits)
