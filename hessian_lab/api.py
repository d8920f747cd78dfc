"""The public layer: a traced f as a Graph, whose methods are the one checked path of every operation.

hl.hessian(f, x0, ...) is hl.trace(f, n, at=x0).hessian(x0, ...), and so for every operation: each checks
its point (once), its method and options, refuses what would not fit in memory, runs one method of the
table (hessian_lab.methods) and attaches the exact work it did. Everything below trusts what it is handed.
"""

import threading

from . import backprop as sweeps, memory, methods, tracing
from .counting import counting
from .fast.sparse import sparse_plan
from .fast.tape import tape_of
from .hessian import hvp as hessian_vector_product
from .hessian_operator import HessianOperator
from .node import count_edges, to_text, topological_order

HESSIAN_METHODS, TENSOR_METHODS = methods.HESSIAN_METHODS, methods.TENSOR_METHODS


class Graph:
    """A traced f: R^n -> R, a straight-line program reusable at every x0 of length n, with every method.

    Sizes: `m` is the number of edges (one per node-argument pair) of f's graph, the m of the
    assignment; `num_nodes` counts its nodes (inputs and constants included). A graph traced where f
    branched remembers each branch, and raises a BranchError at any point where one would go the other way.
    What is derived from the graph once (G, a compiled tape) is kept by `cached`, built once even under threads.
    """

    def __init__(self, f, n, at=None):
        """Trace f on n inputs; `at` decides the branches f takes (hl.trace's docstring)."""
        self._record(f, n, None if at is None else tracing.as_point(at, n, "at"))

    @classmethod
    def at_checked_point(cls, f, point):
        """A fresh trace of f at a point the caller has just checked (hl.hessian & co.), which is not checked again."""
        graph = cls.__new__(cls)
        graph._record(f, len(point), point)
        return graph

    def _record(self, f, n, point):
        """Trace f on n inputs at a checked point (or None) and keep the graph's parts."""
        self.traced_at = point
        self.inputs, self.output, self.branches = tracing.record(f, n, point)
        self.n = len(self.inputs)
        self.nodes = topological_order([self.output])
        self.m = count_edges(self.nodes)
        self._cache = {}
        self._calls = {}
        self._lock = threading.RLock()  # a build may ask for another cached part (the plan needs the tape)

    @property
    def num_nodes(self):
        """Nodes of f's graph, inputs and constants included."""
        return len(self.nodes)

    def cached(self, key, build):
        """build(), computed once per graph and key and then reused (G, the tape, the sparse plan)."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    def has_cached(self, key):
        """Whether `cached(key, ...)` has already been built on this graph (it then costs nothing to ask for)."""
        with self._lock:
            return key in self._cache

    def count_call(self, key):
        """How many times `key` was counted on this graph before this call (auto counts its calls here)."""
        with self._lock:
            before = self._calls.get(key, 0)
            self._calls[key] = before + 1
            return before

    def point(self, x0):
        """x0 checked: a finite vector of length n at which every recorded branch goes the traced way.

        The point this graph was traced at is that already, by construction, and is not checked again.
        """
        if x0 is self.traced_at:
            return x0
        point = tracing.as_point(x0, self.n)
        tracing.check_branches(self.branches, point)
        return point

    def values(self, point):
        """The value of every node of f at a checked point: the forward pass, which also checks f's domain."""
        return sweeps.evaluate(self.nodes, point)

    def value(self, x0):
        """f(x0)."""
        return float(self.values(self.point(x0))[self.output])

    def gradient_graph(self):
        """The gradient graph G, built once per trace and reused by every row and every call."""
        return sweeps.gradient_graph(self)

    def tape(self):
        """The graph compiled for vectorised sweeps (hessian_lab.fast.tape.Tape), built once per trace."""
        return tape_of(self)

    def sparse_plan(self):
        """The Hessian's sparsity pattern, star colouring and recovery map, built once per trace; None if dense."""
        return sparse_plan(self)

    def gradient(self, x0, return_stats=False):
        """∇f(x0) by one backward pass: O(m)."""
        point = self.point(x0)
        methods.check_gradient_memory(self)
        return self._run("gradient", lambda: sweeps.gradient(self, point), return_stats)

    def hessian(self, x0, method="auto", return_stats=False, **options):
        """∇²f(x0) by `method` (see hl.hessian); with return_stats, also the exact work done."""
        memory.check_dense_fits(self.n, 2)
        methods.checked(method, methods.HESSIAN, options)
        point = self.point(x0)
        chosen = methods.choose(self, options) if method == methods.AUTO else method
        extra = {"chosen_by": "auto"} if method == methods.AUTO else {}
        methods.check_memory(self, chosen)
        if method == methods.AUTO:
            return self._run(chosen, lambda: methods.run_auto(self, point, chosen, options), return_stats, **extra)
        function = methods.METHODS[chosen].function
        return self._run(chosen, lambda: function(self, point, **options), return_stats, **extra)

    def hvp(self, x0, v, return_stats=False):
        """∇²f(x0) v in one forward-over-reverse pass over G: O(m) (Pearlmutter)."""
        direction = tracing.check_vector(v, self.n)
        point = self.point(x0)
        methods.check_product_memory(self)
        return self._run("hvp", lambda: hessian_vector_product(self, point, direction), return_stats)

    def derivative_tensor(self, x0, k, return_stats=False, method="nested", **options):
        """All k-th partial derivatives at x0, an array of shape (n,)*k (see hl.derivative_tensor)."""
        k = memory.check_order(self.n, k)
        function = methods.checked(method, methods.TENSOR, options).function
        point = self.point(x0)
        methods.check_memory(self, method, k)
        return self._run(method, lambda: function(self, point, k, **options), return_stats)

    def sparse_hessian(self, x0, return_stats=False):
        """∇²f(x0) as a scipy.sparse CSR matrix, by one vectorised product per colour."""
        point = self.point(x0)
        methods.check_memory(self, "sparse")
        return self._run("sparse", lambda: methods.METHODS["sparse"].function(self, point), return_stats)

    def hessian_operator(self, x0):
        """∇²f(x0) as a scipy LinearOperator whose every product is one hvp (for scipy's cg and eigsh); it counts them."""
        return HessianOperator(self, self.point(x0), lambda: methods.check_product_memory(self))

    def _run(self, method, compute, return_stats, **extra):
        """compute(), and with return_stats also the report of the exact work it did."""
        with counting() as counter:
            result = compute()
        return (result, self.work_report(method, counter, **extra)) if return_stats else result

    def work_report(self, method, counter, **extra):
        """The stats dict of a call: sizes of f (and of G, for the methods that sweep it) and the counts of one call.

        n: inputs; m: edges of f's graph; f_nodes: its nodes; G_nodes, G_edges: the gradient graph's;
        G_over_f: |G| / |f| in edges; then the Counter's fields (passes, visits, builds, build_visits,
        evaluations) and whatever the method measured.
        """
        report = {"method": method, "n": self.n, "m": self.m, "f_nodes": self.num_nodes}
        if method == "hvp" or method in methods.METHODS and methods.METHODS[method].sweeps_G:
            G = self.gradient_graph()
            report.update(G_nodes=len(G.nodes), G_edges=G.num_edges, G_over_f=G.ratio())
        report.update(counter.as_dict())
        report.update(counter.details)
        report.update(extra)
        return report

    def __repr__(self):
        return f"<Graph n = {self.n}, m = {self.m} edges, {self.num_nodes} nodes: {to_text(self.output)}>"


