"""The table of methods: one row per way of computing a derivative, and every rule about it in that row.

A row holds the method's function (of a graph and a checked point), what it returns, whether it sweeps
the gradient graph G (whose size its stats then report), whether it is sized by the Hessian's sparsity
pattern, its working-memory estimate, the cheaper method a refusal names, and a line that describes it.
Its options are read from its function's signature. The public layer makes one call into this table per
call, and hl.hessian's docstring lists the methods from it. Adding a method is adding a row.
"""

import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

from . import memory
from .beyond import edge_pushing, taylor
from .counting import record_details
from .errors import DomainError, HessianLabError, MemoryLimitError, RangeError
from .fast import kernel, sparse, tape
from .hessian import hessian_by_hvp, hessian_forward_over_forward, hessian_naive, hessian_rows, hessian_symmetric
from .higher import nested_tensor, working_bytes as nested_bytes

HESSIAN, TENSOR, SPARSE = "Hessian", "derivative_tensor", "sparse Hessian"  # what a method returns


@dataclass(frozen=True)
class Method:
    """One row: a method's function, what it returns, what it sweeps and costs, and what to use instead."""

    function: Callable  # (graph, point, **options) for Hessians; (graph, point, k, **options) for tensors
    kind: str  # HESSIAN (an (n, n) array), TENSOR (shape (n,)*k) or SPARSE (scipy CSR)
    summary: str  # one line: what it does and how many passes it makes
    working_bytes: Callable  # (graph, k, pattern_nnz) -> the peak bytes it holds, estimated before it runs
    cheaper: str  # what a MemoryLimitError suggests instead
    sweeps_G: bool = False  # it sweeps the gradient graph G, and reports G's size in its stats
    sized_by_pattern: bool = False  # its memory depends on H's sparsity pattern, once that is detected

    @property
    def options(self):
        """The options it takes: its function's parameters after (graph, point), k aside."""
        return accepted_options(self.function)


@functools.lru_cache(maxsize=64)  # one entry per method function: inspect.signature costs ~15 µs a call
def accepted_options(function):
    """The parameters of a method function after (graph, point), k aside."""
    return tuple(p for p in list(inspect.signature(function).parameters)[2:] if p != "k")


G_EDGE = 200  # G, held: about 2 nodes and 4 edges per edge of f (each adjoint·partial term, and the sums of them)
SWEEP_EDGE = 200  # one numeric sweep over G: G's values at the point and one pass's dicts, per edge of f


def gradient_graph_bytes(graph):
    """G's own memory, sized by f's edges (not its nodes: a dot of n terms is one node and n edges); 0 once G is built."""
    return 0 if graph.has_cached("G") else G_EDGE * graph.m


def through_G(graph, k=2, pattern_nnz=None):
    """Peak bytes of the methods that sweep G: G, its values and one pass's working dicts, and H."""
    return gradient_graph_bytes(graph) + SWEEP_EDGE * graph.m + memory.dense_bytes(graph.n, 2)


def symmetric_bytes(graph, k=2, pattern_nnz=None):
    """Peak bytes of "symmetric": those of rows, the highest input of each node of G (half a sweep's dicts), and H's
    upper triangle with its mirror."""
    return through_G(graph) + SWEEP_EDGE * graph.m // 2 + 2 * memory.dense_bytes(graph.n, 2)


def tangent_graph_bytes(graph, k=2, pattern_nnz=None):
    """Peak bytes of forward-over-forward: f's values, one symbolic tangent graph (G's size) and its values, and H."""
    return 2 * G_EDGE * graph.m + SWEEP_EDGE * graph.m + 2 * memory.dense_bytes(graph.n, 2)


def product_bytes(graph):
    """Peak bytes of one Hessian-vector product: G, and its values and tangents at the point."""
    return gradient_graph_bytes(graph) + SWEEP_EDGE * graph.m + 2 * memory.dense_bytes(graph.n, 1)


def gradient_bytes(graph):
    """Peak bytes of one numeric gradient: f's values and adjoints, per edge of f."""
    return SWEEP_EDGE * graph.m


FEW_PRODUCTS = "hl.hvp for a few products, or hl.sparse_hessian if H is sparse"

