"""Interactive views for the notebooks, written for ipywidgets 7.7 and 8 alike.

Each class holds its controls, its matplotlib Figure and artists as attributes, and redraws in update(),
so tests drive it headlessly: set `slider.value`, then read the label and the artists. The picture reaches
the browser as a PNG in an Image widget, which behaves the same on every ipywidgets version and in Colab.
Shown as a cell's result (`stepper`, not `stepper.widget`), a view is the live widget where a kernel runs,
and elsewhere (GitHub, nbviewer, a notebook not yet run) its picture with a line saying to run the notebook.
"""

import base64
import io
import struct

import ipywidgets as widgets
import numpy as np
from IPython import get_ipython
from IPython.display import display
from matplotlib.figure import Figure

from .backprop import backprop
from .counting import counting
from .families import FAMILIES, default_point
from .node import Node, to_text
from .plots import (
    G_names, G_title, HIDDEN, GraphDrawing, adjoint_nodes, draw_G, hessian_heatmap, highlight_row,
    loglog_with_slopes, valued,
)
from .scaling import count_sweep

STATIC_NOTE = "run the notebook to step through it"
PAGE_STEPS = 12  # steps per picture when the whole of G is too big to label
# px for the RowPicker's Hessian: beside G where both fit at full size, else below it. Small, so that the widget fits
# a 900 px tall window: the row's values are in the label, so the heatmap only has to show where the row is.
HEATMAP_PX = 180


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


def picture():
    """An empty Image widget for PNGs, kept at the left of its box (a VBox stretches its children to its width)."""
    return widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start", max_width="100%", height="auto"))


def show_png(image, data):
    """Put PNG bytes into an Image widget at their own width in px, so the browser shows them 1:1, never stretched."""
    image.layout.width = f"{struct.unpack('>I', data[16:20])[0]}px"
    image.value = data


def progress(items, desc):
    """Iterate over items with a live progress bar, and leave in the cell's output one finished line instead of it.

    A saved tqdm bar keeps the text of its first frame ("0%| | 0/5"), so a notebook opened before it is run looks
    stuck above finished results. This bar is shown through a display handle and, when the loop ends, replaced by
    "desc: 5 of 5 done" (or "desc: stopped after 151 of at most 501" when the loop breaks). Where nothing can be
    displayed (a plain Python run), it only iterates.
    """
    items = list(items)
    if get_ipython() is None:
        yield from items
        return
    bar = widgets.IntProgress(value=0, min=0, max=len(items), description=desc,
                              style={"description_width": "initial"}, layout=widgets.Layout(width="420px"))
    handle = display(bar, display_id=True)
    done = 0
    try:
        for item in items:
            yield item
            done += 1
            bar.value = done
    finally:  # also when the loop breaks early: CPython closes the generator as the loop lets go of it
        line = f"{desc}: {done} of {len(items)} done" if done == len(items) else \
            f"{desc}: stopped after {done + 1} of at most {len(items)}"
        handle.update({"text/plain": line}, raw=True)
        bar.close()


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
    label, the steps are split into `pages` (ranges of at most PAGE_STEPS steps, fewer where that many would not fit
    at full size), and the picture shows the page of s and the nodes its steps read, and says so.
    Each label carries its node's value beside it ("inline") or, where that would make G too wide, below it.
    Controls: `slider` (and `play`); readouts: `label`, `image`, `drawing` (the current picture's GraphDrawing),
    `value_line`.
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
        # Values beside the labels keep the picture short; below them where beside would make G too wide to label.
        for self.value_line in ("inline", "below"):
            whole = draw_G(self.G, value_line=self.value_line)
            if whole.legible:
                break
        self.pages = [(0, len(self.steps))] if whole.legible else self.paginate()
        self.drawing, self.fig, self.page = whole, whole.ax.figure, 0 if whole.legible else None
        self.slider = widgets.IntSlider(value=1, min=1, max=len(self.steps), description="step",
                                        layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(value=1, min=1, max=len(self.steps), interval=700)
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.label = widgets.HTML()
        self.image = picture()
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

    def paginate(self):
        """Split the steps into pages of at most PAGE_STEPS steps, each as many as still draw legibly."""
        pages, first = [], 0
        while first < len(self.steps):
            count = min(PAGE_STEPS, len(self.steps) - first)
            while count > 1 and not self.page_drawing((first, first + count)).legible:
                count -= 1
            pages.append((first, first + count))
            first += count
        return pages

    def page_drawing(self, page):
        """The picture for a page (first, last) of steps: their nodes and the nodes they read, with a title saying so."""
        first, last = page
        part = {v for v in self.steps[first:last]} | {a for v in self.steps[first:last] for a in v.args}
        title = (f"G has {len(self.G.nodes)} nodes, too many to label at this size:\n"
                 f"steps {first + 1}–{last} and the nodes they read")
        return GraphDrawing(part, None, self.adjoint, title, self.names, value_line=self.value_line)

    def update(self, change=None):
        """Redraw for the slider's step: the page, colours, value labels, edges, the text line and the PNG."""
        step = self.slider.value
        page = next(k for k, (first, last) in enumerate(self.pages) if first < step <= last)
        if page != self.page:
            self.drawing, self.page = self.page_drawing(self.pages[page]), page
            self.fig = self.drawing.ax.figure
        shown = self.shown(step)
        current = self.steps[step - 1]
        colors = self.drawing.base_colors()
        self.drawing.set_colors([c if v in shown else HIDDEN for v, c in zip(self.drawing.nodes, colors)])
        self.drawing.outline([current])
        self.drawing.set_edge_alpha(shown)
        for node, text in self.drawing.labels.items():
            name = self.drawing.names[node]
            shown_value = node in shown and node.op != "const"
            text.set_text(valued(name, f"{self.values[node]:.3g}", self.value_line) if shown_value else name)
            text.set_alpha(1.0 if node in shown else 0.45)
        self.label.value = f"step {step} of {len(self.steps)}. " + self.describe(current)
        show_png(self.image, png(self.fig))


class RowPicker(View):
    """Pick i: G_i's output x̄_i lights up in G, the nodes its backward pass visits are outlined, and row i of H shows.

    When G is too big to label, only G_i is drawn. Controls: `slider`; readouts: `label` (the row and the pass's
    visits), `row` (ndarray), `visits`, `image`, `drawing`.
    """

    def __init__(self, graph, x0):
        """Compute H at x0 by rows, draw G with its heatmap (beside or below), and wire the slider to update()."""
        self.graph = graph
        self.G = graph.gradient_graph()
        self.values = self.G.evaluate(x0)
        self.H = graph.hessian(x0, method="rows")
        self.drawing = None
        self.slider = widgets.IntSlider(value=0, min=0, max=graph.n - 1, description="i")
        self.label = widgets.HTML()
        self.image = picture()
        self.widget = widgets.VBox([self.slider, self.label, self.image])
        self.slider.observe(self.update, names="value")
        self.update()

    def draw(self, i):
        """Draw G and the Hessian, once; or, when G is too big to label, G_i for this i."""
        if self.drawing is not None and len(self.drawing.nodes) == len(self.G.nodes) and self.drawing.legible:
            return
        self.drawing = draw_G(self.G, focus=i, beside=HEATMAP_PX)
        hessian_heatmap(self.H, self.drawing.side, title="∇²f(x0)", row=i, annotate=False, colorbar=False)
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
        show_png(self.image, png(self.fig))


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
        self.image = picture()
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
        show_png(self.image, png(self.fig))
