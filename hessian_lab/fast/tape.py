"""A traced graph compiled for speed: like nodes grouped by level, each group swept by a few numpy calls.

Compiling does three things to f's graph, none of which changes a derivative:
- affine nodes (those whose row of the primitive table gives a linear form: add, sub, neg, sum, dot, and
  products or quotients by constants) that feed only one other affine node are merged into it, so a Python `sum()` chain of n adds becomes one n-ary sum;
- every node gets a level (1 + the highest level of its arguments), so a level depends only on levels
  below it;
- nodes are renumbered so that each (level, op) group is a contiguous slice: a whole group is then
  computed by one numpy call, and every direction of a Hessian-times-matrix product moves at once.
The per-node reference engine stays the readable definition; this tape must agree with it to round-off.
"""

import sys
from collections import Counter

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dsyrk

from .. import ops
from ..counting import record, record_method
from ..errors import TINY, DomainError, RangeError, would_show
from ..memory import FLOAT, dense_bytes
from ..node import name_of, to_text
from ..second_order import second_order_rule


DENSE_FRACTION = 0.1  # affine groups at least this full are multiplied as dense matrices
JACOBIAN_BYTES = 256 * 2**20  # the dense Hessian keeps the whole Jacobian of the tape up to this size
SMALL_GRAM = 128  # up to this n, a weighted Gram term is one general product (syrk's sign split costs more than it saves)
LOST = "lost"  # the key in a sweep's state of the largest term (log2) a weight lost to underflow
BLOCK_BYTES = 4 * 2**20  # Hessian-times-matrix pushes as many directions per sweep as fit this, per array


def _affine_forms(graph):
    """Merge single-use affine nodes into their affine consumer: {emitted node: (terms, bias) or None}, in order."""
    forms = {v: ops.linear_form(v) for v in graph.nodes if v.args}
    uses = Counter(a for v in forms for a in v.args)
    affine_uses = Counter(a for v, form in forms.items() if form is not None for a in v.args)
    merged = {v for v, form in forms.items()
              if form is not None and uses[v] == 1 and affine_uses[v] == 1 and v is not graph.output}
    pending, emitted = {}, {}
    for v, form in forms.items():
        if form is None:
            emitted[v] = None
            continue
        terms, bias = _adopt(form, merged, pending)
        for a, w in form:
            w = float(w)  # a dot's coefficient is a numpy scalar, which warns where a product overflows
            if a.op == "const":
                bias += w * a.param
            elif a in merged and _folds(w, pending[a]):
                inner, inner_bias = pending.pop(a)
                bias += w * inner_bias
                for u, wu in inner.items():
                    terms[u] = terms.get(u, 0.0) + w * wu
            else:
                if a in merged:  # kept as a node of its own, just before its one user (1e-170 * (1e-170 * x))
                    emitted[a] = pending.pop(a)
                terms[a] = terms.get(a, 0.0) + w
        if v in merged:
            pending[v] = (terms, bias)
        else:
            emitted[v] = (terms, bias)
    return emitted


def _folds(w, form):
    """Whether w times each weight and the bias of a merged form stays a normal float (or is 0): products of f's
    constants that would underflow or overflow (1e-170 * 1e-170) are not folded, as in the kernel."""
    terms, bias = form
    return w == 0.0 or all(TINY <= abs(w * u) <= sys.float_info.max for u in [*terms.values(), bias] if u != 0.0)


def _adopt(form, merged, pending):
    """Start a merged node's terms from its first merged argument of weight 1, taken over without a copy.

    A chain of n adds is then merged in O(n), not O(n^2): each step extends the dict of the step before.
    The adopted argument is removed from `form` in place of being added again.
    """
    for k, (a, w) in enumerate(form):
        if w == 1.0 and a in merged:
            del form[k]
            return pending.pop(a)
    return {}, 0.0


