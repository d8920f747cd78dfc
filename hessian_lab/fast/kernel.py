"""A traced graph compiled into one straight-line Python function for its Hessian: no loops, no arrays, no lookups.

The Hessian is ∇²f = Σ_v v̄ Σ_kl s_kl J_kᵀ J_l over the nonlinear nodes v (as in fast.tape), where J_k is the
gradient of v's k-th argument with respect to x. Here every term is written out once, as Python source over
scalar locals: the forward sweep, each node's local partials (from the templates of hessian_lab.second_order), the
adjoints v̄, the nonzero entries of each needed J, and one sum per entry of H's upper triangle. Entries known
while compiling (a weight times 1.0, a Jacobian of an affine node) are folded, so only numbers that depend on x
are computed. CPython then runs about 20 ns per statement: at small n this beats any sweep over arrays.

Kernels are for small Hessians: a kernel runs at about 1 ns and compiles at about 0.3 µs per character of its
source, so one is refused past MAX_SOURCE characters: about 0.2 ms a call, where colouring's and the tape's sweeps
take about as long (measured on Rosenbrock and chain at n = 256, and notebook 7's classifier).
Its source is written by hessian_lab.fast.source (which says why running it is safe), and where a value fails
the call goes to the tape, which names the node and the domain that failed.
"""

import numpy as np

from ..counting import record, record_details, record_method
from ..errors import TINY, DomainError, HessianLabError
from ..memory import dense_bytes
from .source import (MAX_SOURCE, SHORTEST_LINE, Compiled, TooLarge, Writer, literal, product, too_large, write_forward,
                     write_reverse)
from .tape import tape_of

class Kernel:
    """f's Hessian as one compiled Python function of x's entries; `statements` is the work of one call."""

    def __init__(self, graph):
        self.graph = graph
        self.n = graph.n
        w = Writer()
        position = {x: i for i, x in enumerate(graph.inputs)}
        value, partials, pairs = write_forward(graph, w, position)
        adjoint = write_reverse(graph, w, value, partials)
        jacobian = self._jacobians(graph, w, pairs, partials, position)
        upper = {}
        scales = {}  # per weight multiplied at run time: |w|, or 0.0 where it underflowed to 0 from nonzero factors
        for v, rule_pairs in pairs.items():
            for (k, l), s in rule_pairs:
                a = adjoint.get(v, 0.0)  # a node no partial reaches has adjoint 0
                weight = product(a, s)
                if weight is None:
                    continue
                if not isinstance(weight, float):
                    weight = w.let(f"w{v.id}_{k}_{l}", weight)
                    if a not in (1.0, -1.0) and s not in (1.0, -1.0) and weight not in scales:  # a product was made
                        factors = " and ".join(f for f in (a, s) if isinstance(f, str)) or "1.0"
                        scales[weight] = w.term(f"abs({weight}) or (0.0 if {factors} else 1.0)")
                for i, Jki in jacobian[v.args[k]].items():
                    for j, Jlj in jacobian[v.args[l]].items():
                        if i <= j:
                            term = product(weight, Jki, Jlj)
                            if term is not None:
                                upper.setdefault((i, j), []).append(w.term(term))
        entries = sorted(upper)
        results = [w.total(f"h{i}_{j}", upper[i, j]) for i, j in entries]
        returned = ", ".join(r if isinstance(r, str) else literal(r) for r in results)
        smallest = f"min({', '.join(scales.values())}, 1.0)" if scales else "1.0"
        self.compiled = Compiled(graph, w, f"([{returned}], {smallest})", "hessian")
        self.statements, self.source = self.compiled.statements, self.compiled.source
        self.rows = np.array([i for i, _ in entries], dtype=np.intp)
        self.cols = np.array([j for _, j in entries], dtype=np.intp)

    @staticmethod
    def _jacobians(graph, w, pairs, partials, position):
        """J_u = ∂u/∂x as {input index: name or float} for every argument of a nonlinear pair, and what they need."""
        needed = set()
        stack = [v.args[k] for v, rule_pairs in pairs.items() for pair, _ in rule_pairs for k in pair]
        while stack:
            u = stack.pop()
            if u not in needed and u.op != "const":
                needed.add(u)
                if u.op != "input":
                    stack.extend(a for a, _ in partials[u])
        jacobian = {}
        for u in graph.nodes:
            if u not in needed:
                continue
            if u.op == "input":
                jacobian[u] = {position[u]: 1.0}
                continue
            if len(partials[u]) == 1 and partials[u][0][1] == 1.0:
                jacobian[u] = jacobian[partials[u][0][0]]
                continue
            entries = {}
            for a, p in partials[u]:
                for i, Jai in jacobian[a].items():
                    term = product(p, Jai)
                    if term is not None:
                        entries.setdefault(i, []).append(w.term(term))
            jacobian[u] = {i: w.total(f"j{u.id}_{i}", t) for i, t in sorted(entries.items())}
        return jacobian

    def hessian_at(self, x):
        """The dense Hessian at a checked point, or None where a value failed (fast.source's Compiled.run) or a
        weight v̄ s underflowed (the tape then says whether a term was lost)."""
        result = self.compiled.run(x)
        if result is None or result[1] < TINY:
            return None
        H = np.zeros((self.n, self.n))
        H[self.rows, self.cols] = result[0]
        H[self.cols, self.rows] = result[0]
        return H


