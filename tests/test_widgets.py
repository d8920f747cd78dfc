"""The widgets, driven headlessly: set a control's value, then check the label, the artists and the picture."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import hessian_lab as hl  # noqa: E402
from hessian_lab import plots, widgets  # noqa: E402
from hessian_lab.scaling import chain  # noqa: E402

X0 = [1.0, 2.0]


def f(x):
    """The brief's running example."""
    return hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1]


@pytest.fixture
def graph():
    """A fresh trace of f."""
    return hl.trace(f, 2)


def hidden(drawing):
    """The nodes a drawing currently shows as not yet computed."""
    faded = to_rgba(plots.HIDDEN)
    return {v for v, c in zip(drawing.nodes, drawing.points.get_facecolors()) if tuple(c) == faded}


def test_stepper_walks_the_forward_pass_then_the_adjoint_nodes(graph):
    """The slider reveals f's nodes first, then G's mirror; labels, colours and the PNG follow it."""
    stepper = widgets.GraphStepper(graph, X0)
    G = graph.gradient_graph()
    adjoint = set(plots.adjoint_nodes(G))
    assert len(stepper.steps) == len([v for v in G.nodes if v.op != "const"])
    assert "forward pass" in stepper.label.value and "step 1 of" in stepper.label.value
    first_picture = stepper.image.value
    assert hidden(stepper.drawing) >= adjoint  # nothing of the mirror yet

    stepper.slider.value = graph.num_nodes - 1  # f has no constants: the last forward step
    assert hidden(stepper.drawing) == adjoint
    assert stepper.drawing.labels[graph.output].get_text().endswith(f"{graph.value(X0):.3g}")

    stepper.slider.value = stepper.slider.max
    assert hidden(stepper.drawing) == set()
    assert "mirrored adjoint node" in stepper.label.value and "x̄1" in stepper.label.value
    assert stepper.image.value != first_picture


def test_row_picker_shows_row_i_and_the_pass_from_x_bar_i(graph):
    """Choosing i gives row i of H, the visits of its pass, the moved box and x̄_i in red."""
    picker = widgets.RowPicker(graph, X0)
    G = graph.gradient_graph()
    H = hl.hessian(f, X0)
    for i in (1, 0):
        picker.slider.value = i
        assert np.allclose(picker.row, H[i])
        assert picker.visits == len(hl.topological_order([G.output(i)]))
        assert picker.label.value.startswith(f"row {i} ")
        assert picker.row_box.get_y() == i - 0.5
        assert picker.drawing.ax.get_title() == f"G, with the pass from x̄{i} outlined"
        red = [v for v, c in zip(picker.drawing.nodes, picker.drawing.points.get_facecolors())
               if tuple(c) == to_rgba(plots.HIGHLIGHT)]
        assert red == [G.output(i)]


def test_scaling_explorer_redraws_for_the_chosen_family_and_range():
    """Changing the range or the family reruns the exact sweep and redraws the plot."""
    explorer = widgets.ScalingExplorer(families={"chain": chain, "other": chain}, n_max=8, points=3)
    explorer.n_range.value = (2, 8)
    assert explorer.ns() == [2, 4, 8]
    assert list(explorer.sweep["rows"]["n"]) == [2, 4, 8]
    assert explorer.slopes["naive"] - explorer.slopes["rows"] == pytest.approx(1.0)
    assert "exactly: <b>True</b>" in explorer.label.value
    legend = [t.get_text() for t in explorer.ax.get_legend().get_texts()]
    assert legend[0].startswith("naive (slope") and len(explorer.ax.get_lines()) == 2
    explorer.family.value = "other"
    assert explorer.ax.get_title() == "other"