class _AffineGroup:
    """Nodes of one level that are affine in earlier slots: V[slice] = W @ V[U] + bias."""

    def __init__(self, start, rows, slot):
        self.slice = slice(start, start + len(rows))
        self.nodes = [v for v, _ in rows]
        columns = sorted({slot[u] for _, (terms, _) in rows for u in terms})
        where = {c: j for j, c in enumerate(columns)}
        r, c, w = [], [], []
        for i, (_, (terms, _)) in enumerate(rows):
            for u, weight in terms.items():
                r.append(i)
                c.append(where[slot[u]])
                w.append(weight)
        self.U = np.array(columns, dtype=np.intp)
        self.columns = _Slots(self.U)
        shape = (len(rows), len(columns))
        if len(w) > DENSE_FRACTION * shape[0] * shape[1]:  # a dense block (A @ x written with hl.dot, or a small group)
            W = np.zeros(shape)
            W[r, c] = w  # each (row, column) once: a node's terms name each argument once
        else:
            W = sp.csr_matrix((w, (r, c)), shape=shape)
        self.W = W
        self.Wt = W.T.copy() if isinstance(W, np.ndarray) else W.T.tocsr()
        self.bias = np.array([bias for _, (_, bias) in rows])

    def forward(self, V, state):
        """Values of the group."""
        V[self.slice] = self.W @ self.columns.read(V) + self.bias

    def tangent(self, T, state):
        """Tangents of the group, one column per direction."""
        T[self.slice] = self.W @ self.columns.read(T)

    def jacobian(self, J, n, state):
        """Rows of the Jacobian dv/dx; a group affine in inputs alone has its weights as its Jacobian."""
        if self.U[-1] < n:
            if len(self.U) < n:  # weights on some inputs only: the other columns are 0
                J[self.slice] = 0.0
            J[self.slice, _as_slice(self.U)] = self.W.toarray() if sp.issparse(self.W) else self.W
        else:
            self.tangent(J, state)

    def accumulate(self, H, A, J, state):
        """Affine nodes add no second-order term to the Hessian."""

    def reverse(self, A, state):
        """Adjoints of the arguments."""
        self.columns.add(A, self.Wt @ A[self.slice])

    def reverse_second(self, A, AT, T, state):
        """Tangents of the adjoints: affine nodes have no second-order term."""
        self.columns.add(AT, self.Wt @ AT[self.slice])


class _Slots:
    """Distinct slots, read and added to run by run where they form a few runs of consecutive slots.

    A run is a slice, so reading one run is a view and adding to it is in place: no gather, no scatter.
    """

    MOST_RUNS = 8

    def __init__(self, idx):
        self.idx = idx
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        starts, ends = np.r_[0, breaks], np.r_[breaks, len(idx)]
        self.runs = None
        if len(idx) and len(starts) <= self.MOST_RUNS:
            self.runs = [(slice(int(idx[a]), int(idx[b - 1]) + 1), slice(int(a), int(b))) for a, b in zip(starts, ends)]

    def read(self, X):
        """X[idx]: a view where idx is one run."""
        return X[self.runs[0][0]] if self.runs is not None and len(self.runs) == 1 else X[self.idx]

    def add(self, X, rows):
        """X[idx] += rows."""
        if self.runs is None:
            X[self.idx] += rows
            return
        for slots, part in self.runs:
            X[slots] += rows[part]


class _Scatter:
    """Adds rows into slots that may repeat: fancy indexing when they are distinct, a 0/1 matrix otherwise."""

    def __init__(self, idx):
        self.U, inverse = np.unique(idx, return_inverse=True)
        self.direct = _Slots(idx) if len(self.U) == len(idx) else None
        if self.direct is None:
            self.R = sp.csr_matrix((np.ones(len(idx)), (inverse, np.arange(len(idx)))), shape=(len(self.U), len(idx)))

    def add(self, X, rows):
        """X[idx] += rows, summing the rows whose slots coincide."""
        if self.direct is not None:
            self.direct.add(X, rows)
        else:
            X[self.U] += self.R @ rows


