"""Exact, deterministic work counts: what the engine did inside a `with hl.counting() as c:` block."""

from contextlib import contextmanager


class Counter:
    """Counts of engine work; every field is an exact integer, never a clock reading.

    - passes / visits: numeric sweeps (backward or tangent) and the nodes they swept;
    - builds / build_visits: symbolic sweeps that built new graph nodes (a mirrored adjoint graph);
    - evaluations: nodes whose value a forward pass computed;
    - graphs: (name, nodes, edges) of every graph a build produced;
    - details: what a method measured beyond these (colours, edges pushed, ...), merged into its stats.
    """

    FIELDS = ("passes", "visits", "builds", "build_visits", "evaluations")

    def __init__(self):
        for field in self.FIELDS:
            setattr(self, field, 0)
        self.graphs = []
        self.details = {}

    def as_dict(self):
        """The counts as a plain dict, for stats and printing."""
        return {field: getattr(self, field) for field in self.FIELDS}

    def __repr__(self):
        counts = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"Counter({counts}, graphs={len(self.graphs)})"


_active = []


@contextmanager
def counting():
    """Count the engine's work inside the block: `with hl.counting() as c: ...; c.visits`. Blocks may nest."""
    counter = Counter()
    _active.append(counter)
    try:
        yield counter
    finally:
        _active.remove(counter)


def record(**counts):
    """Add counts to every open counting block."""
    for counter in _active:
        for field, amount in counts.items():
            setattr(counter, field, getattr(counter, field) + amount)


def record_details(**details):
    """Note method-specific measurements (colours, edges pushed, ...) in every open counting block."""
    for counter in _active:
        counter.details.update(details)


def record_graph(name, nodes, edges):
    """Note a graph that was built, with its size, in every open counting block."""
    for counter in _active:
        counter.graphs.append((name, nodes, edges))


def run_counted(graph, method, compute, return_stats, uses_G=False, details=dict):
    """compute(), and with return_stats also a report of the exact work it did on `graph`.

    `details` is called after compute() for whatever else the method reports.
    """
    with counting() as counter:
        result = compute()
    if not return_stats:
        return result
    return result, work_report(graph, method, counter, uses_G, **details())


def work_report(graph, method, counter, uses_G=False, **extra):
    """The stats dict of a method: sizes of f (and G) and the counts of one call.

    n: inputs; m: edges of f's graph; f_nodes: its nodes; G_nodes, G_edges: the gradient graph's;
    G_over_f: |G| / |f| in edges; then the Counter's fields (passes, visits, builds, build_visits,
    evaluations) and whatever the method adds.
    """
    report = {"method": method, "n": graph.n, "m": graph.m, "f_nodes": graph.num_nodes}
    if uses_G:
        G = graph.gradient_graph()
        report.update(G_nodes=len(G.nodes), G_edges=G.num_edges, G_over_f=G.ratio())
    report.update(counter.as_dict())
    report.update(counter.details)
    report.update(extra)
    return report


@contextmanager
def uncounted():
    """Suspend every open counting block: for one-off internal work (rule templates) that is no method's cost."""
    saved = _active[:]
    _active.clear()
    try:
        yield
    finally:
        _active[:] = saved
