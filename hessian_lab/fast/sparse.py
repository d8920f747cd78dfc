"""Sparse Hessians by graph colouring: detect the pattern, star-colour it, one product per colour, recover.

- Pattern: a node whose second local partial s_kl is not identically zero couples every input that
  argument k depends on with every input that argument l depends on (the nonlinear interaction domains).
- Colouring: greedy star colouring (Gebremedhin, Manne and Pothen, SIAM Review 2005): a distance-1
  colouring in which every path on four vertices uses at least three colours. The natural vertex order
  comes first; largest-first and smallest-last are tried only while the colours exceed a certified lower
  bound. A banded Hessian of half-bandwidth β gets 2β+1 colours, an arrowhead 2.
- Products: H D, with one 0/1 column of D per colour, in one vectorised sweep of the compiled tape.
- Recovery is direct: for each nonzero H[i, j], j is the only neighbour of i in its colour (or i the only
  one of j in its), so H[i, j] is one entry of H D.
"""

from collections import Counter

import numpy as np
import scipy.sparse as sp

from ..counting import record_details, record_method
from ..memory import FLOAT, dense_bytes
from .tape import BLOCK_BYTES, NonlinearGroup, compiled_bytes, tape_of
from .tape import working_bytes as tape_bytes

DENSE_PATTERN_FRACTION = 0.5  # past this fill, the pattern is treated as dense
PATTERN_BYTES = 256 * 2**20  # detection gives up (the Hessian is treated as dense) past this many bytes of row sets
SET_ENTRY = 64  # one index in a row set of the pattern
SEEN_TWICE = -1  # in greedy_star_colouring's `around`: two or more neighbours have this colour (never a vertex)


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
        if isinstance(group, NonlinearGroup):
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


def adjacency(pattern):
    """Each vertex's neighbours in the adjacency graph of a symmetric pattern: its row's columns, minus itself."""
    return [[w for w in pattern.indices[pattern.indptr[v] : pattern.indptr[v + 1]].tolist() if w != v]
            for v in range(pattern.shape[0])]


def greedy_star_colouring(adj, order):
    """Greedy star colouring visiting vertices in `order` (GMP 2005, StarColoringAlg1): each takes the smallest colour
    that no neighbour has and that closes no two-coloured path on four vertices v–w–x–y.

    v may not take, for each neighbour w: if w is uncoloured, any colour around w (v–w–x would pair with a later w);
    if w is coloured, w's colour and `guarded[w]`, the colours of those neighbours x of w that have a second neighbour
    coloured like w. `around[x]` maps each colour around x to its first neighbour of that colour, or to SEEN_TWICE.
    Both only grow, and are updated as each vertex is coloured, so a vertex costs its degree times the colours in
    use instead of a walk over its neighbours' neighbours (n steps per leaf around an arrowhead's hub). The result is
    the same colouring as the textbook loop, which the tests keep as the oracle.
    """
    n = len(adj)
    colour = [-1] * n
    around = [{} for _ in range(n)]
    guarded = [set() for _ in range(n)]
    for v in order:
        forbidden = set()
        for w in adj[v]:
            if colour[w] < 0:
                forbidden.update(around[w])
            else:
                forbidden.add(colour[w])
                forbidden |= guarded[w]
        c = len(forbidden)  # the smallest colour not forbidden: len(forbidden) when they are 0, 1, ..., c-1
        if c and max(forbidden) != c - 1:
            c = 0
            while c in forbidden:
                c += 1
        colour[v] = c
        for x in adj[v]:  # v may be x's second neighbour coloured c: then x's colour is guarded at both
            earlier = around[x].get(c)
            if earlier is None:
                around[x][c] = v
                continue
            if earlier != SEEN_TWICE:
                around[x][c] = SEEN_TWICE
                if colour[x] >= 0:
                    guarded[earlier].add(colour[x])
            if colour[x] >= 0:
                guarded[v].add(colour[x])
        for w in adj[v]:  # v itself may have two neighbours coloured like w: then v's colour is guarded at w
            if around[v].get(colour[w]) == SEEN_TWICE:
                guarded[w].add(c)
    return np.array(colour, dtype=np.intp)


