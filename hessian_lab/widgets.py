"""Interactive views for the notebooks, written for ipywidgets 7.7 and 8 alike.

Each class holds its controls, its matplotlib Figure and artists as attributes, and redraws in update(),
so tests drive it headlessly: set `slider.value`, then read the label and the artists. The picture reaches
the browser as a PNG in an Image widget, which behaves the same on every ipywidgets version and in Colab.
"""

import io

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from .backprop import backprop
from .counting import counting
from .node import Node, to_text
from .plots import HIDDEN, adjoint_nodes, draw_G, hessian_heatmap, highlight_row, loglog_with_slopes
from .scaling import FAMILIES, count_sweep, default_point


def png(fig):
    """The figure rendered as PNG bytes, for an Image widget."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()


class GraphStepper:
    """Backprop node by node: first the forward pass over f's graph, then G's mirrored adjoint nodes appearing.

    Step s shows the first s + 1 computed nodes (constants appear with their first user), each labelled with its
    value at x0; the current node is outlined. Controls: `slider` (and `play`); readouts: `label`, `image`.
    """

    def __init__(self, graph, x0, figsize=(9, 6)):
        """Evaluate G at x0, draw it, and wire the slider to update()."""
        self.graph = graph
        self.G = graph.gradient_graph()
        self.values = self.G.evaluate(x0)
        self.adjoint = adjoint_nodes(self.G)
        self.primal = set(graph.nodes)
        self.steps = [v for v in graph.nodes if v.op != "const"] + [v for v in self.adjoint if v.op != "const"]
        self.output_index = {v: i for i, v in enumerate(self.G.outputs) if isinstance(v, Node)}
        self.fig = Figure(figsize=figsize, layout="constrained")
        self.drawing = draw_G(self.G, self.fig.add_subplot())
        self.slider = widgets.IntSlider(value=0, min=0, max=len(self.steps) - 1, description="step")
        self.play = widgets.Play(value=0, min=0, max=len(self.steps) - 1, interval=700)
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([widgets.HBox([self.play, self.slider]), self.label, self.image])
        self.slider.observe(self.update, names="value")
        self.update()

    def shown(self, step):
        """The nodes visible at `step`: the computed ones so far, and the constants they use."""
        computed = self.steps[: step + 1]
        return set(computed) | {a for v in computed for a in v.args if a.op == "const"}

    def describe(self, node):
        """One line about a node: which pass computes it, what it is, and its value at x0."""
        phase = "forward pass over f" if node in self.primal else "mirrored adjoint node of G"
        name = f"x̄{self.output_index[node]} = ∂f/∂x{self.output_index[node]} = " if node in self.output_index else ""
        return f"<b>{phase}</b>: {name}{to_text(node, 2)} = {self.values[node]:.4g}"

    def update(self, change=None):
        """Redraw for the slider's step: colours, value labels, edges, the text line and the PNG."""
        step = self.slider.value
        shown = self.shown(step)
        current = self.steps[step]
        colors = self.drawing.base_colors()
        self.drawing.set_colors([c if v in shown else HIDDEN for v, c in zip(self.drawing.nodes, colors)])
        self.drawing.outline([current])
        self.drawing.set_edge_alpha(shown)
        for node, text in self.drawing.labels.items():
            text.set_text(f"{self.drawing.names[node]}\n{self.values[node]:.3g}" if node in shown else "")
        self.label.value = f"step {step + 1} of {len(self.steps)}. " + self.describe(current)
        self.image.value = png(self.fig)


class RowPicker:
    """Pick i: G_i's output x̄_i lights up in G, the nodes its backward pass visits are outlined, and row i of H shows.

    Controls: `slider`; readouts: `label` (the row and the pass's visits), `row` (ndarray), `visits`, `image`.
    """

    def __init__(self, graph, x0, figsize=(11, 5)):
        """Compute H at x0 by rows, draw G beside its heatmap, and wire the slider to update()."""
        self.graph = graph
        self.G = graph.gradient_graph()
        self.values = self.G.evaluate(x0)
        self.H = graph.hessian(x0, method="rows")
        self.fig = Figure(figsize=figsize, layout="constrained")
        left, right = self.fig.subplots(1, 2, width_ratios=[3, 2])
        self.drawing = draw_G(self.G, left)
        hessian_heatmap(self.H, right, title="∇²f(x0)", row=0)
        self.row_box = right.patches[-1]
        self.slider = widgets.IntSlider(value=0, min=0, max=graph.n - 1, description="i")
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([self.slider, self.label, self.image])
        self.slider.observe(self.update, names="value")
        self.update()

    def update(self, change=None):
        """Row i by one backprop over G_i, counted; then highlight, move the box, rewrite the label and the PNG."""
        i = self.slider.value
        with counting() as counter:
            self.row = np.array(backprop(self.G.output(i), self.graph.inputs, at=self.values), dtype=float)
        self.visits = counter.visits
        highlight_row(self.drawing, self.G, i)
        self.drawing.ax.set_title(f"G, with the pass from x̄{i} outlined")
        self.row_box.set_y(i - 0.5)
        shown = np.array2string(self.row, precision=3, suppress_small=True)
        self.label.value = (
            f"row {i} = ∇(e<sub>{i}</sub>ᵀ∇f) = {shown}; the pass from x̄<sub>{i}</sub> visits "
            f"{self.visits} of the {len(self.G.nodes)} nodes of G"
        )
        self.image.value = png(self.fig)


class ScalingExplorer:
    """Choose a function family and a range of n; the exact visits of naive and rows are redrawn on log-log axes.

    Controls: `family` (Dropdown), `n_range` (IntRangeSlider); readouts: `sweep`, `slopes`, `label`, `image`.
    """

    def __init__(self, families=None, n_max=48, points=5, figsize=(6, 4)):
        """Set up the family menu and the n range (up to n_max), then draw the first sweep."""
        self.families = dict(FAMILIES if families is None else families)
        self.points = points
        self.fig = Figure(figsize=figsize, layout="constrained")
        self.ax = self.fig.add_subplot()
        self.family = widgets.Dropdown(options=list(self.families), description="f")
        self.n_range = widgets.IntRangeSlider(value=(4, min(32, n_max)), min=2, max=n_max, description="n",
                                              continuous_update=False)
        self.label = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([widgets.HBox([self.family, self.n_range]), self.label, self.image])
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

