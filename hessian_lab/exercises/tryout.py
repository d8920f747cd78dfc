"""Trying a function in a notebook cell without a traceback stopping Run All: attempt it, then compare its answer."""

import numpy as np

from ..errors import HessianLabError
from ..backprop import evaluate
from ..node import Node, topological_order
from .result import number
from .student import where
from .values import as_array, entry, wrong_entries


def attempt(student_fn, *args):
    """student_fn(*args), or None after one sentence saying it is not written yet, or where it failed.

    The notebooks call a student's function through this, so that an unfinished exercise prints a line
    and Run All goes on to the self-check below, instead of stopping at a NotImplementedError traceback.
    """
    name = getattr(student_fn, "__name__", "your function")
    try:
        return student_fn(*args)
    except NotImplementedError:
        print(f"{name} is not written yet: replace `raise NotImplementedError` with your code")
    except Exception as error:
        print(f"your {name} failed: {type(error).__name__}: {error}{where(error)}")
    return None


def compare(label, got, expected):
    """Print whether `got` matches `expected`, and if not, which entry is wrong and by how much.

    Nothing to compare (got is None, from an attempt that failed) prints nothing: attempt already said why.
    """
    if got is None:
        return
    expected = np.asarray(expected, dtype=float)
    array, why = as_array(got, expected.shape)
    if why:
        print(f"✗ {label}: your function {why}")
        return
    mask = wrong_entries(array, expected)
    if not mask.any():
        print(f"✓ {label} matches the engine's answer in all {mask.size} entries")
        return
    worst = np.unravel_index(np.argmax(np.where(mask, np.abs(array - expected), -1)), mask.shape)
    print(f"✗ {entry(label, worst)} is {number(array[worst])} but should be {number(expected[worst])}; "
          f"{int(mask.sum())} of {mask.size} entries are wrong")


def output_values(outputs, point):
    """The values at point of the nodes (and numbers) a gradient_graph returned, in their order."""
    values = evaluate(topological_order([o for o in outputs if isinstance(o, Node)]), point)
    return [values[o] if isinstance(o, Node) else float(o) for o in outputs]


def values_at(outputs, point):
    """output_values(outputs, point), or None after one line saying why they cannot be evaluated (None: nothing)."""
    if outputs is None:
        return None
    try:
        return output_values(list(outputs), point)
    except (TypeError, ValueError, HessianLabError) as error:
        print(f"✗ your outputs are not nodes and numbers that can be evaluated: {type(error).__name__}: {error}")
        return None
