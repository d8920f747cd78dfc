"""Exercise mode: write the assignment's functions yourself, and let hl.exercises.check judge them.

    import hessian_lab as hl
    result = hl.exercises.check("hessian_rows", hessian_rows)   # prints the verdict; result.ok, result.messages

The check compares values with the engine's exact answers, measures the cost your code really has
(passes and visits over a range of n, with fitted slopes), and reruns it on shared subexpressions.
A hand-written sweep calls hl.exercises.local_partials(node, values), which counts each visit.
"""

from .checks import EXERCISES, check
from .result import CheckResult
from .sweeps import local_partials

__all__ = ["EXERCISES", "CheckResult", "check", "local_partials"]