METHODS = {
    "rows": Method(hessian_rows, HESSIAN, "row i = one backward pass over G_i from x̄_i = eᵢᵀ∇f: n passes, O(n m) "
                   "(prune=False sweeps all of G)", through_G, FEW_PRODUCTS, sweeps_G=True),
    "naive": Method(hessian_naive, HESSIAN, "each entry H[i, j] by its own backward pass over G_i: n² passes, O(n² m)",
                    through_G, "method='rows' (n times fewer visits) or hl.hvp", sweeps_G=True),
    "symmetric": Method(hessian_symmetric, HESSIAN, "rows, computing only j >= i: n passes, fewer visits",
                        symmetric_bytes, FEW_PRODUCTS, sweeps_G=True),
    "forward_over_forward": Method(hessian_forward_over_forward, HESSIAN,
                                   "the fair per-entry baseline: one tangent pass per pair j >= i, n(n+1)/2 passes",
                                   tangent_graph_bytes, FEW_PRODUCTS),
    "hvp": Method(hessian_by_hvp, HESSIAN, "column j = H eⱼ, forward-over-reverse: n passes", through_G,
                  "hl.hvp for the products you need, not all n of them", sweeps_G=True),
    "edge_pushing": Method(edge_pushing.hessian_edge_pushing, HESSIAN,
                           "Gower & Mello (2012): the whole Hessian in one reverse sweep over f",
                           edge_pushing.working_bytes, "method='tape', or hl.sparse_hessian", sized_by_pattern=True),
    "tape": Method(tape.hessian_tape, HESSIAN, "all directions at once through the compiled, level-grouped tape (numpy)",
                   tape.working_bytes, FEW_PRODUCTS),
    "colouring": Method(sparse.hessian_colouring, HESSIAN, "one vectorised product per colour of H's star colouring",
                        sparse.colouring_bytes, "hl.sparse_hessian (a sparse result), or hl.hvp",
                        sized_by_pattern=True),
    "kernel": Method(kernel.hessian_kernel, HESSIAN,
                     "the whole Hessian compiled once into straight-line Python over scalars (CasADi-style)",
                     kernel.working_bytes, "method='tape', or hl.sparse_hessian"),
    "nested": Method(nested_tensor, TENSOR, "part (c): the gradient-graph construction nested k - 1 times",
                     nested_bytes, "a lower order k, or method='taylor' for small n", sweeps_G=True),
    "taylor": Method(taylor.taylor_tensor, TENSOR, "univariate Taylor series, interpolated (Griewank, Utke, Walther "
                     "2000)", taylor.working_bytes, "method='nested', or a lower order k"),
    "sparse": Method(sparse.sparse_hessian, SPARSE, "star colouring and direct recovery, as CSR",
                     sparse.working_bytes, "hl.hvp for the products you need", sized_by_pattern=True),
}
AUTO = "auto"
AUTO_SUMMARY = ("the default: from its second call on a trace on, \"kernel\" where its source stays short; else "
                "\"colouring\" when it needs fewer products than n, else \"tape\"; its stats name the method it ran")


class MethodsOfKind(Mapping):
    """{name: function} of the table's methods of one kind, read from the table at each use (so a row added is seen)."""

    def __init__(self, kind):
        self.kind = kind

    def _names(self):
        return [name for name, row in METHODS.items() if row.kind == self.kind]

    def __getitem__(self, name):
        if name not in self._names():
            raise KeyError(name)
        return METHODS[name].function

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    def __repr__(self):
        return f"{{{', '.join(repr(name) for name in self)}}}"


HESSIAN_METHODS, TENSOR_METHODS = MethodsOfKind(HESSIAN), MethodsOfKind(TENSOR)


def listing(kind):
    """The methods of one kind, a line each, for docstrings: `"rows": row i = one backward pass ...`."""
    rows = [(name, row.summary) for name, row in METHODS.items() if row.kind == kind]
    if kind == HESSIAN:
        rows.append((AUTO, AUTO_SUMMARY))
    return "\n".join(f"    {name!r}: {summary}" for name, summary in rows)