KERNEL = "kernel"  # the key of the kernel in its graph's cache


def kernel_of(graph):
    """The graph's Hessian kernel, compiled once per trace; where there is none, the error that says why (also kept)."""
    kernel = _kernel_or_reason(graph)
    if isinstance(kernel, HessianLabError):
        raise kernel
    return kernel


def has_kernel(graph):
    """Whether the graph has a kernel, compiling it if this is the first time anyone asks."""
    return not isinstance(_kernel_or_reason(graph), HessianLabError)


def _kernel_or_reason(graph):
    """The kernel or the error, from the graph's cache (built by _build the first time)."""
    return graph.cached(KERNEL, lambda: _build(graph))


def _build(graph):
    """A Kernel, or the error that says why there is none (kept, so the attempt is made once): TooLarge, or the
    DomainError of a number fixed by f's constants that is not finite."""
    if (graph.num_nodes - graph.n) * SHORTEST_LINE > MAX_SOURCE:  # refused without writing a line
        return too_large(f"f's graph alone, {graph.num_nodes:,} nodes, needs more")
    try:
        return Kernel(graph)
    except (TooLarge, DomainError) as error:
        return error
    except (SyntaxError, RecursionError) as error:  # a writer's mistake must not reach the user: the tape answers
        return HessianLabError(f"method 'kernel' could not compile this Hessian ({type(error).__name__}: {error}); "
                               "use method='tape'")


SOURCE_BYTES = 10  # compiling, per character of source: the text, its syntax tree and code (measured 6 to 14)


def working_bytes(graph, k=2, pattern_nnz=None):
    """Peak bytes of method "kernel": writing and compiling its source (at most MAX_SOURCE characters), unless
    that was done, and H with its entries."""
    compiling = 0 if graph.has_cached(KERNEL) else SOURCE_BYTES * MAX_SOURCE
    return compiling + 2 * dense_bytes(graph.n, 2)


def hessian_kernel(graph, point):
    """The dense Hessian by the graph's compiled straight-line kernel; where a value fails, by the tape, which names it."""
    kernel = kernel_of(graph)
    record_method("kernel")
    H = kernel.hessian_at(point)
    if H is None:  # the tape raises the DomainError that names the node; should it not, its Hessian stands
        H = tape_of(graph).hessian_at(point)
        record_details(fallback="tape")
        return H
    record(evaluations=graph.num_nodes, passes=1, visits=kernel.statements)
    return H
