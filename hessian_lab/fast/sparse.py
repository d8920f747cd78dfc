"""Sparse Hessians by graph colouring: detect the pattern, star-colour it, one product per colour, recover.

- Pattern: a node whose second local partial s_kl is not identically zero couples every input that
  argument k depends on with every input that argument l depends on (the nonlinear interaction domains).
- Colouring: greedy star colouring (Gebremedhin, Manne and Pothen, SIAM Review 2005): a distance-1
  colouring in which every path on four vertices uses at least three colours. A banded Hessian of
  half-bandwidth β gets 2β+1 colours.
- Products: H D, with one 0/1 column of D per colour, in one vectorised sweep of the compiled tape.
- Recovery is direct: for each nonzero H[i, j], j is the only neighbour of i in its colour (or i the only
  one of j in its), so H[i, j] is one entry of H D.
"""

from collections import Counter

import numpy as np
import scipy.sparse as sp

from ..counting import record_details, record_method
from ..memory import PATTERN_BYTES, SET_ENTRY
from .tape import _NonlinearGroup, tape_of

DENSE_PATTERN_FRACTION = 0.5  # past this fill, the pattern is treated as dense


def hessian_pattern(tape):
    """The structurally nonzero entries of H as a symmetric CSR pattern (diagonal included), or None if dense.

    Detection gives up, calling the pattern dense, as soon as it holds more than half of all n² entries or
    more than PATTERN_BYTES of row sets, or when one node alone would couple that many pairs.
    """
    n = tape.n
    deps = [frozenset((i,)) for i in range(n)] + [frozenset()] * (tape.size - n)
    rows = [set((i,)) for i in range(n)]
    limit = min(DENSE_PATTERN_FRACTION * n * n, PATTERN_BYTES / SET_ENTRY)
    filled = n
    for group in tape.groups:
        if isinstance(group, _NonlinearGroup):
            sources = [group.args[k] for k in range(len(group.args))]
            for r, slot in enumerate(range(group.slice.start, group.slice.stop)):
                arg_deps = [deps[src[r]] for src in sources]
                deps[slot] = arg_deps[0] if len(arg_deps) == 1 else frozenset().union(*arg_deps)
                for k, l in group.pairs:
                    if len(arg_deps[k]) * len(arg_deps[l]) > limit:
                        return None
                    for i in arg_deps[k]:
                        before = len(rows[i])
                        rows[i].update(arg_deps[l])
                        filled += len(rows[i]) - before
                if filled > limit:
                    return None
        else:
            W = group.W if isinstance(group.W, sp.csr_matrix) else sp.csr_matrix(group.W)
            for r, slot in enumerate(range(group.slice.start, group.slice.stop)):
                cols = group.U[W.indices[W.indptr[r] : W.indptr[r + 1]]]
                deps[slot] = deps[cols[0]] if len(cols) == 1 else frozenset().union(*(deps[c] for c in cols))
    for i, row in enumerate(rows):  # symmetrise: s_kl couples both ways
        for j in row:
            rows[j].add(i)
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.concatenate([np.sort(np.fromiter(r, dtype=np.intp)) for r in rows])
    return sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))


def star_colouring(pattern):
    """Greedy star colouring of the adjacency graph of a symmetric pattern (GMP 2005, StarColoringAlg1)."""
    n = pattern.shape[0]
    adj = [[w for w in pattern.indices[pattern.indptr[v] : pattern.indptr[v + 1]].tolist() if w != v] for v in range(n)]
    colour = [-1] * n
    forbidden = [-1] * (n + 1)
    for v in range(n):
        for w in adj[v]:
            if colour[w] >= 0:
                forbidden[colour[w]] = v
        for w in adj[v]:
            for x in adj[w]:
                if x == v or colour[x] < 0:
                    continue
                if colour[w] < 0 or any(y != w and colour[y] == colour[w] for y in adj[x]):
                    forbidden[colour[x]] = v
        c = 0
        while forbidden[c] == v:
            c += 1
        colour[v] = c
    return np.array(colour, dtype=np.intp)


class SparsePlan:
    """Pattern, colours, seed matrix and recovery map of one compiled tape: everything but the numbers."""

    def __init__(self, tape, pattern):
        self.tape = tape
        self.pattern = pattern
        self.colours = star_colouring(pattern)
        self.num_colours = int(self.colours.max()) + 1 if len(self.colours) else 0
        n = tape.n
        self.seed = np.zeros((n, self.num_colours))
        self.seed[np.arange(n), self.colours] = 1.0
        self.source_row, self.source_col = self._recovery()

    def _recovery(self):
        """For each stored entry (i, j): the entry of H D that equals it, which star colouring guarantees.

        Only i <= j is looked up; (j, i) takes the same source, so the result is exactly symmetric.
        """
        P, c = self.pattern, self.colours
        rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
        cols = P.indices
        neighbours_in_colour = Counter((i, c[j]) for i, j in zip(rows, cols) if i != j)
        source = {}
        for i, j in zip(rows, cols):
            if i > j:
                continue
            if i == j or neighbours_in_colour[(i, c[j])] == 1:
                source[(i, j)] = (i, c[j])
            elif neighbours_in_colour[(j, c[i])] == 1:
                source[(i, j)] = (j, c[i])
            else:
                raise AssertionError(f"colouring does not allow direct recovery of H[{i}, {j}]")
        pairs = [source[(min(i, j), max(i, j))] for i, j in zip(rows, cols)]
        return np.array([p[0] for p in pairs], dtype=np.intp), np.array([p[1] for p in pairs], dtype=np.intp)

    def hessian(self, x):
        """The Hessian at x as a CSR matrix, from one product H D per colour."""
        compressed = self.tape.hessian_times_at(x, self.seed)
        return sp.csr_matrix((compressed[self.source_row, self.source_col], self.pattern.indices.copy(),
                              self.pattern.indptr.copy()), shape=self.pattern.shape)


def sparse_plan(graph):
    """The Hessian's sparsity pattern, star colouring and recovery map, built once per trace; None if dense."""
    def build():
        """The plan, or None where the pattern is dense."""
        tape = tape_of(graph)
        pattern = hessian_pattern(tape)
        return SparsePlan(tape, pattern) if pattern is not None else None

    return graph.cached("sparse plan", build)


def sparse_hessian(graph, point):
    """∇²f at a checked point as CSR: one product per colour if the pattern is sparse, else every direction."""
    record_method("sparse")
    plan = sparse_plan(graph)
    if plan is None:
        record_details(colours=graph.n, pattern="dense")
        return sp.csr_matrix(tape_of(graph).hessian_at(point))
    record_details(colours=plan.num_colours, pattern="sparse", nnz=int(plan.pattern.nnz))
    return plan.hessian(point)


def hessian_colouring(graph, point):
    """One vectorised Hessian-vector product per colour of H's star colouring, recovered into a dense array."""
    plan = sparse_plan(graph)
    if plan is None:
        record_method("tape")
        return tape_of(graph).hessian_at(point)
    record_method("colouring")
    record_details(colours=plan.num_colours)
    return plan.hessian(point).toarray()
