"""Pictures with matplotlib: computation graphs and G (f above its mirror), Hessian heatmaps, log-log slopes.

Graphs are laid out in layers by hessian_lab.graph_layout and drawn at the size a notebook shows them: every
node is a labelled box whose text is shown at LABEL_PT (10 pt) on screen, never shrunk, or the picture says it is
too big to label and shows a readable part of it instead.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import NullFormatter

from .backprop import backprop
from .families import default_point
from .graph_layout import layered_layout
from .node import Node, topological_order
from .ops import PRIMITIVES
from .scaling import fit_slope

# Node colours by role. Constants are grey wherever they are, in f or in its mirror.
COLORS = {"input": "#a1d99b", "const": "#d9d9d9", "forward": "#9ecae1", "adjoint": "#fdae6b"}
REGIONS = {"f": "#f3f8fc", "mirror": "#fff7ee"}
LEGEND = {
    "input": "input $x_i$",
    "forward": "node $z_k$ of f (and its operation)",
    "adjoint": r"mirror: adjoint $\bar z_k = \partial f/\partial z_k$, output $\bar x_i$",
    "const": "constant",
}
HIGHLIGHT = "#d62728"
HIDDEN = "#f4f4f4"
EDGE_COLOR = "#7f7f7f"

DPI = 100  # the figures' dpi, which is also the inline backend's: one figure pixel is one screen pixel at 100%
DISPLAY_WIDTH = 930  # px: JupyterLab's output area at 100% zoom in a 1366 px window; wider pictures are shrunk
MAX_WIDTH = 900  # px: figures are made no wider than this, so they are shown at their own size
MAX_HEIGHT = 1000  # px: taller graphs are drawn smaller, or in part
LABEL_PT = 10  # node labels, in points, when the graph fits
MIN_LABEL_PX = LABEL_PT * DPI / 72  # labels are legible when shown at LABEL_PT on screen: a graph is never shrunk
TITLE_PX, LEGEND_ROW_PX, PAD_PX, REGION_LABEL_PX = 44, 24, 14, 20
VALUE_SPACE = "−0.000123"  # the widest value a label holds ({:.3g}), reserved when labels carry values


def valued(label, value, value_line):
    """A node's label with its value: on the same line, "z1: sin (0.479)", for value_line="inline" (one line of text
    per layer keeps a widget's picture short), or on a line of its own below the label for value_line="below"."""
    return f"{label} ({value})" if value_line == "inline" else f"{label}\n{value}"


def node_label(node):
    """A short label: x0, x1, ... for inputs, the value for constants, the operation otherwise."""
    if node.op == "input":
        return f"x{node.param}"
    if node.op == "const":
        return f"{node.param:.3g}"
    if node.op == "powc":
        return f"^{node.param:.3g}"
    row = PRIMITIVES[node.op]
    return row.symbol or row.infix or node.op


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


def ranks(nodes, mirror=()):
    """The layer of each node, top to bottom: f's inputs first, f's nodes by depth, then the mirror in reverse order.

    f's nodes sit one layer below their deepest argument; mirror nodes as late as they can, so that the outputs
    x̄_i share the bottom layer as the inputs share the top one; a constant sits one layer above its first user.
    Arguments outside `nodes` are ignored, so a part of a graph gets layers of its own.
    """
    inside, mirror = set(nodes), set(mirror)
    users = {v: [] for v in nodes}
    for v in nodes:
        for a in set(v.args) & inside:
            users[a].append(v)
    rank = {}
    for v in nodes:
        if v.op != "const" and v not in mirror:
            rank[v] = 1 + max((rank[a] for a in v.args if a in rank), default=-1)
    height = {}
    for v in reversed(nodes):
        if v.op != "const" and v in mirror:
            height[v] = 1 + max((height[u] for u in users[v] if u in height), default=-1)
    offset = {v: max(height.values()) - h for v, h in height.items()}
    for v in nodes:
        if v.op == "const":
            mine = [rank[u] for u in users[v] if u in rank]
            if mine or v not in mirror:
                rank[v] = min(mine, default=1) - 1
            else:
                offset[v] = min((offset[u] for u in users[v] if u in offset), default=1) - 1
    below = max(rank.values(), default=-1) + 1 - min(offset.values(), default=0)
    rank.update({v: below + o for v, o in offset.items()})
    low = min(rank.values())
    return {v: r - low for v, r in rank.items()}