def largest_first(adj):
    """Vertices by decreasing degree (ties in natural order), so that a hub is coloured before its many leaves."""
    return np.argsort([-len(ws) for ws in adj], kind="stable").tolist()


def smallest_last(adj):
    """Smallest-last order (Matula and Beck): repeatedly remove a vertex of least remaining degree, colour in reverse.

    Each vertex then has few already-coloured neighbours when its turn comes; buckets of vertices by remaining degree
    (insertion-ordered dicts, so ties go to the earliest) keep it O(n + m).
    """
    degree = [len(ws) for ws in adj]
    buckets = [{} for _ in range(max(degree, default=0) + 1)]
    for v, d in enumerate(degree):
        buckets[d][v] = None
    removed = [False] * len(adj)
    removal = []
    lowest = 0
    for _ in range(len(adj)):
        lowest = max(lowest - 1, 0)  # removing a vertex lowers its neighbours' degrees by at most one
        while not buckets[lowest]:
            lowest += 1
        v = next(iter(buckets[lowest]))
        del buckets[lowest][v]
        removed[v] = True
        removal.append(v)
        for w in adj[v]:
            if not removed[w]:
                del buckets[degree[w]][w]
                degree[w] -= 1
                buckets[degree[w]][w] = None
    return removal[::-1]


def colours_lower_bound(pattern):
    """A number of colours no star colouring of the pattern can go below: a colouring that reaches it is optimal.

    Each certificate holds for any star colouring:
    - one colour once there is a vertex, two once there is an edge (its ends differ);
    - three when some edge u–w has another neighbour at each end, x of u and y of w: either x ≠ y and x–u–w–y is a
      path on four vertices, which two colours could only alternate along, or x = y and u, w, x is a triangle;
    - a clique, grown greedily from each vertex of high enough degree: its vertices are pairwise adjacent, so
      pairwise differently coloured (β+1 on a band of half-bandwidth β, whose optimum 2β+1 lies above it).
    It is not the largest number of nonzeros in a row: an arrowhead's hub row is full, yet two colours suffice.
    """
    n = pattern.shape[0]
    rows = np.repeat(np.arange(n), np.diff(pattern.indptr))
    off_diagonal = rows != pattern.indices
    u, w = rows[off_diagonal], pattern.indices[off_diagonal]
    degree = np.bincount(u, minlength=n)
    best = 0 if n == 0 else 1 if len(u) == 0 else 2
    if np.any((degree[u] >= 2) & (degree[w] >= 2)):
        best = 3

    def neighbours(v):
        """The vertices adjacent to v."""
        return set(pattern.indices[pattern.indptr[v] : pattern.indptr[v + 1]].tolist()) - {v}

    for v in np.argsort(-degree, kind="stable").tolist():
        if degree[v] + 1 <= best:
            break  # no clique through v, nor through any later vertex, can be larger
        clique, candidates = 1, neighbours(v)
        while candidates:
            member = min(candidates)
            clique += 1
            candidates &= neighbours(member)
        best = max(best, clique)
    return best


ORDERINGS = (largest_first, smallest_last)  # degree-based orders (GMP 2005), tried after the natural one


def star_colouring(pattern, lower_bound=None):
    """Greedy star colouring of the adjacency graph of a symmetric pattern, in the order that needs the fewest colours.

    The natural order comes first; only if it uses more colours than the lower bound (by default colours_lower_bound)
    are largest-first and smallest-last tried, keeping the first colouring with the fewest colours. On bands, blocks
    and diagonals the natural order is already optimal; on an arrowhead it uses n colours, largest-first two.
    """
    adj = adjacency(pattern)
    best = greedy_star_colouring(adj, range(len(adj)))
    bound = colours_lower_bound(pattern) if lower_bound is None else lower_bound
    for ordering in ORDERINGS:
        if len(best) == 0 or best.max() + 1 <= bound:
            break
        colour = greedy_star_colouring(adj, ordering(adj))
        if colour.max() < best.max():
            best = colour
    return best


