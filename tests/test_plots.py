"""The pictures: graph layout by depth, G beside f with adjoint nodes coloured apart, heatmaps, log-log slopes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import hessian_lab as hl  # noqa: E402
from hessian_lab import plots  # noqa: E402
from hessian_lab.scaling import rosenbrock  # noqa: E402


def f(x):
    """The brief's running example: a small graph with a constant, a division and a sine."""
    return hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1]


@pytest.fixture(autouse=True)
def close_figures():
    """Close every pyplot figure a test opened."""
    yield
    plt.close("all")


def points_of(ax):
    """The one scatter of nodes a GraphDrawing puts on an Axes."""
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return points


def test_depth_is_the_longest_path_from_the_inputs():
    """Inputs sit at depth 0 and every operation one level above its deepest non-constant argument."""
    g = hl.trace(f, 2)
    depth = plots.depths(g.nodes)
    assert depth[g.inputs[0]] == depth[g.inputs[1]] == 0
    assert depth[g.output] == 3  # x0 -> ^2 -> ÷ -> +  (the ÷ also uses x1, at depth 0)
    assert all(depth[v] > max(depth[a] for a in v.args if a.op != "const") for v in g.nodes if v.op not in ("input", "const"))


def test_draw_graph_draws_every_node_once_with_its_label():
    """One scatter point per node of f, labelled x0, x1 or the operation's symbol."""
    g = hl.trace(f, 2)
    ax = plots.draw_graph(g)
    assert points_of(ax).get_offsets().shape == (g.num_nodes, 2)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["x0", "x1", "sin", "×", "^2", "÷", "+"])


def test_constants_are_labelled_by_value():
    """A constant node is labelled with its value."""
    ax = plots.draw_graph(hl.trace(lambda x: 2.5 * x[0] + x[1], 2))
    assert "2.5" in [t.get_text() for t in ax.texts]


def test_large_graphs_are_drawn_without_labels():
    """Past LABEL_LIMIT nodes the drawing keeps every node but drops the labels."""
    g = hl.trace(rosenbrock(40), 40)
    ax = plots.draw_graph(g)
    assert g.num_nodes > plots.LABEL_LIMIT and len(ax.texts) == 0
    assert points_of(ax).get_offsets().shape[0] == g.num_nodes


def test_gradient_graph_colours_the_adjoint_nodes_apart():
    """G's panel draws all its nodes, and exactly the nodes not in f get the adjoint colour."""
    g = hl.trace(f, 2)
    G = g.gradient_graph()
    fig = plots.draw_gradient_graph(g)
    left, right = fig.axes[:2]
    assert points_of(left).get_offsets().shape[0] == g.num_nodes
    colors = points_of(right).get_facecolors()
    assert len(colors) == len(G.nodes)
    primal = set(g.nodes)
    adjoint = to_rgba(plots.COLORS["adjoint"])
    for node, color in zip(hl.topological_order(G.nodes), colors):
        assert (tuple(color) == adjoint) == (node not in primal)


def test_highlight_fills_x_bar_i_and_outlines_the_nodes_its_pass_visits():
    """highlight=i fills only x̄_i and outlines exactly the nodes x̄_i depends on."""
    g = hl.trace(f, 2)
    G = g.gradient_graph()
    fig = plots.draw_gradient_graph(g, highlight=1)
    points = points_of(fig.axes[1])
    nodes = hl.topological_order(G.nodes)
    red = to_rgba(plots.HIGHLIGHT)
    filled = [v for v, c in zip(nodes, points.get_facecolors()) if tuple(c) == red]
    outlined = {v for v, c in zip(nodes, points.get_edgecolors()) if tuple(c) == red}
    assert filled == [G.output(1)]
    assert outlined == set(hl.topological_order([G.output(1)])) != set(nodes)
    assert "x̄1" in [t.get_text() for t in fig.axes[1].texts]


def test_hessian_heatmap_shows_H_and_boxes_the_row():
    """The image holds H on a scale symmetric about 0, and the box sits on the chosen row."""
    H = np.array([[2.0, -1.0], [-1.0, 3.0]])
    ax = plots.hessian_heatmap(H, row=1)
    (image,) = ax.images
    assert np.array_equal(image.get_array(), H)
    assert image.get_clim() == (-3.0, 3.0)
    assert ax.patches[-1].get_y() == 0.5
    assert sorted(t.get_text() for t in ax.texts) == ["-1", "-1", "2", "3"]


def test_loglog_with_slopes_fits_power_laws_and_names_them_in_the_legend():
    """Exact power laws give their exponents, shown in the legend, on log-log axes."""
    xs = np.array([2, 4, 8, 16])
    fig, ax = plt.subplots()
    slopes = plots.loglog_with_slopes(ax, xs, {"naive": 5 * xs**2.0, "rows": 5 * xs})
    assert slopes == pytest.approx({"naive": 2.0, "rows": 1.0})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["naive (slope 2.00)", "rows (slope 1.00)"]
    assert ax.get_xscale() == ax.get_yscale() == "log"
