"""Interactive views for the notebooks, written for ipywidgets 7.7 and 8 alike.

Each class holds its controls, its matplotlib Figure and artists as attributes, and redraws in update(),
so tests drive it headlessly: set `slider.value`, then read the label and the artists. The picture reaches
the browser as a PNG in an Image widget, which behaves the same on every ipywidgets version and in Colab.
Shown as a cell's result (`stepper`, not `stepper.widget`), a view is the live widget where a kernel runs,
and elsewhere (GitHub, nbviewer, a notebook not yet run) its picture with a line saying to run the notebook.
"""

import base64
import io

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from .backprop import backprop
from .counting import counting
from .families import FAMILIES, default_point
from .node import Node, to_text
from .plots import (
    G_names, G_title, HIDDEN, GraphDrawing, adjoint_nodes, draw_G, hessian_heatmap, highlight_row,
    loglog_with_slopes,
)
from .scaling import count_sweep

STATIC_NOTE = "run the notebook to step through it"
PAGE_STEPS = 12  # steps per picture when the whole of G is too big to label
HEATMAP_PX = 330  # px beside G for the RowPicker's Hessian


def png(fig, caption=None):
    """The figure rendered as PNG bytes at its own dpi (shown 1:1), with an optional caption line above it."""
    buffer = io.BytesIO()
    if caption is None:
        fig.savefig(buffer, format="png", dpi=fig.dpi)
        return buffer.getvalue()
    note = fig.text(0.01, 1.0, caption, ha="left", va="bottom", fontsize=10, style="italic", color="#b35806")
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight", pad_inches=0.08)
    note.remove()
    return buffer.getvalue()