class SparsePlan:
    """Pattern, colours and their lower bound, seed matrix and recovery map of one compiled tape: all but the numbers."""

    def __init__(self, tape, pattern):
        self.tape = tape
        self.pattern = pattern
        self.colours_lower_bound = colours_lower_bound(pattern)
        self.colours = star_colouring(pattern, self.colours_lower_bound)
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


PLAN = "sparse plan"  # the key of the plan in its graph's cache


def sparse_plan(graph):
    """The Hessian's sparsity pattern, star colouring and recovery map, built once per trace; None if dense."""
    def build():
        """The plan, or None where the pattern is dense."""
        tape = tape_of(graph)
        pattern = hessian_pattern(tape)
        return SparsePlan(tape, pattern) if pattern is not None else None

    return graph.cached(PLAN, build)


def detected_nnz(graph):
    """The structural nonzeros of H (n² if its pattern is dense) once sparse_plan has run on this graph; else None."""
    if not graph.has_cached(PLAN):
        return None
    plan = sparse_plan(graph)
    return graph.n**2 if plan is None else int(plan.pattern.nnz)


SLOT_BYTES = 6 * FLOAT  # one slot of a product's gradient state: its value, adjoint and local partials


def working_bytes(graph, k=2, pattern_nnz=None, dense_result=False):
    """Peak bytes of the sparse methods. Before the pattern is detected: detection, then the tape's dense Hessian and
    its CSR copy. With a dense pattern: the tape's dense Hessian (and its CSR copy, for "sparse"). With a sparse one:
    compiling, the gradient state of every slot, the blocks of directions a product sweeps (tangents, adjoints and
    their temporaries), the entries recovered, and the dense result for "colouring"."""
    n = graph.n
    csr = 0 if dense_result else 3 * FLOAT * n**2
    if pattern_nnz is None:
        return PATTERN_BYTES + tape_bytes(graph) + csr
    plan = sparse_plan(graph)
    if plan is None:
        return tape_bytes(graph) + csr
    directions = min(BLOCK_BYTES, FLOAT * plan.tape.size * plan.num_colours)
    result = dense_bytes(n, 2) if dense_result else 0
    return compiled_bytes(graph) + SLOT_BYTES * plan.tape.size + 4 * directions + 3 * FLOAT * pattern_nnz + result


def colouring_bytes(graph, k=2, pattern_nnz=None):
    """Peak bytes of method "colouring": the sparse method's, and the dense result."""
    return working_bytes(graph, k, pattern_nnz, dense_result=True)


def sparse_hessian(graph, point):
    """∇²f at a checked point as CSR: one product per colour if the pattern is sparse, else every direction."""
    record_method("sparse")
    plan = sparse_plan(graph)
    if plan is None:
        record_details(colours=graph.n, pattern="dense")
        return sp.csr_matrix(tape_of(graph).hessian_at(point))
    record_details(colours=plan.num_colours, colours_lower_bound=plan.colours_lower_bound, pattern="sparse",
                   nnz=int(plan.pattern.nnz))
    return plan.hessian(point)


def hessian_colouring(graph, point):
    """One vectorised Hessian-vector product per colour of H's star colouring, recovered into a dense array."""
    plan = sparse_plan(graph)
    if plan is None:
        record_method("tape")
        return tape_of(graph).hessian_at(point)
    record_method("colouring")
    record_details(colours=plan.num_colours, colours_lower_bound=plan.colours_lower_bound)
    return plan.hessian(point).toarray()
