"""Calling a student's function: an exception becomes a finding that says where it happened, not a traceback."""

import traceback
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # frames inside hessian_lab are the engine's, not the student's


class StudentError(Exception):
    """The student's function failed; the message names the function it was given and the line that failed."""


def where(error):
    """`in hessian_rows, line 5: H[i] = ...`: the innermost frame of the student's own code (no file paths)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if PACKAGE not in Path(f.filename).resolve().parents]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (in {frame.name}, line {frame.lineno}: {frame.line})" if frame.line else f" (in {frame.name})"


def call_student(student_fn, args, problem):
    """student_fn(*args); any exception but NotImplementedError comes back as a StudentError naming the problem."""
    try:
        return student_fn(*args)
    except NotImplementedError:
        raise
    except Exception as error:
        raise StudentError(
            f"on {problem.name}, it raised {type(error).__name__}: {error}{where(error)}"
        ) from error
