"""Each primitive's first and second local partials, derived once from the primitive table by the engine itself.

The table writes first partials with graph ops, so backprop over a partial gives the second partials:
a template node y = op(a_0, ..., a_r) on fresh inputs is differentiated twice, symbolically, and the
result is evaluated on whole numpy arrays of argument values, one call per group of nodes.
"""

from functools import lru_cache

from . import ops
from .backprop import backprop
from .counting import uncounted
from .node import Node, topological_order


class SecondOrderRule:
    """First partials p[k] and second partials s[k][l] of one op, as graph templates (or plain numbers)."""

    def __init__(self, op, param, arity):
        self.inputs = [Node("input", (), k) for k in range(arity)]
        self.output = Node(op, tuple(self.inputs), param)
        with uncounted():
            self.first = list(ops.local_partials(self.output))
            self.second = [backprop(p, self.inputs) if isinstance(p, Node) else [0.0] * arity for p in self.first]
        templates = [t for t in self.first + [s for row in self.second for s in row] if isinstance(t, Node)]
        nodes = topological_order(templates)
        self.constants = {v: v.param for v in nodes if v.op == "const"}
        self.order = [v for v in nodes if v.op not in ("input", "const") and v is not self.output]
        needed = set(topological_order([p for p in self.first if isinstance(p, Node)]))
        self.first_order = [v for v in self.order if v in needed]  # the nodes first partials alone need, in order

    def structural_second(self):
        """Pairs (k, l) whose second partial is not identically zero: where the op is nonlinear."""
        return [(k, l) for k, row in enumerate(self.second) for l, s in enumerate(row) if ops.number_of(s) != 0]

    def evaluate(self, args, y, second=True):
        """The partials at arrays of argument values `args` and output values `y`: (p[k], s[k][l] or None).

        The templates run unchecked, and then their values are checked at once; where one is not finite, they run
        again through ops.evaluate_op, whose DomainError names the op and the value that failed.
        """
        values = self._run(args, y, lambda node, inputs: ops.call(node.op, ops.PRIMITIVES[node.op].forward, inputs,
                                                                   node.param))
        if not all(ops.all_finite(values[node]) for node in self.order):
            values = self._run(args, y, lambda node, inputs: ops.evaluate_op(node.op, inputs, node.param))
        pick = lambda t: values[t] if isinstance(t, Node) else t  # noqa: E731
        first = [pick(p) for p in self.first]
        return first, ([[pick(s) for s in row] for row in self.second] if second else None)

    def _run(self, args, y, apply):
        """The value of every template node, each computed by apply(node, its argument values)."""
        values = dict(self.constants)
        values.update(zip(self.inputs, args))
        values[self.output] = y
        for node in self.order:
            values[node] = apply(node, [values[a] for a in node.args])
        return values


def second_order_rule(op, param, arity):
    """The SecondOrderRule of an op, built once per row of the table, exponent and arity (a bounded cache).

    The cache is keyed by the row itself, not its name, so a row redefined under the same name (a notebook
    cell run again) gets a new rule. param must be hashable: the exponent of powc, or None. Building a rule
    makes template graphs, work that is no method's cost, so it runs uncounted.
    """
    return _rule_of_row(op, ops.PRIMITIVES[op], param, arity)


@lru_cache(maxsize=256)
def _rule_of_row(op, row, param, arity):
    """second_order_rule's cache: one SecondOrderRule per (op, row, exponent, arity)."""
    return SecondOrderRule(op, param, arity)
