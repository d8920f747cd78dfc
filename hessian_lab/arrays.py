"""numpy's own functions on nodes and on arrays of nodes: the one mapping from numpy's names to the table's rows.

f written with numpy runs as written. f receives x as an array of input nodes (a NodeArray), so
`x[1:] - x[:-1] ** 2` broadcasts; np.cos(x) is one cos node per entry, np.sum one n-ary sum node,
A @ x and np.dot(A, x) one dot node per output, np.maximum a branch like Python's max(). numpy hands
the work here through its override protocols: __array_ufunc__ (NEP 13) on nodes and on NodeArrays, and
__array_function__ (NEP 18) on NodeArrays. A numpy function with no row is a NodeConversionError that
names it. Object arrays of nodes that f builds itself (np.array([x[0], x[1]]), np.asarray(x)) are numpy's
own: numpy computes them elementwise with Node's operators and, for np.sin & co., with the methods of the
same names that this mapping gives Node, so they work too (np.sum then adds pairwise, as sum() does).
"""

import math
import numbers
import operator

import numpy as np

from . import ops
from .errors import NodeConversionError, ShapeError
from .node import Node, to_text


def _maximum(a, b):
    """np.maximum: a branch, decided and recorded as `a >= b` is, as Python's max() does."""
    return a if a >= b else b


def _minimum(a, b):
    """np.minimum: a branch, decided and recorded as `a <= b` is."""
    return a if a <= b else b


def _dot(a, b):
    """np.dot and @ of vectors and matrices: one node per output, hl.dot where one side is numbers (a row of A in
    A @ x), else hl.sum of the products; None for shapes it leaves to numpy (scalars, stacks of matrices)."""
    a, b = _plain(a), _plain(b)
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        return None
    if a.shape[-1] != b.shape[0]:
        raise ShapeError(f"np.dot / @ of shapes {a.shape} and {b.shape}: their inner dimensions differ")
    rows = a if a.ndim == 2 else a[None, :]
    columns = b.T if b.ndim == 2 else b[None, :]
    out = np.empty((len(rows), len(columns)), dtype=object)
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            out[i, j] = _inner(row, column)
    shape = a.shape[:-1] + b.shape[1:]
    return out.reshape(shape)[()] if not shape else out.reshape(shape).view(NodeArray)


def _inner(u, v):
    """Σ u_k v_k as one node: a dot node when one side holds only numbers, else one sum of products."""
    if not any(isinstance(c, Node) for c in u):
        return ops.dot(u.tolist(), v.tolist())
    if not any(isinstance(c, Node) for c in v):
        return ops.dot(v.tolist(), u.tolist())
    return ops.sum([p * q for p, q in zip(u, v)])


# numpy's name -> what it becomes. A ufunc's entry is a function of nodes or numbers, applied elementwise (and its
# name is also a Node method, which numpy's own loops over object arrays call: x.sin()); matmul's and np.dot's take
# whole arrays. np.round and np.around reach rint through ndarray.round. A name missing here is refused by name.
NUMPY = {
    np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.divide: ops.div, np.negative: ops.neg,
    np.positive: lambda a: +a, np.power: ops.power, np.float_power: ops.power, np.square: lambda a: ops.power(a, 2),
    np.reciprocal: lambda a: ops.div(1.0, a), np.exp2: lambda a: ops.power(2.0, a),
    np.deg2rad: lambda a: ops.mul(a, math.pi / 180), np.radians: lambda a: ops.mul(a, math.pi / 180),
    np.rad2deg: lambda a: ops.mul(a, 180 / math.pi), np.degrees: lambda a: ops.mul(a, 180 / math.pi),
    np.absolute: ops.abs, np.fabs: ops.abs,
    np.sin: ops.sin, np.cos: ops.cos, np.tan: ops.tan, np.arctan: ops.arctan, np.arctan2: ops.arctan2,
    np.sinh: ops.sinh, np.cosh: ops.cosh, np.tanh: ops.tanh, np.hypot: ops.hypot,
    np.exp: ops.exp, np.expm1: ops.expm1, np.log: ops.log, np.log1p: ops.log1p, np.log10: ops.log10,
    np.log2: ops.log2, np.sqrt: ops.sqrt,
    np.floor: ops.floor, np.ceil: ops.ceil, np.rint: ops.round, np.sign: ops.sign,
    np.maximum: _maximum, np.minimum: _minimum, np.fmax: _maximum, np.fmin: _minimum,
    np.less: operator.lt, np.less_equal: operator.le, np.greater: operator.gt, np.greater_equal: operator.ge,
    np.equal: operator.eq, np.not_equal: operator.ne,
    np.matmul: _dot, np.dot: _dot,
}