def trace(f, n, at=None):
    """Run f once on n input nodes and return its computation Graph.

    `at` is needed only if f branches on a value (`if x[0] > 0`, `max(x[0], x[1])`): the branch is
    decided there, recorded, and checked whenever the graph is reused at another point.
    """
    return Graph(f, n, at)


def _traced(f, x0):
    """A fresh trace of f at x0, checked once: the graph's methods take its traced_at without checking it again."""
    return Graph.at_checked_point(f, tracing.as_point(x0))


def gradient(f, x0, return_stats=False):
    """∇f(x0), an ndarray of shape (n,), by one backward pass."""
    g = _traced(f, x0)
    return g.gradient(g.traced_at, return_stats)


def hessian(f, x0, method="auto", return_stats=False, **options):
    """∇²f(x0), an (n, n) ndarray, by `method`:

{methods}

    With return_stats=True, returns (H, stats) with the exact work done (see Graph.work_report).
    """
    point = tracing.as_point(x0)
    memory.check_dense_fits(len(point), 2)  # before tracing: refuse at once what could never run
    methods.checked(method, methods.HESSIAN, options)
    g = Graph.at_checked_point(f, point)
    return g.hessian(g.traced_at, method, return_stats, **options)


def hvp(f, x0, v, return_stats=False):
    """∇²f(x0) v in O(m), forward-over-reverse (Pearlmutter)."""
    g = _traced(f, x0)
    return g.hvp(g.traced_at, v, return_stats)


def derivative_tensor(f, x0, k, return_stats=False, method="nested", **options):
    """All k-th partial derivatives of f at x0, an ndarray of shape (n,)*k, by `method`:

{methods}
    """
    point = tracing.as_point(x0)
    memory.check_order(len(point), k)  # before tracing, as for hessian
    methods.checked(method, methods.TENSOR, options)
    g = Graph.at_checked_point(f, point)
    return g.derivative_tensor(g.traced_at, k, return_stats, method, **options)


def sparse_hessian(f, x0, return_stats=False):
    """∇²f(x0) as a scipy.sparse CSR matrix: sparsity detected from the graph, star colouring, direct recovery."""
    g = _traced(f, x0)
    return g.sparse_hessian(g.traced_at, return_stats)


def hessian_operator(f, x0):
    """∇²f(x0) as a scipy LinearOperator (hessian_lab.hessian_operator.HessianOperator): H is never formed."""
    g = _traced(f, x0)
    return g.hessian_operator(g.traced_at)


def evaluate(order, point, values=None):
    """Forward pass: the value of each node of `order` (topological) at `point`, added to `values` (a checked point)."""
    return sweeps.evaluate(order, tracing.as_point(point, name="the point"), values)


hessian.__doc__ = hessian.__doc__.format(methods=methods.listing(methods.HESSIAN))
derivative_tensor.__doc__ = derivative_tensor.__doc__.format(methods=methods.listing(methods.TENSOR))
