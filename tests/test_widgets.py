"""The widgets, driven headlessly: set a control's value, then check the label, the artists and the picture."""

import base64
import struct

import matplotlib
import matplotlib.text

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import hessian_lab as hl  # noqa: E402
from hessian_lab import plots, widgets  # noqa: E402
from hessian_lab.families import deep_chain, default_point, rosenbrock  # noqa: E402

X0 = [1.0, 2.0]


def f(x):
    """A small example with a division and a sine."""
    return hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1]


@pytest.fixture
def graph():
    """A fresh trace of f."""
    return hl.trace(f, 2)


def hidden(drawing):
    """The nodes a drawing currently shows as not yet computed."""
    faded = to_rgba(plots.HIDDEN)
    return {v for v, c in zip(drawing.nodes, drawing.face_colors()) if c == faded}


def png_width(data):
    """The width in px of PNG bytes, from the header."""
    return struct.unpack(">II", data[16:24])[0]


def smallest_label_px(drawing, picture):
    """The smallest node label in screen px where JupyterLab shows `picture` (pt × dpi / 72 × display scale)."""
    scale = min(1.0, plots.DISPLAY_WIDTH / png_width(picture))
    return min(t.get_fontsize() for t in drawing.labels.values()) * drawing.ax.figure.dpi / 72 * scale


def test_stepper_counts_steps_from_1_as_its_label_does(graph):
    """The slider's value is the step the label names, from "step 1 of N" to "step N of N"."""
    stepper = widgets.GraphStepper(graph, X0)
    total = len(stepper.steps)
    assert (stepper.slider.min, stepper.slider.max, stepper.play.max) == (1, total, total)
    for step in (1, 8, total):
        stepper.slider.value = step
        assert stepper.label.value.startswith(f"step {step} of {total}. ")
        drawing = stepper.drawing
        outlined = [v for v, c in zip(drawing.nodes, drawing.edge_colors()) if c == to_rgba(plots.HIGHLIGHT)]
        assert outlined == [stepper.steps[step - 1]]


def test_stepper_walks_the_forward_pass_then_the_adjoint_nodes(graph):
    """The slider reveals f's nodes first, then G's mirror; labels, colours and the PNG follow it."""
    stepper = widgets.GraphStepper(graph, X0)
    G = graph.gradient_graph()
    adjoint = set(plots.adjoint_nodes(G))
    assert len(stepper.steps) == len([v for v in G.nodes if v.op != "const"])
    assert "forward pass" in stepper.label.value
    first_picture = stepper.image.value
    assert hidden(stepper.drawing) >= adjoint - {v for v in adjoint if v.op == "const"}

    stepper.slider.value = graph.num_nodes  # f has no constants: its last node is step num_nodes
    assert hidden(stepper.drawing) == adjoint
    assert stepper.drawing.labels[graph.output].get_text().endswith(f"{graph.value(X0):.3g}")

    stepper.slider.value = stepper.slider.max
    assert hidden(stepper.drawing) == set()
    assert "mirrored adjoint node" in stepper.label.value and "x̄1" in stepper.label.value
    assert stepper.image.value != first_picture
    assert smallest_label_px(stepper.drawing, stepper.image.value) >= plots.MIN_LABEL_PX


def test_stepper_on_a_big_graph_pages_through_readable_parts():
    """Rosenbrock n = 4 (75 nodes of G) is shown a page of steps at a time, legibly, with a title saying why."""
    graph = hl.trace(rosenbrock(4), 4)
    stepper = widgets.GraphStepper(graph, default_point(4))
    assert len(stepper.pages) > 1 and all(last - first <= widgets.PAGE_STEPS for first, last in stepper.pages)
    for step in (1, 30, stepper.slider.max):
        stepper.slider.value = step
        drawing = stepper.drawing
        assert stepper.steps[step - 1] in drawing.nodes and len(drawing.nodes) < len(stepper.G.nodes)
        assert "too many to label" in drawing.ax.get_title()
        assert drawing.legible and smallest_label_px(drawing, stepper.image.value) >= plots.MIN_LABEL_PX


def test_row_picker_shows_row_i_and_the_pass_from_x_bar_i(graph):
    """Choosing i gives row i of H, the visits of its pass, the moved box and x̄_i in red, legibly."""
    picker = widgets.RowPicker(graph, X0)
    G = graph.gradient_graph()
    H = hl.hessian(f, X0)
    for i in (1, 0):
        picker.slider.value = i
        assert np.allclose(picker.row, H[i])
        assert picker.visits == len(hl.topological_order([G.output(i)]))
        assert picker.label.value.startswith(f"row {i} ")
        assert picker.row_box.get_y() == i - 0.5
        assert picker.drawing.ax.get_title().endswith(f"the pass from $\\bar{{x}}_{{{i}}}$ outlined")
        red = [v for v, c in zip(picker.drawing.nodes, picker.drawing.face_colors()) if c == to_rgba(plots.HIGHLIGHT)]
        assert red == [G.output(i)]
        assert smallest_label_px(picker.drawing, picker.image.value) >= plots.MIN_LABEL_PX


def test_row_picker_on_a_big_graph_draws_G_i_alone():
    """When G is too big to label, the picker shows only the nodes of G_i, and says so."""
    graph = hl.trace(rosenbrock(4), 4)
    picker = widgets.RowPicker(graph, default_point(4))
    picker.slider.value = 2
    G = picker.G
    assert set(picker.drawing.nodes) == set(plots.pass_nodes(G, 2))
    assert "too many to label" in picker.drawing.ax.get_title()
    assert smallest_label_px(picker.drawing, picker.image.value) >= plots.MIN_LABEL_PX