class View:
    """A widget view's display: the live widget, plus a picture and a line for places without a kernel."""

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The widget-view reference a live frontend renders, then image/png and text/plain for static readers.

        nbval compares only text/plain here (it skips widget views and images), so the stored output is stable.
        """
        return {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id,
            },
            "image/png": base64.b64encode(png(self.fig, f"Static picture: {STATIC_NOTE}.")).decode("ascii"),
            "text/plain": f"{type(self).__name__} (a widget): {STATIC_NOTE}.",
        }


class GraphStepper(View):
    """Backprop node by node: first the forward pass over f's graph, then G's mirrored adjoint nodes appearing.

    Step s (1 to len(steps), as the slider and the label count) shows the first s computed nodes (constants appear
    with their first user), each labelled with its value at x0; the current node is outlined. When G is too big to
    label, the picture shows the PAGE_STEPS steps around s and the nodes they read, and says so.
    Controls: `slider` (and `play`); readouts: `label`, `image`, `drawing` (the current picture's GraphDrawing).
    """

    def __init__(self, graph, x0):
        """Evaluate G at x0, draw it (or its first page), and wire the slider to update()."""
        self.graph = graph
        self.G = graph.gradient_graph()
        self.values = self.G.evaluate(x0)
        self.adjoint = adjoint_nodes(self.G)
        self.primal = set(graph.nodes)
        self.names = G_names(self.G)
        self.steps = [v for v in graph.nodes if v.op != "const"] + [v for v in self.adjoint if v.op != "const"]
        self.output_index = {v: i for i, v in enumerate(self.G.outputs) if isinstance(v, Node)}
        whole = draw_G(self.G, value_line=True)
        self.page_steps = len(self.steps) if whole.legible else PAGE_STEPS
        self.drawing, self.fig, self.page = whole, whole.ax.figure, 0 if whole.legible else None
        self.slider = widgets.IntSlider(value=1, min=1, max=len(self.steps), description="step",
                                        layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(value=1, min=1, max=len(self.steps), interval=700)
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([widgets.HBox([self.play, self.slider]), self.label, self.image])
        self.slider.observe(self.update, names="value")
        self.update()

    def shown(self, step):
        """The nodes visible at `step`: the first `step` computed ones, and the constants they use."""
        computed = self.steps[:step]
        return set(computed) | {a for v in computed for a in v.args if a.op == "const"}

    def describe(self, node):
        """One line about a node: which pass computes it, what it is, and its value at x0."""
        phase = "forward pass over f" if node in self.primal else "mirrored adjoint node of G"
        name = f"x̄{self.output_index[node]} = ∂f/∂x{self.output_index[node]} = " if node in self.output_index else ""
        return f"<b>{phase}</b>: {name}{to_text(node, 2)} = {self.values[node]:.4g}"

    def page_drawing(self, page):
        """The picture for one page of steps: those steps' nodes and the nodes they read, with a title saying so."""
        first, last = page * self.page_steps, min(len(self.steps), (page + 1) * self.page_steps)
        part = {v for v in self.steps[first:last]} | {a for v in self.steps[first:last] for a in v.args}
        title = (f"G has {len(self.G.nodes)} nodes, too many to label at this size:\n"
                 f"steps {first + 1}–{last} and the nodes they read")
        return GraphDrawing(part, None, self.adjoint, title, self.names, value_line=True)

    def update(self, change=None):
        """Redraw for the slider's step: the page, colours, value labels, edges, the text line and the PNG."""
        step = self.slider.value
        page = (step - 1) // self.page_steps
        if page != self.page:
            self.drawing, self.page = self.page_drawing(page), page
            self.fig = self.drawing.ax.figure
        shown = self.shown(step)
        current = self.steps[step - 1]
        colors = self.drawing.base_colors()
        self.drawing.set_colors([c if v in shown else HIDDEN for v, c in zip(self.drawing.nodes, colors)])
        self.drawing.outline([current])
        self.drawing.set_edge_alpha(shown)
        for node, text in self.drawing.labels.items():
            value = f"\n{self.values[node]:.3g}" if node in shown and node.op != "const" else ""
            text.set_text(self.drawing.names[node] + value)
            text.set_alpha(1.0 if node in shown else 0.45)
        self.label.value = f"step {step} of {len(self.steps)}. " + self.describe(current)
        self.image.value = png(self.fig)


class RowPicker(View):
    """Pick i: G_i's output x̄_i lights up in G, the nodes its backward pass visits are outlined, and row i of H shows.

    When G is too big to label, only G_i is drawn. Controls: `slider`; readouts: `label` (the row and the pass's
    visits), `row` (ndarray), `visits`, `image`, `drawing`.
    """

    def __init__(self, graph, x0):
        """Compute H at x0 by rows, draw G beside its heatmap, and wire the slider to update()."""
        self.graph = graph
        self.G = graph.gradient_graph()
        self.values = self.G.evaluate(x0)
        self.H = graph.hessian(x0, method="rows")
        self.drawing = None
        self.slider = widgets.IntSlider(value=0, min=0, max=graph.n - 1, description="i")
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([self.slider, self.label, self.image])
        self.slider.observe(self.update, names="value")
        self.update()

    def draw(self, i):
        """Draw G beside the Hessian, once; or, when G is too big to label, G_i for this i."""
        if self.drawing is not None and len(self.drawing.nodes) == len(self.G.nodes) and self.drawing.legible:
            return
        self.drawing = draw_G(self.G, focus=i, beside=HEATMAP_PX)
        hessian_heatmap(self.H, self.drawing.side, title="∇²f(x0)", row=i)
        self.fig = self.drawing.ax.figure

    def update(self, change=None):
        """Row i by one backprop over G_i, counted; then highlight, move the box, rewrite the label and the PNG."""
        i = self.slider.value
        self.draw(i)
        with counting() as counter:
            self.row = np.array(backprop(self.G.output(i), self.graph.inputs, at=self.values), dtype=float)
        self.visits = counter.visits
        highlight_row(self.drawing, self.G, i)
        if len(self.drawing.nodes) == len(self.G.nodes):
            self.drawing.ax.set_title(f"{G_title(self.G)}\nthe pass from $\\bar{{x}}_{{{i}}}$ outlined", fontsize=11)
        self.row_box = self.drawing.side.patches[-1]
        self.row_box.set_y(i - 0.5)
        shown = np.array2string(self.row, precision=3, suppress_small=True)
        self.label.value = (
            f"row {i} = ∇(e<sub>{i}</sub>ᵀ∇f) = {shown}; the pass from x̄<sub>{i}</sub> visits "
            f"{self.visits} of the {len(self.G.nodes)} nodes of G"
        )
        self.image.value = png(self.fig)


class ScalingExplorer(View):
    """Choose a function family and a range of n; the exact visits of naive and rows are redrawn on log-log axes.

    Controls: `family` (Dropdown), `n_range` (IntRangeSlider); readouts: `sweep`, `slopes`, `label`, `image`.
    """

    def __init__(self, families=None, n_max=48, points=5, figsize=(6.4, 4.2)):
        """Set up the family menu and the n range (up to n_max), then draw the first sweep."""
        self.families = dict(FAMILIES if families is None else families)
        self.points = points
        self.fig = Figure(figsize=figsize, dpi=100, layout="constrained")
        self.ax = self.fig.add_subplot()
        self.family = widgets.Dropdown(options=list(self.families), description="f")
        # Wide enough that one step of the handle is a few px: at the default width each n was a pixel or less.
        self.n_range = widgets.IntRangeSlider(value=(4, min(32, n_max)), min=2, max=n_max, description="n",
                                              continuous_update=False, layout=widgets.Layout(width="560px"))
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([self.family, self.n_range, self.label, self.image])
        self.family.observe(self.update, names="value")
        self.n_range.observe(self.update, names="value")
        self.update()

    def ns(self):
        """About `points` values of n spread geometrically over the chosen range."""
        low, high = self.n_range.value
        return sorted({int(round(v)) for v in np.geomspace(low, high, self.points)})

    def update(self, change=None):
        """Run the exact count sweep for the chosen family and range, then redraw the plot and the label."""
        ns = self.ns()
        self.sweep = count_sweep(self.families[self.family.value], ns, progress=False, x0_of_n=default_point)
        naive, rows = self.sweep["naive"]["visits"], self.sweep["rows"]["visits"]
        self.ax.clear()
        self.slopes = loglog_with_slopes(self.ax, ns, {"naive": naive, "rows": rows}, title=self.family.value)
        exact = bool(np.array_equal(naive, np.array(ns) * rows))
        self.label.value = (
            f"naive visits = n × rows visits exactly: <b>{exact}</b>; "
            f"slopes {self.slopes['naive']:.2f} and {self.slopes['rows']:.2f} differ by "
            f"<b>{self.slopes['naive'] - self.slopes['rows']:.2f}</b>"
        )
        self.image.value = png(self.fig)