class NonlinearGroup:
    """Nodes of one level with the same nonlinear op (and exponent): one numpy call per sweep."""

    def __init__(self, op, param, start, nodes, slot, n):
        self.op, self.param = op, param
        self.slice = slice(start, start + len(nodes))
        self.nodes = nodes
        arity = len(nodes[0].args)
        self.args = [np.array([slot[v.args[k]] for v in nodes], dtype=np.intp) for k in range(arity)]
        self.scatter = [_Scatter(idx) for idx in self.args]
        self.rule = second_order_rule(op, param, arity)
        self.pairs = self.rule.structural_second()
        self.on_inputs = [bool(np.all(idx < n)) for idx in self.args]
        self.arg_rows = [_as_slice(idx) for idx in self.args]  # a view, not a copy, where slots are consecutive
        self.rows = np.arange(self.slice.start, self.slice.stop)
        self.on_diagonal = {(k, l) for k, l in self.pairs  # both arguments the same input in every node: H's diagonal
                            if self.on_inputs[k] and self.on_inputs[l] and np.array_equal(self.args[k], self.args[l])}

    def forward(self, V, state):
        """Values of the group, with the domain checked where its row has one; a DomainError names the first
        offending node. (Values that overflow are found by Tape.forward, in one check of all of them.)"""
        args = [V[rows] for rows in self.arg_rows]  # views where the slots are consecutive
        row = ops.PRIMITIVES[self.op]
        try:
            if row.domain is None:
                V[self.slice] = ops.call(self.op, row.forward, args, self.param)
            else:
                V[self.slice] = ops.evaluate_op(self.op, args, self.param)
        except DomainError:
            self.name_the_failure(args)
            raise
        state[self] = (args, None)

    def name_the_failure(self, args):
        """Raise the DomainError of the first node whose value is outside its domain or not finite, naming it."""
        for i, node in enumerate(self.nodes):
            try:
                ops.evaluate_op(self.op, [a[i] for a in args], self.param)
            except DomainError as error:
                raise DomainError(f"{error} (at {name_of(node)})") from None

    def partials(self, V, state, second):
        """Evaluate first (and second) local partials for the whole group; a RangeError names the first node whose
        local partial is not finite here (∂²√u/∂u² at u = 1e-222 is 1e332), which rows, never forming it, may not meet."""
        args, _ = state[self]
        y = V[self.slice]
        try:
            state[self] = (args, self.rule.evaluate(args, y, second))
        except DomainError:
            for i, node in enumerate(self.nodes):
                try:
                    self.rule.evaluate([a[i] for a in args], y[i], second)
                except DomainError as error:
                    raise RangeError(f"a derivative of {self.op} is not a finite number at {name_of(node)} at this "
                                     f"point ({error}); method='rows' may not form it") from None
            raise

    def tangent(self, T, state):
        """T[node] = Σ_k p_k T[arg_k] for every direction at once."""
        first, _ = state[self][1]
        np.multiply(_column(first[0]), T[self.arg_rows[0]], out=T[self.slice])
        for p, rows in zip(first[1:], self.arg_rows[1:]):
            T[self.slice] += _column(p) * T[rows]

    def jacobian(self, J, n, state):
        """Rows of the Jacobian dv/dx: the tangent rule with every input direction.

        Where every argument is an input, a row is Σ_k p_k e_{arg_k}: a few scattered entries, not a dense row.
        """
        if not all(self.on_inputs):
            self.tangent(J, state)
            return
        first, _ = state[self][1]
        J[self.slice] = 0.0
        for p, idx in zip(first, self.args):
            J[self.rows, idx] += p  # each row once per argument, so no entry repeats within one addition

    def accumulate(self, H, A, J, state):
        """H += Σ_kl J_kᵀ diag(v̄ s_kl) J_l: this group's share of ∇²f = Σ_v v̄ J_vᵀ ∇²φ_v J_v (H is a _HessianSum).

        An input's Jacobian row is a unit vector, so where an argument is an input the product is a
        scatter-add into H instead of a matrix product, and where both are the same input, a diagonal entry.
        A k = l term is symmetric: BLAS's syrk adds its upper triangle at half the cost of a general product.
        """
        _, second = state[self][1]
        a = A[self.slice]
        for k, l in self.pairs:
            rows_k, rows_l = self.args[k], self.args[l]
            w = _weight(state, a, second[k][l], *(J[self.arg_rows[i]] for i in (k, l) if not self.on_inputs[i]))
            if self.on_inputs[k] and self.on_inputs[l]:
                if (k, l) in self.on_diagonal:
                    H.diagonal += np.bincount(rows_k, weights=w, minlength=len(H.diagonal))
                else:
                    np.add.at(H.general(), (rows_k, rows_l), w)
            elif self.on_inputs[k]:
                np.add.at(H.general(), rows_k, w[:, None] * J[self.arg_rows[l]])
            elif self.on_inputs[l]:
                np.add.at(H.general().T, rows_l, w[:, None] * J[self.arg_rows[k]])
            elif k == l and len(H.diagonal) > SMALL_GRAM and np.isfinite(w).all():  # syrk's sign split drops a NaN
                _add_weighted_gram(H.upper(), J[self.arg_rows[k]], w)
            else:
                H.general()[...] += J[self.arg_rows[k]].T @ (w[:, None] * J[self.arg_rows[l]])

    def reverse(self, A, state):
        """A[arg_k] += p_k A[node]."""
        first, _ = state[self][1]
        for p, scatter in zip(first, self.scatter):
            scatter.add(A, p * A[self.slice])

    def reverse_second(self, A, AT, T, state):
        """AT[arg_k] += p_k AT[node] + A[node] Σ_l s_kl T[arg_l]: the forward-over-reverse rule."""
        first, second = state[self][1]
        a = A[self.slice]
        for k, (p, scatter) in enumerate(zip(first, self.scatter)):
            rows = _column(p) * AT[self.slice]
            for kk, l in self.pairs:
                if kk == k:
                    w = _weight(state, a, second[k][l], T[self.arg_rows[k]], T[self.arg_rows[l]])  # the term's size: w T_k T_l
                    rows = rows + _column(w) * T[self.arg_rows[l]]
            scatter.add(AT, rows)