def test_static_output_is_a_picture_and_a_line_not_a_repr(graph):
    """Shown as a cell result, a view offers the live widget, a PNG with the note, and a plain line; no VBox repr."""
    stepper = widgets.GraphStepper(graph, X0)
    bundle = stepper._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == stepper.widget.model_id
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert bundle["text/plain"] == f"GraphStepper (a widget): {widgets.STATIC_NOTE}."
    assert "VBox" not in bundle["text/plain"]
    picker = widgets.RowPicker(graph, X0)
    assert picker._repr_mimebundle_()["text/plain"].startswith("RowPicker")


def test_scaling_explorer_redraws_for_the_chosen_family_and_range():
    """Changing the range or the family reruns the exact sweep and redraws the plot; the range slider is wide."""
    explorer = widgets.ScalingExplorer(families={"deep_chain": deep_chain, "other": deep_chain}, n_max=8, points=3)
    assert int(explorer.n_range.layout.width.rstrip("px")) >= 500
    explorer.n_range.value = (2, 8)
    assert explorer.ns() == [2, 4, 8]
    assert list(explorer.sweep["rows"]["n"]) == [2, 4, 8]
    assert explorer.slopes["naive"] - explorer.slopes["rows"] == pytest.approx(1.0)
    assert "exactly: <b>True</b>" in explorer.label.value
    legend = [t.get_text() for t in explorer.ax.get_legend().get_texts()]
    assert legend[0].startswith("naive (slope") and len(explorer.ax.get_lines()) == 2
    explorer.family.value = "other"
    assert explorer.ax.get_title() == "other"
    assert png_width(explorer.image.value) <= plots.DISPLAY_WIDTH


def test_every_view_shows_its_picture_at_its_own_width(graph):
    """Each Image widget's CSS width is its PNG's width in px, and it keeps to the left: never stretched to the box."""
    views = [widgets.GraphStepper(graph, X0), widgets.RowPicker(graph, X0),
             widgets.ScalingExplorer(families={"deep_chain": deep_chain}, n_max=8, points=3)]
    for view in views:
        assert view.image.layout.width == f"{png_width(view.image.value)}px"
        assert view.image.layout.align_self == "flex-start"
    stepper = views[0]
    stepper.slider.value = stepper.slider.max
    assert stepper.image.layout.width == f"{png_width(stepper.image.value)}px"


def f_nb1(v):
    """Notebook 1's example, the stepper's graph there."""
    x, y, z = v
    return z + hl.sin(x**2 + y * hl.exp(z))


def f_nb2(x):
    """Notebook 2's example, the row picker's graph there."""
    return hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1] + hl.exp(x[1] * x[2]) / 4


def notebook_views():
    """The three widgets as notebooks 1, 2 and 3 show them, the stepper on its last (fullest) step."""
    stepper = widgets.GraphStepper(hl.trace(f_nb1, 3), [0.5, -1.2, 0.3])
    stepper.slider.value = stepper.slider.max
    return {"stepper": stepper, "picker": widgets.RowPicker(hl.trace(f_nb2, 3), [0.7, 1.3, -0.4]),
            "explorer": widgets.ScalingExplorer()}


# A widget fits a 900 px tall window when its picture is at most this tall: its controls and label take under 100 px
# more (the browser test measures the whole widget), so all of it fits in about 820 px. The stepper's picture is
# 670 px tall with matplotlib 3.10 and 706 px with Colab's 3.8, whose tight bounding box keeps a few more pixels.
PICTURE_MAX_PX = 720


@pytest.mark.parametrize("name", ["stepper", "picker", "explorer"])
def test_each_notebook_widget_fits_a_900_px_window_at_its_own_size_with_10_pt_text(name):
    """The picture is shown 1:1 (no wider than the output area) and at most PICTURE_MAX_PX tall, and every piece of
    text in it (labels, legend, title, ticks) is at least 10 pt."""
    view = notebook_views()[name]
    width, height = struct.unpack(">II", view.image.value[16:24])
    assert width <= plots.DISPLAY_WIDTH and height <= PICTURE_MAX_PX, (width, height)
    texts = [t for t in view.fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]
    small = {t.get_text(): t.get_fontsize() for t in texts if t.get_fontsize() < plots.LABEL_PT}
    assert texts and not small, small


def test_the_row_picker_of_notebook_2_shows_its_heatmap_beside_g_at_full_size():
    """Beside G, not below it (which would make the widget taller than a window); the labels stay 10 pt."""
    picker = notebook_views()["picker"]
    assert len(picker.drawing.nodes) == len(picker.G.nodes) and picker.drawing.fontsize == plots.LABEL_PT
    assert picker.drawing.side.get_position().x0 > picker.drawing.ax.get_position().x0  # beside the graph
    assert picker.drawing.side.get_position().y0 > picker.drawing.ax.get_position().y0


def test_progress_yields_every_item_and_outside_a_notebook_only_iterates(capsys):
    """Without IPython nothing is printed: the loop sees every item, once, and a loop that breaks early is fine."""
    assert list(widgets.progress(range(4), "sizes")) == [0, 1, 2, 3]
    for item in widgets.progress(range(10), "steps"):
        if item == 2:
            break
    assert item == 2 and capsys.readouterr().out == ""
