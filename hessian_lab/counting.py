"""Exact, deterministic work counts: what the engine did inside a `with hl.counting() as c:` block.

The open blocks live in a ContextVar, so each thread (and each asyncio task) counts only its own work:
another thread's Hessian never inflates your counts. Beside them runs one process-wide tally of the same
counts (plus local partials and finished methods), which only the exercise checker reads: work done in
another thread, another contextvars.Context or before its block closes moves the tally but not the block.
"""

import threading
from contextlib import contextmanager
from contextvars import ContextVar


class Counter:
    """Counts of engine work; every field is an exact integer, never a clock reading.

    - passes / visits: numeric sweeps (backward or tangent) and the nodes they swept;
    - builds / build_visits: symbolic sweeps that built new graph nodes (a mirrored adjoint graph);
    - evaluations: nodes whose value a forward pass computed;
    - graphs: (name, nodes, edges) of every graph a build produced;
    - methods: the finished methods (Hessian and tensor methods of the engine) that ran, by name;
    - details: what a method measured beyond these (colours, edges pushed, ...), merged into its stats.

    A `sealed` counter keeps counting inside `uncounted()`: the exercise checker's, which no student code may pause.
    """

    FIELDS = ("passes", "visits", "builds", "build_visits", "evaluations")

    def __init__(self, sealed=False):
        for field in self.FIELDS:
            setattr(self, field, 0)
        self.sealed = sealed
        self.graphs = []
        self.methods = []
        self.details = {}

    def as_dict(self):
        """The counts as a plain dict, for stats and printing."""
        return {field: getattr(self, field) for field in self.FIELDS}

    def __repr__(self):
        counts = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"Counter({counts}, graphs={len(self.graphs)})"


_open = ContextVar("hessian_lab_open_counters", default=())  # this context's open blocks, innermost last


class ProcessTally:
    """Every count of every context and thread added up, with a lock: the one piece of process-wide state.

    Fields: Counter.FIELDS, `partials` (local partials evaluated, symbolic or numeric) and `methods` (finished
    engine methods started). It only grows; the checker compares two snapshots with what its own block saw.
    """

    FIELDS = Counter.FIELDS + ("partials", "methods")

    def __init__(self):
        self._lock = threading.Lock()
        self._totals = dict.fromkeys(self.FIELDS, 0)

    def add(self, counts):
        """Add a dict of counts to the totals."""
        with self._lock:
            for field, amount in counts.items():
                self._totals[field] += amount

    def snapshot(self):
        """The totals so far, as a plain dict."""
        with self._lock:
            return dict(self._totals)


PROCESS = ProcessTally()


def process_totals():
    """The process-wide totals of every count so far (see ProcessTally): for the exercise checker."""
    return PROCESS.snapshot()


@contextmanager
def counting(sealed=False):
    """Count the engine's work inside the block: `with hl.counting() as c: ...; c.visits`. Blocks may nest."""
    counter = Counter(sealed)
    token = _open.set(_open.get() + (counter,))
    try:
        yield counter
    finally:
        _open.reset(token)


@contextmanager
def uncounted():
    """Pause this context's open blocks (sealed ones excepted): for internal one-off work that is no method's cost."""
    token = _open.set(tuple(c for c in _open.get() if c.sealed))
    try:
        yield
    finally:
        _open.reset(token)


def record(**counts):
    """Add counts to every open counting block of this context, and to the process-wide tally."""
    PROCESS.add(counts)
    for counter in _open.get():
        for field, amount in counts.items():
            setattr(counter, field, getattr(counter, field) + amount)


def record_details(**details):
    """Note method-specific measurements (colours, edges pushed, ...) in every open counting block."""
    for counter in _open.get():
        counter.details.update(details)


def record_graph(name, nodes, edges):
    """Note a graph that was built, with its size, in every open counting block."""
    for counter in _open.get():
        counter.graphs.append((name, nodes, edges))


def record_method(name):
    """Note that a finished method of the engine ran (the exercise checker refuses them as shortcuts)."""
    PROCESS.add({"methods": 1})
    for counter in _open.get():
        counter.methods.append(name)


def record_partials(amount=1):
    """Note local partials evaluated (by any sweep, symbolic or numeric): the process-wide tally only."""
    PROCESS.add({"partials": amount})
