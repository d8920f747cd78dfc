"""Forward sweeps: values (the forward pass) and tangents (forward-mode derivatives), and the rule that no sweep
hands on a number that is not finite."""

import math
import numbers

import numpy as np

from . import ops
from .counting import record
from .errors import DomainError, HessianLabError, ShapeError
from .node import Node, to_text, topological_order


def as_point(x0, n=None, name="x0"):
    """x0 as a finite float64 vector (of length n, if given), or a ShapeError / HessianLabError saying why not.

    Only real numbers are accepted: text ("1"), booleans and complex numbers are refused, not converted.
    """
    if type(x0) is np.ndarray and x0.dtype == np.float64 and x0.ndim == 1 and (n is None or len(x0) == n) \
            and np.isfinite(x0).all():
        return x0  # already checked (the fast path of every internal call)
    raw = np.asarray(x0) if not isinstance(x0, np.ndarray) else x0
    if isinstance(x0, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in x0):
        raise HessianLabError(f"{name} must hold real numbers, not booleans: {x0!r:.60}")
    bad_kind = raw.dtype.kind in "USVbcmM" or (raw.dtype.kind == "O" and not all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in raw.ravel()))
    if bad_kind or raw.dtype.kind == "O" and raw.ndim == 0:
        raise HessianLabError(f"{name} must be a 1-D array of real numbers, not {type(x0).__name__} {x0!r:.60}")
    try:
        point = raw.astype(float)
    except OverflowError:
        raise HessianLabError(f"{name} holds a number too large for a float: {x0!r:.60}") from None
    if point.ndim != 1:
        raise ShapeError(f"{name} must be 1-D, but it has shape {point.shape}")
    if n is not None and len(point) != n:
        raise ShapeError(f"{name} has {len(point)} entries, but the trace has n = {n} inputs")
    bad = np.flatnonzero(~np.isfinite(point))
    if bad.size:
        raise HessianLabError(f"{name}[{bad[0]}] = {point[bad[0]]} is not a finite number")
    return point


def check_vector(v, n):
    """v as a finite float vector of length n, the direction of a Hessian-vector product."""
    shape = np.shape(v) if not isinstance(v, str) else ()
    if shape != (n,):
        raise ShapeError(f"v must have shape ({n},) to match x0, not {shape}")
    return as_point(v, n, "v")


def evaluate(order, point, values=None):
    """Forward pass: the value of each node of `order` (topological) at `point`, added to `values`.

    The point is checked (a finite float vector, long enough for every input the nodes read).
    """
    point = as_point(point, name="the point")
    values = {} if values is None else values
    computed = 0
    with np.errstate(all="ignore"):
        for node in order:
            if node in values:
                continue
            if node.op == "input":
                if node.param >= len(point):
                    raise ShapeError(f"the graph reads x[{node.param}], but the point has only {len(point)} entries")
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


def finite_partials(partials, node):
    """Numeric local partials, if all finite; else a DomainError naming the node (a skipped 0 * inf would hide it)."""
    for partial in partials:
        if not math.isfinite(partial):
            raise DomainError(
                f"a local partial of node #{node.id}: {to_text(node)} is {partial}, not a finite number: a derivative "
                "overflows at this point"
            )
    return partials


def local_partials_at(node, at):
    """The node's numeric local partials at the values `at`, checked: a missing value or a non-finite partial is named."""
    try:
        return finite_partials(ops.local_partials(node, at), node)
    except KeyError as missing:
        raise HessianLabError(
            f"`at` has no value for node #{missing.args[0].id}: {to_text(missing.args[0])}; compute the values of "
            "every node the sweep reads with hl.evaluate(hl.topological_order([output]), point)"
        ) from None


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
            partials = ops.local_partials(node) if at is None else local_partials_at(node, at)
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