def _as_nodes(graph_or_nodes):
    """The nodes of a Graph or GradientGraph, or exactly those of an iterable, in topological order (by id)."""
    nodes = getattr(graph_or_nodes, "nodes", graph_or_nodes)
    return sorted({v for v in nodes if isinstance(v, Node)}, key=lambda v: v.id)


def primal_names(nodes):
    """Names for f's nodes: x_i for inputs, z_1, z_2, ... with their symbol for the operations, in topological order."""
    names, k = {}, 0
    for v in nodes:
        if v.op == "input":
            names[v] = f"$x_{{{v.param}}}$"
        elif v.op == "const":
            names[v] = node_label(v)
        else:
            k += 1
            names[v] = f"$z_{{{k}}}$: {node_label(v)}"
    return names


def adjoint_of(G):
    """{node of G: [nodes of f it is the adjoint of]}: x̄_i from G's outputs, z̄_k by value.

    G records which node is x̄_i but not which is z̄_k = ∂f/∂z_k, so z̄_k is found as the mirror node whose
    value equals ∂f/∂z_k (one numeric backprop) at two generic points; where f cannot be evaluated there,
    only the x̄_i are named.
    """
    f = G.f
    found = {}
    for x, output in zip(f.inputs, G.outputs):
        if isinstance(output, Node):
            found.setdefault(output, []).append(x)
    inner = [v for v in f.nodes if v.op not in ("input", "const")]
    mirror = [v for v in adjoint_nodes(G) if v.op != "const"]
    try:
        samples = []
        for point in (default_point(f.n), 0.8 + 0.3 * np.sin(np.arange(f.n) + 1.0)):
            values = G.evaluate(point)
            samples.append((values, dict(zip(inner, backprop(f.output, inner, at=values)))))
    except (ValueError, ArithmeticError):
        return found
    for v in reversed(inner):
        same = [m for m in mirror if all(np.isclose(values[m], adjoints[v], rtol=1e-9, atol=1e-12)
                                         for values, adjoints in samples)]
        if same:
            found.setdefault(same[0], []).append(v)
    return found


def G_names(G):
    """Labels for every node of G: f's as primal_names, mirror nodes by what they are the adjoint of (z̄_k, x̄_i)."""
    names = primal_names(G.f.nodes)
    z = {v: name.split("$")[1] for v, name in names.items() if v.op not in ("input", "const")}
    bars = {}
    for node, of in adjoint_of(G).items():
        bars[node] = [rf"\bar{{x}}_{{{v.param}}}" if v.op == "input" else rf"\bar{{{z[v][0]}}}{z[v][1:]}" for v in of]
    labels = {}
    for v in G.nodes:
        if v in names and v not in bars:
            labels[v] = names[v]
        elif v in names:
            labels[v] = names[v] + " = $" + " = ".join(bars[v]) + "$"
        elif v in bars:
            labels[v] = "$" + " = ".join(bars[v]) + "$" + ("" if v.op == "const" else f": {node_label(v)}")
        else:
            labels[v] = node_label(v)
    return labels


def text_size(text, fontsize, dpi):
    """(width, height) in px of `text` drawn at fontsize points and dpi, measured by the Agg renderer."""
    figure = Figure(dpi=dpi)
    renderer = FigureCanvasAgg(figure).get_renderer()
    extent = figure.text(0, 0, text, fontsize=fontsize).get_window_extent(renderer)
    return extent.width, extent.height


def display_px(fontsize, figure):
    """The height in screen px of fontsize-point text in `figure` as JupyterLab shows it (shrunk if too wide)."""
    width = figure.get_figwidth() * figure.dpi
    return fontsize * figure.dpi / 72 * min(1.0, DISPLAY_WIDTH / width)