class _HessianSum:
    """The Hessian while groups add to it: a diagonal, and, allocated where a group needs them, syrk's upper triangle
    and general terms."""

    def __init__(self, n):
        self.n = n
        self.diagonal = np.zeros(n)
        self._upper = self._general = None

    def upper(self):
        """syrk's terms, in the upper triangle only; Fortran order, so that syrk adds to it in place."""
        if self._upper is None:
            self._upper = np.zeros((self.n, self.n), order="F")
        return self._upper

    def general(self):
        """Terms J_kᵀ w J_l of k != l (or small k = l); their sum over (k, l) and (l, k) is symmetric up to round-off."""
        if self._general is None:
            self._general = np.zeros((self.n, self.n))
        return self._general

    def total(self):
        """The symmetric Hessian: the triangle mirrored, general terms averaged with their transpose, the diagonal added.

        A whole-matrix transpose thrashes the cache at large n (6.8 ms at n = 1024), so both transposes go block by
        block (1.6 ms); H is symmetric, so its transpose is the same matrix, laid out in C order.
        """
        H = _upper_mirrored(self._upper) if self._upper is not None else np.zeros((self.n, self.n), order="F")
        if self._general is not None:
            _add_symmetric_part(H, self._general)
        H.flat[:: self.n + 1] += self.diagonal
        return H.T


MIRROR_BLOCK = 64  # rows and columns of a block that a transpose copies while it is in cache


def _upper_mirrored(U):
    """A Fortran-ordered copy of U with its strict upper triangle copied, transposed, into the lower one."""
    H = U.copy(order="F")
    n, b = len(U), MIRROR_BLOCK
    for i in range(0, n, b):
        for j in range(i + b, n, b):
            H[j : j + b, i : i + b] = U[i : i + b, j : j + b].T
        block = H[i : i + b, i : i + b]
        block += np.triu(block, 1).T
    return H


def _add_symmetric_part(H, G):
    """H += (G + Gᵀ) / 2, block by block."""
    n, b = len(G), MIRROR_BLOCK
    for i in range(0, n, b):
        for j in range(0, n, b):
            H[i : i + b, j : j + b] += 0.5 * (G[i : i + b, j : j + b] + G[j : j + b, i : i + b].T)


