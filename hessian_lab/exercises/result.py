"""The verdict of a self-check, and the growth language it is written in (counts, slopes, formulas)."""

from dataclasses import dataclass, field

import numpy as np

# Formulas a count may follow exactly, tried in this order, to say "n^2 passes" rather than "4, 16, 64 passes".
FORMULAS = {
    "no": lambda n: 0,
    "1": lambda n: 1,
    "n": lambda n: n,
    "n + 1": lambda n: n + 1,
    "2n": lambda n: 2 * n,
    "n(n+1)/2": lambda n: n * (n + 1) // 2,
    "n^2": lambda n: n**2,
    "1 + n + n^2": lambda n: 1 + n + n**2,
    "n^3": lambda n: n**3,
}


def describe_growth(sizes, counts):
    """`n^2` if the counts follow a known formula exactly, else the counts themselves with their sizes."""
    for name, formula in FORMULAS.items():
        if all(formula(n) == c for n, c in zip(sizes, counts)):
            return name
    return f"{', '.join(f'{c:,}' for c in counts)} (at n = {', '.join(map(str, sizes))})"


def number(value, spec=".6g"):
    """A number for messages, never `-0`: what rounds to zero (-0.0, -0.04 at one decimal) is written without a sign."""
    text = format(float(value), spec)
    return format(0.0, spec) if float(text) == 0 else text


def slope_text(slope):
    """A slope for messages: 2.0 for a measured one."""
    return "?" if np.isnan(slope) else number(slope, ".1f")


# The failures that make an answer wrong (its numbers, its shape, its orientation, its repeatability, or no
# answer at all); every other kind is about the cost of a right answer. Value points and cost points rest on these.
VALUE_FAILURES = frozenset({"values", "offset", "factor", "zero", "shape", "finite_differences", "repeat",
                            "transposed", "axis", "orientation", "error", "not_implemented"})


@dataclass
class CheckResult:
    """What hl.exercises.check found: ok, the messages in plain words, and the measured counts and slopes.

    failures holds one short kind per failed aspect ("values", "transposed", "passes", "double_visit",
    "offset", ...), so that tests and graders can ask what went wrong without parsing sentences.
    counts maps each size n of the cost check to its counts; slopes maps each counted field to its
    fitted exponent in n. judged names the aspects that were checked to the end ("values", "cost"):
    values_ok and cost_ok are what a grader awards points for.
    """

    name: str
    messages: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    slopes: dict = field(default_factory=dict)
    judged: set = field(default_factory=set)

    @property
    def ok(self):
        """True when nothing failed."""
        return not self.failures

    @property
    def values_ok(self):
        """The answer is right: its values were judged, and no value, shape, repeat or orientation check failed."""
        return "values" in self.judged and not VALUE_FAILURES & set(self.failures)

    @property
    def cost_ok(self):
        """A right answer, computed at the method's cost: values_ok, the cost was judged, and no cost check failed."""
        return self.values_ok and "cost" in self.judged and set(self.failures) <= VALUE_FAILURES

    def fail(self, kind, message):
        """Record a failed aspect and say what it was."""
        self.failures.append(kind)
        self.messages.append(f"✗ {message}")

    def note(self, message):
        """Record something that passed, or a measurement worth showing."""
        self.messages.append(f"✓ {message}")

    def report(self):
        """The verdict and every message, one per line, as check() prints it."""
        verdict = "all checks passed" if self.ok else f"{len(self.failures)} problem(s) found"
        return "\n".join([f"{self.name}: {verdict}", *(f"  {m}" for m in self.messages)])

    def __repr__(self):
        return f"<CheckResult {self.name}: {'ok' if self.ok else 'failed: ' + ', '.join(self.failures)}>"
