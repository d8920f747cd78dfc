"""Pictures with matplotlib only: computation graphs by topological depth, G beside f, Hessian heatmaps, log-log slopes."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullFormatter

from .forward import topological_order
from .node import Node
from .scaling import fit_slope

# Node colours by role: f's inputs, f's constants, f's operations, and G's mirrored adjoint nodes.
COLORS = {"input": "#a1d99b", "const": "#d9d9d9", "forward": "#9ecae1", "adjoint": "#fdae6b"}
HIGHLIGHT = "#d62728"
HIDDEN = "#f4f4f4"
LABEL_LIMIT = 80  # graphs with more nodes are drawn without labels, so that they stay readable

_SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "−", "pow": "^", "sum": "Σ"}


def node_label(node):
    """A short label: x0, x1, ... for inputs, the value for constants, the operation otherwise."""
    if node.op == "input":
        return f"x{node.param}"
    if node.op == "const":
        return f"{node.param:.3g}"
    if node.op == "powc":
        return f"^{node.param:.3g}"
    return _SYMBOLS.get(node.op, node.op)


def depths(nodes):
    """Each node's depth: the longest path to it from an input; a constant sits one level below its first user."""
    depth = {}
    for node in nodes:
        inside = [depth[a] for a in node.args if a in depth and a.op != "const"]
        depth[node] = 1 + max(inside, default=-1) if node.args else 0
    for node in nodes:
        for arg in node.args:
            if arg.op == "const" and arg in depth and depth[arg] == 0:
                depth[arg] = max(depth[node] - 1, 0)
    return depth


def layout(nodes, later=()):
    """Positions {node: (x, y)}: y is the depth; within a level, nodes sit near the mean x of their arguments.

    Nodes in `later` (G's mirror) go to the right of the others in each level, so that f stays on the left.
    Levels are staggered a little sideways, so that an edge rarely runs straight through a node.
    """
    depth = depths(nodes)
    later = set(later)
    levels = {}
    for node in nodes:
        levels.setdefault(depth[node], []).append(node)
    width = max(len(level) for level in levels.values())
    position = {}
    for d in sorted(levels):
        level = levels[d]
        placed = [[position[a][0] for a in node.args if a in position] for node in level]
        key = {node: (node in later, float(np.mean(xs)) if xs else np.inf, node.id) for node, xs in zip(level, placed)}
        level.sort(key=key.get)
        xs = np.linspace(0, width - 1, len(level)) if len(level) > 1 else [(width - 1) / 2]
        for node, x in zip(level, xs):
            position[node] = (float(x) + 0.15 * (d % 3 - 1), float(d))
    return position


def _as_nodes(graph_or_nodes):
    """The topologically ordered nodes of a Graph, a GradientGraph, or an iterable of nodes."""
    nodes = getattr(graph_or_nodes, "nodes", graph_or_nodes)
    return topological_order([v for v in nodes if isinstance(v, Node)])


class GraphDrawing:
    """A computation graph drawn on an Axes, keeping its artists so that widgets can recolour and relabel it.

    Attributes: nodes (topological), position {node: (x, y)}, points (one scatter of all nodes, in the
    order of `nodes`), edges (one LineCollection, in the order of `edge_list`), labels {node: Text}.
    """

    def __init__(self, graph_or_nodes, ax=None, adjoint=(), label_limit=LABEL_LIMIT, title=None, names=None):
        """Lay the nodes out by depth and draw edges, nodes and (for small graphs) labels on ax."""
        self.nodes = _as_nodes(graph_or_nodes)
        self.ax = ax if ax is not None else plt.figure(figsize=(6, 5)).add_subplot()
        adjoint = set(adjoint)
        self.position = layout(self.nodes, later=adjoint)
        self.index = {node: k for k, node in enumerate(self.nodes)}
        self.role = {v: "adjoint" if v in adjoint else v.op if v.op in ("input", "const") else "forward" for v in self.nodes}
        self.edge_list = [(a, v) for v in self.nodes for a in v.args if a in self.index]
        big = len(self.nodes) > label_limit
        segments = [(self.position[a], self.position[v]) for a, v in self.edge_list]
        self.edges = LineCollection(segments, colors="#888888", linewidths=0.5 if big else 1.0, zorder=1)
        self.ax.add_collection(self.edges)
        xy = np.array([self.position[v] for v in self.nodes])
        self.points = self.ax.scatter(
            xy[:, 0], xy[:, 1], s=max(60, 700 - 15 * len(self.nodes)) if not big else 12,
            c=self.base_colors(), edgecolors="#444444", linewidths=0.6, zorder=2,
        )
        self.names = {v: node_label(v) for v in self.nodes}
        self.names.update(names or {})
        self.labels = {} if big else {
            v: self.ax.text(*self.position[v], self.names[v], ha="center", va="center", fontsize=7, zorder=3)
            for v in self.nodes
        }
        self.ax.set_axis_off()
        self.ax.margins(0.08)
        if title:
            self.ax.set_title(title)

    def base_colors(self):
        """Face colours by role (input, const, forward, adjoint), in the order of `nodes`."""
        return [COLORS[self.role[v]] for v in self.nodes]

    def set_colors(self, colors):
        """Set the face colour of each node, given in the order of `nodes`."""
        self.points.set_facecolors(colors)

    def outline(self, marked, color=HIGHLIGHT, width=2.0):
        """Draw a thick outline around the `marked` nodes and a thin grey one around the rest."""
        marked = set(marked)
        self.points.set_edgecolors([color if v in marked else "#444444" for v in self.nodes])
        self.points.set_linewidths([width if v in marked else 0.6 for v in self.nodes])

    def set_edge_alpha(self, shown):
        """Show the edges whose both ends are in `shown` and fade the others."""
        shown = set(shown)
        self.edges.set_alpha(None)
        self.edges.set_color([(0.45, 0.45, 0.45, 1.0) if a in shown and v in shown else (0.9, 0.9, 0.9, 0.4)
                              for a, v in self.edge_list])