class GraphDrawing:
    """A computation graph drawn as labelled boxes on an Axes, kept so that widgets can recolour and relabel it.

    Attributes: nodes (topological), role {node: input/const/forward/adjoint}, names {node: label}, layout
    (graph_layout.Layout, px at LABEL_PT), boxes {node: Text with its box}, labels (the same Texts), edge_list and
    edges (one LineCollection of the routes, in the order of edge_list), legible (labels ≥ MIN_LABEL_PX on screen),
    fontsize, ax, and side (an empty Axes of about `beside` px for a second picture: beside the graph where both fit
    at full size, else below it). `mirror_label` replaces the legend's words for the mirror's nodes.
    """

    def __init__(self, graph_or_nodes, ax=None, adjoint=(), title=None, names=None, value_line=False, beside=0,
                 mirror_label=None):
        """Lay the nodes out in layers and draw edges, boxes, regions and legend on ax (on a new Figure if None)."""
        self.nodes = _as_nodes(graph_or_nodes)
        self.index = {node: k for k, node in enumerate(self.nodes)}
        mirror = set(adjoint) & set(self.nodes)
        self.role = {v: v.op if v.op in ("input", "const") else "adjoint" if v in mirror else "forward"
                     for v in self.nodes}
        self.names = primal_names(self.nodes)
        self.names.update(names or {})
        self.edge_list = list(dict.fromkeys((a, v) for v in self.nodes for a in v.args if a in self.index))
        self.layer = ranks(self.nodes, mirror)
        dpi = ax.figure.dpi if ax is not None else DPI
        pad = 0.3 * LABEL_PT * dpi / 72
        sizes = {}
        for v in self.nodes:
            text = valued(self.names[v], VALUE_SPACE, value_line) if value_line and v.op != "const" else self.names[v]
            w, h = text_size(text, LABEL_PT, dpi)
            sizes[v] = (w + 2 * pad, h + 2 * pad)
        self.layout = layered_layout(self.nodes, self.edge_list, self.layer, sizes)
        self.mirror = mirror
        self.regions = bool(mirror) and len(mirror) < len(self.nodes)
        self.present = [r for r in LEGEND if r in self.role.values()]
        self.legend_text = {**LEGEND, **({"adjoint": mirror_label} if mirror_label else {})}
        self.legend_columns = 2
        self.legend_y = 0.0
        self.side = None
        self.own_figure = ax is None
        self.ax = ax if ax is not None else self._new_axes(beside, title)
        self._draw(title)

    def _new_axes(self, beside, title):
        """A Figure just big enough for the layout, title, legend and side panel (at most MAX_WIDTH px wide)."""
        legend = [text_size(self.legend_text[r], LABEL_PT, DPI)[0] + 44 for r in self.present]
        graph_width = self.layout.width + 2 * PAD_PX + REGION_LABEL_PX * self.regions
        below = beside if graph_width + beside > MAX_WIDTH else 0  # side by side would shrink the labels
        width = graph_width + beside - below
        width = min(MAX_WIDTH, max(width, below, text_size(title or "", 11, DPI)[0] + 30, max(legend) * 2))
        self.legend_columns = len(legend) if sum(legend) < width else 2
        legend_rows = -(-len(legend) // self.legend_columns)
        graph_height = min(MAX_HEIGHT, self.layout.height + 2 * PAD_PX + TITLE_PX + LEGEND_ROW_PX * legend_rows)
        height = graph_height + below
        figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        self.legend_y = below / height
        bottom = (below + LEGEND_ROW_PX * legend_rows) / height
        ax = figure.add_axes([0, bottom, 1 - (beside - below) / width, 1 - bottom - TITLE_PX / height])
        if below:  # a square panel under the legend, room left for its title and tick labels
            side = below - 70
            self.side = figure.add_axes([(width - side) / 2 / width, 30 / height, side / width, side / height])
        elif beside:
            self.side = figure.add_axes([1 - (beside - 40) / width, bottom + 0.06, (beside - 90) / width,
                                         1 - bottom - TITLE_PX / height - 0.12])
        return ax

    def _draw(self, title):
        """Scale the layout into the Axes (1 layout px = 1 screen px when it fits) and draw everything."""
        ax, layout = self.ax, self.layout
        figure = ax.figure
        box = ax.get_position()
        ax_w = box.width * figure.get_figwidth() * figure.dpi
        ax_h = box.height * figure.get_figheight() * figure.dpi
        left = REGION_LABEL_PX * self.regions
        need_w, need_h = layout.width + 2 * PAD_PX + left, layout.height + 2 * PAD_PX
        scale = min(1.0, round(min(ax_w / need_w, ax_h / need_h), 9))  # a Figure made to fit is at scale 1, not 1 - 1e-16
        self.fontsize = LABEL_PT * scale
        self.legible = display_px(self.fontsize, figure) >= MIN_LABEL_PX
        span_w, span_h = ax_w / scale, ax_h / scale
        cx, cy = (layout.width - left) / 2, layout.height / 2
        ax.set_xlim(cx - span_w / 2, cx + span_w / 2)
        ax.set_ylim(cy + span_h / 2, cy - span_h / 2)
        ax.set_axis_off()
        if self.regions:
            self._draw_regions(cx - span_w / 2, cy - span_h / 2, cy + span_h / 2, scale)
        self.edges = LineCollection([layout.routes[e] for e in self.edge_list], colors=EDGE_COLOR,
                                    linewidths=1.0 if self.legible else 0.5, zorder=1)
        ax.add_collection(self.edges)
        self.boxes = {}
        for v in self.nodes:
            x, y = layout.position[v]
            self.boxes[v] = ax.text(
                x, y, self.names[v] if self.legible else " ", ha="center", va="center", zorder=3,
                fontsize=self.fontsize if self.legible else 2,
                bbox=dict(boxstyle="round,pad=0.3", facecolor=COLORS[self.role[v]], edgecolor="#444444", linewidth=0.6),
            )
        self.labels = self.boxes if self.legible else {}
        self._draw_legend()
        if title:
            ax.set_title(title if self.legible else f"{title}\ntoo many nodes to label at this size", fontsize=11)

    def _draw_regions(self, x_left, y_top, y_bottom, scale):
        """Shade f's layers and the mirror's apart, each named at the left edge."""
        f_bottom = max(self.layout.position[v][1] + self.layout.size[v][1] / 2
                       for v in self.nodes if v not in self.mirror)
        mirror_top = min(self.layout.position[v][1] - self.layout.size[v][1] / 2
                         for v in self.nodes if v in self.mirror)
        split = (f_bottom + mirror_top) / 2
        for (name, color), (top, bottom) in zip(REGIONS.items(), ((y_top, split), (split, y_bottom))):
            self.ax.axhspan(top, bottom, color=color, zorder=0)
        self.ax.axhline(split, color="#bbbbbb", linestyle="--", linewidth=0.8, zorder=0)
        x = x_left + REGION_LABEL_PX / 2 / scale
        self.ax.text(x, (y_top + split) / 2, "f", rotation=90, ha="center", va="center", fontsize=LABEL_PT,
                     color="#31708f")
        self.ax.text(x, (split + y_bottom) / 2, "mirror", rotation=90, ha="center",
                     va="center", fontsize=LABEL_PT, color="#b35806")

    def _draw_legend(self):
        """One legend entry per role present: at the bottom of a Figure made for the graph, else below the Axes."""
        handles = [Patch(facecolor=COLORS[r], edgecolor="#444444", linewidth=0.6) for r in self.present]
        place = dict(loc="lower center", bbox_to_anchor=(0.5, self.legend_y), bbox_transform=self.ax.figure.transFigure) \
            if self.own_figure else dict(loc="upper center", bbox_to_anchor=(0.5, 0.0))
        self.ax.legend(handles, [self.legend_text[r] for r in self.present], ncol=self.legend_columns, frameon=False,
                       fontsize=LABEL_PT, handlelength=1.2, columnspacing=1.2, **place)

    def base_colors(self):
        """Face colours by role (input, const, forward, adjoint), in the order of `nodes`."""
        return [COLORS[self.role[v]] for v in self.nodes]

    def face_colors(self):
        """The face colour each box has now, as RGBA, in the order of `nodes`."""
        return [tuple(self.boxes[v].get_bbox_patch().get_facecolor()) for v in self.nodes]

    def edge_colors(self):
        """The outline colour each box has now, as RGBA, in the order of `nodes`."""
        return [tuple(self.boxes[v].get_bbox_patch().get_edgecolor()) for v in self.nodes]

    def set_colors(self, colors):
        """Set the face colour of each box, given in the order of `nodes`; text on the highlight colour turns white."""
        for v, color in zip(self.nodes, colors):
            self.boxes[v].get_bbox_patch().set_facecolor(color)
            self.boxes[v].set_color("white" if color == HIGHLIGHT else "black")

    def outline(self, marked, color=HIGHLIGHT, width=2.0):
        """Draw a thick outline around the `marked` boxes and a thin grey one around the rest."""
        marked = set(marked)
        for v in self.nodes:
            patch = self.boxes[v].get_bbox_patch()
            patch.set_edgecolor(color if v in marked else "#444444")
            patch.set_linewidth(width if v in marked else 0.6)

    def set_edge_alpha(self, shown):
        """Show the edges whose both ends are in `shown` and fade the others."""
        shown = set(shown)
        self.edges.set_color([(0.45, 0.45, 0.45, 1.0) if a in shown and v in shown else (0.85, 0.85, 0.85, 0.5)
                              for a, v in self.edge_list])


def draw_graph(graph_or_nodes, ax=None, adjoint=(), title=None, names=None, mirror_label=None):
    """Draw a computation graph in layers (inputs at the top); returns the Axes (on a new Figure if ax is None).

    `adjoint` lists nodes to draw as a mirror, below the rest; `names` overrides labels ({node: text});
    `mirror_label` says in the legend what those nodes are, where they are not G's adjoints of f.
    """
    return GraphDrawing(graph_or_nodes, ax, adjoint, title, names, mirror_label=mirror_label).ax


def _f_and_G(graph):
    """f's Graph and its GradientGraph, from either of them."""
    if hasattr(graph, "gradient_graph"):
        return graph, graph.gradient_graph()
    return graph.f, graph


def adjoint_nodes(G):
    """The mirrored adjoint nodes of G: its nodes that are not nodes of f."""
    primal = set(G.f.nodes)
    return [v for v in G.nodes if v not in primal]


def pass_nodes(G, i):
    """The nodes a backward pass from G_i's output x̄_i visits: exactly those x̄_i depends on."""
    output = G.output(i)
    return topological_order([output]) if isinstance(output, Node) else []


def G_title(G):
    """G's size in one line."""
    return f"G = f and its mirror: {len(G.nodes)} nodes, {G.num_edges} edges (|G|/|f| = {G.ratio():.2f})"


def draw_G(G, ax=None, title=None, focus=None, value_line=False, beside=0):
    """G with f on top and its mirror below, nodes named z_k, z̄_k, x̄_i; returns the GraphDrawing.

    When G is too big to label at this size and `focus` = i is given, only G_i (the nodes x̄_i depends on) is drawn,
    and the title says so.
    """
    title = G_title(G) if title is None else title
    names, mirror = G_names(G), adjoint_nodes(G)
    drawing = GraphDrawing(G, ax, mirror, title, names, value_line, beside)
    if drawing.legible or focus is None or not pass_nodes(G, focus):
        return drawing
    part = pass_nodes(G, focus)
    if ax is not None:
        ax.clear()
    return GraphDrawing(part, ax, mirror, _part_title(G, part, focus), names, value_line, beside)


def _part_title(G, part, i):
    """The title of a sub-view: why it is a part, and which part."""
    return (f"G has {len(G.nodes)} nodes, too many to label here: the {len(part)} nodes of $G_{{{i}}}$ "
            f"($\\bar x_{{{i}}}$ depends on them)")


def draw_gradient_graph(graph, axes=None, highlight=None):
    """G drawn as f above its mirror, with a legend; returns the Figure.

    axes may be None (a new Figure at display size), one Axes for G, or a pair (f alone, then G).
    With highlight=i, G_i's output x̄_i is filled red and the nodes a backward pass from it visits are outlined;
    a G too big to label is then shown as G_i alone.
    """
    f, G = _f_and_G(graph)
    if axes is not None and np.ndim(axes) == 1:
        draw_graph(f, axes[0], title=f"f: {f.num_nodes} nodes, m = {f.m} edges")
        axes = axes[1]
    drawing = draw_G(G, axes, focus=highlight)
    if highlight is not None:
        highlight_row(drawing, G, highlight)
    return drawing.ax.figure


def highlight_row(drawing, G, i):
    """Fill G_i's output x̄_i red and outline the nodes a backward pass from it visits."""
    output = G.output(i)
    colors = drawing.base_colors()
    if isinstance(output, Node) and output in drawing.index:
        colors[drawing.index[output]] = HIGHLIGHT
    drawing.set_colors(colors)
    drawing.outline(pass_nodes(G, i))


def hessian_heatmap(H, ax=None, title="Hessian", row=None, annotate=None, colorbar=True):
    """H as a heatmap on a colour scale symmetric about 0; `row` outlines one row; small H gets its values written.

    colorbar=False leaves the scale out, for a small panel whose values are written elsewhere (as the RowPicker's).
    """
    H = np.asarray(H, dtype=float)
    ax = ax if ax is not None else plt.figure(figsize=(4, 4)).add_subplot()
    scale = float(np.max(np.abs(H))) or 1.0
    image = ax.imshow(H, cmap="RdBu_r", vmin=-scale, vmax=scale)
    # Tiny or huge values get a power of ten on each tick, not matplotlib's offset text, which sits above the
    # colorbar and runs into the title.
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, format=None if 1e-3 <= scale < 1e4 else "%.0e")
    n = H.shape[0]
    if annotate if annotate is not None else n <= 6:
        for (i, j), value in np.ndenumerate(H):
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=9,
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