def _add_weighted_gram(upper, J_rows, w):
    """upper += the upper triangle of J_rowsᵀ diag(w) J_rows, by syrk on the rows of each sign of w."""
    for sign in (1.0, -1.0):
        chosen = sign * w > 0
        if chosen.all():
            rows, weights = J_rows, sign * w
        elif chosen.any():
            rows, weights = J_rows[chosen], sign * w[chosen]
        else:
            continue
        scaled = np.sqrt(weights)[:, None] * rows
        dsyrk(sign, scaled.T, beta=1.0, c=upper, trans=0, overwrite_c=True)  # Fortran-ordered: in place


def _as_slice(idx):
    """idx as a slice when it is a run of consecutive slots (indexing then makes a view), else idx itself."""
    if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        return slice(int(idx[0]), int(idx[0]) + len(idx))
    return idx


def _finite(result):
    """result, if every entry is finite; else a RangeError (a second derivative overflows at this point)."""
    if not np.all(np.isfinite(result)):
        raise RangeError("a second derivative is not a finite number at this point (it overflows beyond 1e308, "
                         "or is inf - inf, at least in the order the tape multiplies; method='rows' may not)")
    return result


def _weight(state, adjoint, second, *jacobians):
    """v̄ s_kl, the weight of a term v̄ s_kl J_k J_l; where it underflows from nonzero factors, the size its term
    would have had (log2, from the rows of J or of the tangents) is kept in state[LOST] for _kept to judge.

    1e-85 sqrt(1e170 x) at 1 has v̄ s = -2.5e-341, lost to 0, and J = 1e170 would bring the term back to -0.25.
    The rows of J are read only when some weight underflows.
    """
    w = adjoint * second
    small = np.abs(w) < TINY
    if not np.any(small):
        return w
    with np.errstate(all="ignore"):
        lost = small & (adjoint != 0) & (second != 0)
        if np.any(lost):
            scale = np.log2(np.abs(adjoint)) + np.log2(np.abs(second))
            for rows in jacobians:
                scale = scale + (np.log2(np.max(np.abs(rows), axis=1)) if np.ndim(rows) == 2 else 0.0)
            state[LOST] = max(state.get(LOST, -np.inf), float(np.max(np.where(lost, scale, -np.inf))))
    return w


def _kept(result, state):
    """result, if no term lost to underflow (state[LOST]) was a normal number with all its bits; else a RangeError.
    Products mix entries, so a lost term is judged on its own (1e-300 x0 sin(x1) at 1e-300 loses only 1e-600)."""
    if would_show(state.get(LOST, -np.inf)):
        raise RangeError("a second-order weight (adjoint times second partial) underflows below 1e-308 at this "
                         "point, where its term would not, in the order the tape multiplies; method='rows' may not")
    return result


def _column(x):
    """A per-node array as a column that broadcasts over directions (a plain number stays a number)."""
    return x[:, None] if np.ndim(x) else x