def no_row(name, args):
    """The NodeConversionError for numpy's `name` on nodes: it has no row, and what to write instead."""
    node = next((v for v in _flat(args) if isinstance(v, Node)), None)
    shown = f" got the graph node {to_text(node)}" if node is not None else " got graph nodes"
    names = sorted({function.__name__ for function in NUMPY})
    return NodeConversionError(
        f"numpy's {name}{shown}, and it has no row in hessian-lab's primitive table, so it cannot be "
        f"differentiated. Write it with numpy's functions that have one ({', '.join(names)}, and np.sum, np.mean, "
        "np.prod, np.where, np.round), or hl's functions, or add a row to hessian_lab/ops.py"
    )


def _flat(values):
    """The entries of arguments that may be arrays, lists or scalars, for finding a node to name."""
    for value in values:
        if isinstance(value, (np.ndarray, list, tuple)):
            yield from np.asarray(value, dtype=object).ravel()
        else:
            yield value


class NodeArray(np.ndarray):
    """A numpy array of graph nodes (dtype object), as f receives x: numpy's functions on it are the table's rows."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return array_ufunc(ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """np.dot is one dot node per output; any other numpy function runs numpy's own code over the nodes."""
        if func is np.dot and not kwargs:
            result = _dot(*args)
            if result is not None:
                return result
        return _wrap(super().__array_function__(func, types, args, kwargs))


def array_ufunc(ufunc, method, *inputs, **kwargs):
    """numpy's ufunc on nodes or NodeArrays (NEP 13): its entry of NUMPY elementwise, np.add.reduce (np.sum) one sum
    node per result; reductions and calls with options run numpy's own loops over the nodes (np.max compares them)."""
    if not all(isinstance(v, (Node, np.ndarray, np.generic)) or not hasattr(type(v), "__array_ufunc__") for v in inputs):
        return NotImplemented  # another library's array: let it answer
    if ufunc not in NUMPY:
        raise no_row(ufunc.__name__, inputs)
    if method == "__call__" and not kwargs:
        if ufunc.signature is not None:  # matmul
            result = NUMPY[ufunc](*inputs)
            if result is not None:
                return result
        else:
            return _elementwise(NUMPY[ufunc], inputs)
    if method == "reduce" and ufunc is np.add and _plain_reduction(kwargs):
        return _sum(inputs[0], kwargs.get("axis", 0))
    if "out" in kwargs:
        kwargs["out"] = tuple(_plain(out) for out in kwargs["out"])
    return _wrap(getattr(ufunc, method)(*(_plain(v) for v in inputs), **kwargs))


def _elementwise(function, inputs):
    """function over the broadcast entries of the inputs: a node (or number) for scalars, else a NodeArray."""
    arrays = [_plain(v) for v in inputs]
    if all(a.ndim == 0 for a in arrays):
        return function(*(a[()] for a in arrays))
    return _wrap(np.frompyfunc(function, len(arrays), 1)(*arrays))


def _plain_reduction(kwargs):
    """Whether a reduction asks for nothing but an axis (np.sum(x), np.sum(x, axis=0)); keepdims and the rest go to numpy."""
    return (kwargs.get("dtype") in (None, object) and not kwargs.get("keepdims", False)
            and kwargs.get("where", True) is True and "initial" not in kwargs and kwargs.get("out") is None)


def _sum(array, axis):
    """One n-ary sum node per result of np.sum(array, axis), as hl.sum makes."""
    a = _plain(array)
    if a.ndim == 0:
        return a[()]
    axes = tuple(range(a.ndim)) if axis is None else tuple(np.atleast_1d(axis).tolist())
    moved = np.moveaxis(a, axes, tuple(range(-len(axes), 0)))
    kept = moved.shape[:moved.ndim - len(axes)]
    terms = moved.reshape(kept + (-1,))
    out = np.empty(kept, dtype=object)
    for index in np.ndindex(kept):
        out[index] = ops.sum(terms[index].tolist())
    return out[()] if not kept else out.view(NodeArray)


def _plain(value):
    """A value as a plain numpy object array (nodes and Python numbers as entries), for elementwise work."""
    if isinstance(value, np.ndarray):
        return value.view(np.ndarray) if value.dtype == object else value.astype(object)
    array = np.empty((), dtype=object)
    if isinstance(value, (Node, numbers.Number)):
        array[()] = value
        return array
    return np.asarray(value, dtype=object)


def _wrap(result):
    """numpy's result over nodes as a NodeArray when it is an array of objects (so np.sum of it is one node)."""
    if isinstance(result, np.ndarray) and result.dtype == object and type(result) is not NodeArray:
        return result.view(NodeArray)
    return result


def _attach():
    """Give Node numpy's protocol and, for each public row numpy names, the method numpy's object loops call (x.sin())."""
    Node.__array_ufunc__ = lambda self, ufunc, method, *inputs, **kwargs: array_ufunc(ufunc, method, *inputs, **kwargs)
    for ufunc, function in NUMPY.items():
        if function in ops.FUNCTIONS.values():
            setattr(Node, ufunc.__name__, function)


_attach()