def checked(name, kind, options):
    """The row of method `name` of `kind`, if it exists and takes `options`; else a HessianLabError saying why.

    "auto" (Hessians only) passes here; its choice is checked when it is made (choose).
    """
    names = ([AUTO] if kind == HESSIAN else []) + [m for m, row in METHODS.items() if row.kind == kind]
    if not isinstance(name, str) or name not in names:
        raise HessianLabError(f"unknown {kind} method {name!r}; choose one of: {', '.join(names)}")
    if name == AUTO:
        return None
    _check_options(name, options)
    return METHODS[name]


def _check_options(name, options):
    """A HessianLabError naming an option the method does not take, and the options it does."""
    accepted = METHODS[name].options
    unknown = [option for option in options if option not in accepted]
    if unknown:
        offer = f"its options are: {', '.join(accepted)}" if accepted else "it takes no options"
        raise HessianLabError(f"method {name!r} does not take {', '.join(map(repr, unknown))}; {offer}")


def choose(graph, options):
    """The method "auto" stands for on this graph now: the compiled kernel from auto's second call on a trace on,
    where its source is short; else colouring when the pattern needs fewer products than n; else the tape.

    Compiling a kernel costs as much as a few hundred of its calls, so a trace used once (hl.hessian(f, x0)) never
    pays for it; a trace that is reused (Newton's method) pays once, on auto's second call. Calls that name a
    method do not count. The choice must take the options given, or a HessianLabError says what auto chose.
    """
    if graph.count_call(AUTO) > 0 and kernel.has_kernel(graph):
        name = "kernel"
    else:
        plan = sparse.sparse_plan(graph)
        name = "colouring" if plan is not None and plan.num_colours < graph.n else "tape"
    if options:
        try:
            _check_options(name, options)
        except HessianLabError as error:
            raise HessianLabError(f"the default method \"auto\" chose {name!r} here: {error}; name the method "
                                  "the option belongs to, e.g. method='rows'") from None
    return name


def run_auto(graph, point, name, options):
    """auto's Hessian by the method `choose` named; where that method's own order of products leaves the float
    range (a RangeError: 1e-85 sqrt(1e170 x)), by the rows method, so auto answers wherever rows answers. Where
    rows cannot either, the first error stands: it names f's node, where rows' would name a node of G."""
    try:
        return METHODS[name].function(graph, point, **options)
    except RangeError as first:
        if name == "rows":
            raise
        check_memory(graph, "rows")
        record_details(fallback="rows")
        try:
            return hessian_rows(graph, point)
        except DomainError:
            raise first from None


def check_memory(graph, name, k=2):
    """Refuse method `name` before it starts if its working memory would not fit.

    A method sized by the pattern is sized as if H were dense, plus the detection, until the pattern is known;
    if that does not fit, the pattern is detected (its memory is bounded) and the method sized by it.
    """
    row = METHODS[name]
    nnz = sparse.detected_nnz(graph) if row.sized_by_pattern else None
    try:
        _check_fits(graph, name, k, nnz)
    except MemoryLimitError:
        if not row.sized_by_pattern or nnz is not None:
            raise
        sparse.sparse_plan(graph)
        _check_fits(graph, name, k, sparse.detected_nnz(graph))


def check_product_memory(graph):
    """Refuse a Hessian-vector product before it starts if G and one sweep of it would not fit."""
    memory.check_fits(product_bytes(graph), "a Hessian-vector product", f"for n = {graph.n}, m = {graph.m}",
                      "a smaller f, or hl.sparse_hessian if H is sparse (its products sweep a compiled tape)")


def check_gradient_memory(graph):
    """Refuse a numeric gradient before it starts if its values and adjoints would not fit."""
    memory.check_fits(gradient_bytes(graph), "a gradient", f"for n = {graph.n}, m = {graph.m}",
                      "a smaller f, or one written with hl.sum and hl.dot (fewer nodes)")


def _check_fits(graph, name, k, pattern_nnz):
    """memory.check_fits for one row's estimate, with the message every refusal of a method shares."""
    row = METHODS[name]
    order = f", k = {k}" if k != 2 else ""
    memory.check_fits(row.working_bytes(graph, k, pattern_nnz), f"method {name!r}",
                      f"of working memory for n = {graph.n}{order}", row.cheaper)