class Tape:
    """A Graph compiled into groups. Slots: inputs 0..n-1, then constants, then groups in level order.

    Work is counted per direction: one Hessian-vector product visits every tape node twice (a tangent
    sweep forward and an adjoint sweep back), so `visits` = 2 · len(tape) per direction.
    """

    def __init__(self, graph):
        self.graph = graph
        self.n = graph.n
        emitted = _affine_forms(graph)
        slot = {x: i for i, x in enumerate(graph.inputs)}
        constants = [a for v, form in emitted.items() if form is None for a in v.args if a.op == "const"]
        constants = list(dict.fromkeys(constants))
        for c in constants:
            slot[c] = len(slot)
        self.constants = np.array([c.param for c in constants])
        level = {}
        groups = {}
        for v, form in emitted.items():
            sources = v.args if form is None else form[0]
            level[v] = 1 + max((level.get(a, 0) for a in sources), default=0)
            key = (level[v], "affine") if form is not None else (level[v], v.op, v.param)
            groups.setdefault(key, []).append(v)
        self.groups = []
        start = len(slot)
        for key in sorted(groups, key=lambda k: (k[0], str(k[1:]))):
            members = groups[key]
            for i, v in enumerate(members):
                slot[v] = start + i
            if key[1] == "affine":
                self.groups.append(_AffineGroup(start, [(v, emitted[v]) for v in members], slot))
            else:
                self.groups.append(NonlinearGroup(key[1], key[2], start, members, slot, self.n))
            start += len(members)
        self.size = start
        self.output = slot.get(graph.output)
        self.levels = max(level.values(), default=0)
        self.jacobian_groups = self._groups_whose_jacobian_is_read()

    def _groups_whose_jacobian_is_read(self):
        """The groups whose rows of J the dense Hessian reads: arguments of a second-order term (other than inputs,
        whose rows are unit vectors), and, since a row of J is built from its arguments' rows, everything they read."""
        read = np.zeros(self.size, dtype=bool)
        for group in self.groups:
            if isinstance(group, NonlinearGroup):
                for k in {k for pair in group.pairs for k in pair}:
                    read[group.args[k]] = True
        chosen = []
        for group in reversed(self.groups):
            if read[group.slice].any():
                chosen.append(group)
                for columns in ([group.U] if isinstance(group, _AffineGroup) else group.args):
                    read[columns] = True
        return chosen[::-1]

    def __len__(self):
        return self.size - self.n - len(self.constants)

    def forward(self, x):
        """Values of every slot at x, and the per-group state that the derivative sweeps reuse."""
        V = np.empty(self.size)
        V[: self.n] = x
        V[self.n : self.n + len(self.constants)] = self.constants
        state = {}
        with np.errstate(all="ignore"):
            for group in self.groups:
                group.forward(V, state)
            if not np.isfinite(V).all():  # every value, checked at once: an overflow anywhere is named
                self._name_the_first_overflow(V)
        record(evaluations=len(self))
        return V, state

    def _name_the_first_overflow(self, V):
        """A DomainError naming the first node whose value is not finite."""
        slot = int(np.flatnonzero(~np.isfinite(V))[0])
        group = next(g for g in self.groups if g.slice.start <= slot < g.slice.stop)
        if isinstance(group, NonlinearGroup):
            group.name_the_failure([V[rows] for rows in group.arg_rows])
        node = group.nodes[slot - group.slice.start]
        raise DomainError(f"{to_text(node)} = {V[slot]:g} is not a finite number (overflow?) (at {name_of(node)})")

    def gradient_state(self, x, second=False):
        """Values, local partials and adjoints at x: everything a Hessian product needs but the directions."""
        V, state = self.forward(x)
        A = np.zeros(self.size)
        if self.output is not None:
            A[self.output] = 1.0
        with np.errstate(all="ignore"):
            for group in self.groups:
                if isinstance(group, NonlinearGroup):
                    group.partials(V, state, second)
            for group in reversed(self.groups):
                group.reverse(A, state)
        record(passes=1, visits=len(self))
        return V, A, state

    def gradient(self, x):
        """∇f(x) by one vectorised reverse sweep; x is checked as the graph checks it (length, branches)."""
        return self.gradient_state(self.graph.point(x))[1][: self.n].copy()

    def hessian_times(self, x, D):
        """H(x) @ D for a matrix D of directions (n, B); x is checked as the graph checks it (length, branches)."""
        return self.hessian_times_at(self.graph.point(x), D)

    def hessian(self, x):
        """The dense Hessian at x; x is checked as the graph checks it (length, branches)."""
        return self.hessian_at(self.graph.point(x))

    def hessian_times_at(self, x, D):
        """H(x) @ D at a checked point, all directions per sweep, in column blocks."""
        V, A, state = self.gradient_state(x, second=True)
        D = np.asarray(D, dtype=float)
        out = np.empty_like(D)
        block = max(1, int(BLOCK_BYTES // (8 * self.size)))
        with np.errstate(all="ignore"):
            for lo in range(0, D.shape[1], block):
                hi = min(lo + block, D.shape[1])
                T = np.zeros((self.size, hi - lo))
                T[: self.n] = D[:, lo:hi]
                for group in self.groups:
                    group.tangent(T, state)
                AT = np.zeros_like(T)
                for group in reversed(self.groups):
                    group.reverse_second(A, AT, T, state)
                out[:, lo:hi] = AT[: self.n]
        record(passes=D.shape[1], visits=2 * len(self) * D.shape[1])
        return _kept(_finite(out), state)

    def hessian_at(self, x):
        """The dense Hessian at a checked point as ∇²f = Σ_v v̄ J_vᵀ ∇²φ_v J_v over the nonlinear nodes v.

        J (the Jacobian of every slot with respect to x) comes from one forward sweep with all n
        directions, v̄ from one reverse sweep; each nonlinear group then adds its second-order term with
        one matrix product. Where J would not fit in JACOBIAN_BYTES, H @ I is pushed through in blocks.
        """
        if 8 * self.size * self.n > JACOBIAN_BYTES:
            return self.hessian_times_at(x, np.eye(self.n))
        V, A, state = self.gradient_state(x, second=True)
        J = np.empty((self.size, self.n))  # each group in jacobian_groups writes all its rows; inputs and constants here
        J[: self.n] = np.eye(self.n)
        J[self.n : self.n + len(self.constants)] = 0.0
        H = _HessianSum(self.n)
        with np.errstate(all="ignore"):
            for group in self.jacobian_groups:  # the rows of the other groups are never read
                group.jacobian(J, self.n, state)
            for group in self.groups:
                group.accumulate(H, A, J, state)
        record(passes=self.n, visits=2 * len(self) * self.n)
        return _kept(_finite(H.total()), state)


def tape_of(graph):
    """The graph compiled for vectorised sweeps, built once per trace."""
    return graph.cached("tape", lambda: Tape(graph))


COMPILE_EDGE = 160  # compiling, per edge of f: the affine forms' dicts of one float per term, and the groups' weights


def compiled_bytes(graph):
    """The memory compiling takes: the affine forms and groups, per edge of f (a dot of n terms is n edges); 0 once
    the tape is built."""
    return 0 if graph.has_cached("tape") else COMPILE_EDGE * graph.m


def slots(graph):
    """The tape's slots: exactly, once it is compiled; before, f's nodes less the affine nodes merged into their one
    affine user, and the constants only affine nodes read (an O(m) count that compiles nothing)."""
    if graph.has_cached("tape"):
        return tape_of(graph).size
    affine = {v for v in graph.nodes if v.args and ops.linear_form(v) is not None}
    uses = Counter(a for v in graph.nodes for a in v.args)
    affine_uses = Counter(a for v in affine for a in v.args)
    merged = sum(1 for v in affine if uses[v] == 1 and affine_uses[v] == 1 and v is not graph.output)
    constants = {a for v in graph.nodes if v.args and v not in affine for a in v.args if a.op == "const"}
    return graph.n + len(constants) + sum(1 for v in graph.nodes if v.args) - merged


def sweep_bytes(graph):
    """Peak bytes of the dense Hessian's sweeps: the Jacobian of every slot and H with its partial sums (triangle,
    general terms, their total); where J would pass JACOBIAN_BYTES, the identity's columns and H @ I, and the
    blocks of directions (tangents, adjoints and their temporaries)."""
    jacobian = FLOAT * graph.num_nodes * graph.n  # at most; counted exactly where that decides the way
    if jacobian > JACOBIAN_BYTES:
        jacobian = FLOAT * slots(graph) * graph.n
    if jacobian <= JACOBIAN_BYTES:
        return jacobian + 4 * dense_bytes(graph.n, 2)
    return 2 * dense_bytes(graph.n, 2) + 4 * BLOCK_BYTES


def working_bytes(graph, k=2, pattern_nnz=None):
    """Peak bytes of method "tape": compiling (if not yet done), or its sweeps, whichever is larger."""
    return max(compiled_bytes(graph), sweep_bytes(graph))


def hessian_tape(graph, point):
    """All n directions at once through the compiled tape (vectorised forward-over-reverse): O(n m) flops,
    but Python work only per group of like nodes, not per node."""
    record_method("tape")
    return tape_of(graph).hessian_at(point)
