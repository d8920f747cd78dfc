"""Exercise mode: write the assignment's functions yourself, and let hl.exercises.check judge them.

    import hessian_lab as hl
    result = hl.exercises.check("hessian_rows", hessian_rows)   # prints the verdict; result.ok, result.messages

Each function receives a trace g of f (and the point x0). The check compares values with the engine's
exact answers, measures the cost your code really has (passes, visits and every local partial, over a
range of n, with fitted slopes, in every thread and context), reruns it, and, for the Hessian and the third
derivatives, runs it once on a stand-in f whose x̄_i have a non-symmetric Jacobian, to tell rows from columns however G
was built. result.values_ok and result.cost_ok are what a grade rests on.
A hand-written sweep calls hl.exercises.local_partials(node, values), which counts each visit.
In a notebook, hl.exercises.attempt(fn, ...) and hl.exercises.compare(label, got, expected) try a function
without a traceback stopping Run All, and hl.exercises.values_at(outputs, x0) evaluates a returned G's outputs.
"""

from .checks import EXERCISES, check
from .result import CheckResult
from .sweeps import local_partials
from .tryout import attempt, compare, values_at

__all__ = ["EXERCISES", "CheckResult", "attempt", "check", "compare", "local_partials", "values_at"]