def draw_graph(graph_or_nodes, ax=None, adjoint=(), label_limit=LABEL_LIMIT, title=None, names=None):
    """Draw a computation graph laid out by topological depth (inputs at the bottom); returns the Axes.

    `adjoint` lists nodes to colour as mirrored adjoint nodes; `names` overrides labels ({node: text});
    graphs above `label_limit` nodes get no labels.
    """
    return GraphDrawing(graph_or_nodes, ax, adjoint, label_limit, title, names).ax


def _f_and_G(graph):
    """f's Graph and its GradientGraph, from either of them."""
    if hasattr(graph, "gradient_graph"):
        return graph, graph.gradient_graph()
    return graph.f, graph


def adjoint_nodes(G):
    """The mirrored adjoint nodes of G: its nodes that are not nodes of f."""
    primal = set(G.f.nodes)
    return [v for v in G.nodes if v not in primal]


def output_names(G):
    """Labels for G's outputs: x̄0, x̄1, ... (joined when one node is the output of several G_i)."""
    names = {}
    for i, output in enumerate(G.outputs):
        if isinstance(output, Node):
            names[output] = f"{names[output]},{i}" if output in names else f"x̄{i}"
    return names


def draw_G(G, ax, title=None):
    """G drawn on ax with its adjoint nodes coloured apart and its outputs named x̄i; returns the GraphDrawing."""
    return GraphDrawing(G, ax, adjoint=adjoint_nodes(G), title=title, names=output_names(G))


def pass_nodes(G, i):
    """The nodes a backward pass from G_i's output x̄_i visits: exactly those x̄_i depends on."""
    return topological_order([G.output(i)])


def draw_gradient_graph(graph, axes=None, highlight=None):
    """f's graph (left) beside G (right), G's adjoint nodes in another colour; returns the Figure.

    With highlight=i, G_i's output x̄_i is filled red and the nodes a backward pass from it visits are outlined.
    """
    f, G = _f_and_G(graph)
    if axes is None:
        fig = Figure(figsize=(11, 5), layout="constrained")
        axes = fig.subplots(1, 2, width_ratios=[1, 2])
    left, right = axes
    GraphDrawing(f, left, title=f"f: {f.num_nodes} nodes, m = {f.m} edges")
    drawing = draw_G(G, right, title=f"G: {len(G.nodes)} nodes, {G.num_edges} edges (|G|/|f| = {G.ratio():.2f})")
    if highlight is not None:
        highlight_row(drawing, G, highlight)
    return right.figure


def highlight_row(drawing, G, i):
    """Fill G_i's output x̄_i red and outline the nodes a backward pass from it visits."""
    output = G.output(i)
    colors = drawing.base_colors()
    if isinstance(output, Node) and output in drawing.index:
        colors[drawing.index[output]] = HIGHLIGHT
    drawing.set_colors(colors)
    drawing.outline(pass_nodes(G, i))


def hessian_heatmap(H, ax=None, title="Hessian", row=None, annotate=None):
    """H as a heatmap on a colour scale symmetric about 0; `row` outlines one row; small H gets its values written."""
    H = np.asarray(H, dtype=float)
    ax = ax if ax is not None else plt.figure(figsize=(4, 4)).add_subplot()
    scale = float(np.max(np.abs(H))) or 1.0
    image = ax.imshow(H, cmap="RdBu_r", vmin=-scale, vmax=scale)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    n = H.shape[0]
    if annotate if annotate is not None else n <= 6:
        for (i, j), value in np.ndenumerate(H):
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=8,
                    color="white" if abs(value) > 0.6 * scale else "black")
    if row is not None:
        ax.add_patch(Rectangle((-0.5, row - 0.5), H.shape[1], 1, fill=False, edgecolor=HIGHLIGHT, linewidth=2.5))
    ax.set_xticks(range(n) if n <= 12 else [])
    ax.set_yticks(range(n) if n <= 12 else [])
    ax.set_title(title)
    return ax


def loglog_with_slopes(ax, xs, series, xlabel="n", ylabel="node visits", title=None, fit_from=0):
    """Plot each series on log-log axes, fit its slope (from index fit_from on), show it in the legend; returns slopes."""
    slopes = {}
    for label, ys in series.items():
        slopes[label] = fit_slope(xs[fit_from:], ys[fit_from:])
        ax.loglog(xs, ys, "o-", label=f"{label} (slope {slopes[label]:.2f})")
    if len(xs) <= 8:
        ax.set_xticks(list(xs), [f"{x:g}" for x in xs])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return slopes
