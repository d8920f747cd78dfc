"""Judging values: the student's arrays against the engine's exact ones, in words a student can act on."""

import numpy as np

from .result import number

RTOL = 1e-8  # the engine's and a student's sums may add in another order; anything real is far bigger
# Exact derivatives summed in another order differ by rounding, ~1e-15 of the scale; finite differences err by
# 1e-11 to 1e-6 of it (truncation h², cancellation eps/h), most of it inside RTOL: this tells the two apart.
EXACT_RTOL = 1e-11
VALUE_KINDS = ("values", "offset", "factor", "zero")  # the failures that mean some returned number is wrong


def as_array(got, shape):
    """got as a float array of the expected shape, or a sentence saying why it is not one."""
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError) as error:
        return None, f"returned {type(got).__name__}, which is not an array of numbers ({error})"
    if array.shape != shape:
        return None, f"returned shape {array.shape}, but the answer has shape {shape}"
    return array, None


def wrong_entries(got, expected, rtol=RTOL):
    """A boolean mask of the entries that differ beyond rounding (beyond rtol of the answer's scale)."""
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return ~np.isclose(got, expected, rtol=rtol, atol=rtol * scale)


def relative_error(got, expected):
    """The largest error of an entry, relative to the answer's scale."""
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return float(np.max(np.abs(got - expected), initial=0.0)) / scale


def matches(got, expected):
    """True if every entry agrees with the expected one up to rounding."""
    return not wrong_entries(got, expected).any()


def entry(label, index):
    """`H[1, 2]` for the label "H" and the index (1, 2)."""
    return f"{label}[{', '.join(map(str, index))}]"


def constant_pattern(pairs):
    """If every entry of every run is 0, or off by one same constant, or one same factor: a kind and a sentence."""
    got = np.concatenate([g.ravel() for g, _ in pairs])
    expected = np.concatenate([e.ravel() for _, e in pairs])
    if not got.any():
        return "zero", "every entry is 0, on every function: is the answer filled in, or its accumulator never updated?"
    offset = got - expected
    if np.allclose(offset, offset[0], rtol=0, atol=RTOL * max(1.0, abs(offset[0]))) and offset[0] != 0:
        return "offset", f"every entry is off by the same constant, {number(offset[0], '+.6g')}, on every function"
    nonzero = expected != 0
    if nonzero.any() and np.all(got[~nonzero] == 0):
        factor = got[nonzero] / expected[nonzero]
        if np.allclose(factor, factor[0], rtol=RTOL) and factor[0] != 1:
            return "factor", f"every entry is {number(factor[0])} times the right one, on every function"
    return None


def distinct(got, expected):
    """Both numbers written with just enough digits (6 to 17) that they read differently where they differ."""
    for digits in range(6, 18):
        texts = number(got, f".{digits}g"), number(expected, f".{digits}g")
        if texts[0] != texts[1]:
            return texts
    return texts


def judge(result, label, runs):
    """Check runs of (problem, got, expected) and record in `result` which entry is wrong, where, by how much."""
    pairs, wrong = [], []
    for problem, got, expected in runs:
        array, why = as_array(got, expected.shape)
        if why:
            result.fail("shape", f"values: on {problem.name}, your function {why}")
            return
        pairs.append((array, expected))
        mask = wrong_entries(array, expected)
        if mask.any():
            wrong.append((problem, array, expected, mask))
    if not wrong:
        inexact = [(problem, relative_error(a, e)) for (problem, _, _), (a, e) in zip(runs, pairs)
                   if wrong_entries(a, e, EXACT_RTOL).any()]
        if inexact:
            problem, error = max(inexact, key=lambda item: item[1])
            result.fail("finite_differences",
                        f"values: close to the exact derivatives but not equal to them (on {problem.name}, off by "
                        f"up to {number(error, '.1e')} of the answer's size, where exact sums in another order differ "
                        "by rounding, 1e-15): the signature of finite differences. The exercise asks for exact "
                        "derivatives, by backprop over G")
        else:
            result.note(f"values: every entry matches the engine's exact answer on "
                        f"{', '.join(p.name for p, _, _ in runs)}")
        return
    pattern = constant_pattern(pairs) if len(wrong) == len(runs) else None
    if pattern:
        result.fail(pattern[0], f"values: {pattern[1]}; for example:")
        wrong = wrong[:1]
    for problem, array, expected, mask in wrong:
        worst = np.unravel_index(np.argmax(np.where(mask, np.abs(array - expected), -1)), mask.shape)
        got_text, expected_text = distinct(array[worst], expected[worst])
        result.fail(
            "values",
            f"values: on {problem.name}, {entry(label, worst)} is {got_text} but should be "
            f"{expected_text} (off by {number(array[worst] - expected[worst], '+.3g')}); "
            f"{int(mask.sum())} of {mask.size} entries are wrong",
        )
