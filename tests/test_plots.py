"""The pictures, measured as drawn: no edge through a node, labels legible at display size, G as f above its mirror."""

import io
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import hessian_lab as hl  # noqa: E402
from hessian_lab import graph_layout, plots, widgets  # noqa: E402
from hessian_lab.families import rosenbrock  # noqa: E402

X0_NB1 = np.array([0.5, -1.2, 0.3])
X0_NB2 = np.array([0.7, 1.3, -0.4])


def f_nb1(v):
    """Notebook 1's function, z + sin(x^2 + y*exp(z))."""
    x, y, z = v
    return z + hl.sin(x**2 + y * hl.exp(z))


def f_nb2(x, lib=hl):
    """Notebook 2's function."""
    return lib.sin(x[0]) * x[1] + x[0] ** 2 / x[1] + lib.exp(x[1] * x[2]) / 4


@pytest.fixture(autouse=True)
def close_figures():
    """Close every pyplot figure a test opened."""
    yield
    plt.close("all")


def notebook_figures():
    """The graph pictures notebooks 1 and 2 draw, made by the same calls, widgets included: (name, GraphDrawing)."""
    g1, g2 = hl.trace(f_nb1, 3), hl.trace(f_nb2, 3)
    stepper, picker = widgets.GraphStepper(g1, X0_NB1), widgets.RowPicker(g2, X0_NB2)
    stepper.slider.value = stepper.slider.max  # every label carries its value: the widest the boxes get
    return [
        ("nb1 f", plots.GraphDrawing(g1, title="f")),
        ("nb1 G", plots.draw_G(g1.gradient_graph())),
        ("nb1 GraphStepper", stepper.drawing),
        ("nb2 G", plots.draw_G(g2.gradient_graph())),
        ("nb2 G highlighted", highlighted(g2, 1)),
        ("nb2 RowPicker", picker.drawing),
    ]


def highlighted(graph, i):
    """draw_gradient_graph(graph, highlight=i)'s drawing, rebuilt from the figure's own artists."""
    G = graph.gradient_graph()
    drawing = plots.draw_G(G, focus=i)
    plots.highlight_row(drawing, G, i)
    return drawing


def png_width(figure, **options):
    """The width in px of the PNG the figure becomes (bbox_inches="tight", as the inline backend saves it)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", **options)
    return struct.unpack(">II", buffer.getvalue()[16:24])[0]


def drawn_boxes(drawing):
    """{node: (x0, y0, x1, y1)} of each node's box in display px, after a real draw."""
    canvas = FigureCanvasAgg(drawing.ax.figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = {}
    for node, text in drawing.boxes.items():
        extent = text.get_bbox_patch().get_window_extent(renderer)
        boxes[node] = (extent.x0, extent.y0, extent.x1, extent.y1)
    return boxes


def edges_through_nodes(drawing, margin=1.0):
    """(edge, node) pairs where a drawn edge runs through a node's box (shrunk by margin px), sampled every 0.5 px."""
    boxes = drawn_boxes(drawing)
    found = []
    for (tail, head), path in zip(drawing.edge_list, drawing.edges.get_paths()):
        points = drawing.ax.transData.transform(path.vertices)
        for p, q in zip(points, points[1:]):
            steps = max(2, int(np.hypot(*(q - p)) / 0.5))
            samples = p + np.linspace(0, 1, steps)[:, None] * (q - p)
            for node, (x0, y0, x1, y1) in boxes.items():
                if node in (tail, head):
                    continue
                inside = ((samples[:, 0] > x0 + margin) & (samples[:, 0] < x1 - margin)
                          & (samples[:, 1] > y0 + margin) & (samples[:, 1] < y1 - margin))
                if inside.any():
                    found.append(((drawing.names[tail], drawing.names[head]), drawing.names[node]))
    return found


def test_depth_is_the_longest_path_from_the_inputs():
    """Inputs sit at depth 0 and every operation one level above its deepest non-constant argument."""
    g = hl.trace(lambda x: hl.sin(x[0]) * x[1] + x[0] ** 2 / x[1], 2)
    depth = plots.depths(g.nodes)
    assert depth[g.inputs[0]] == depth[g.inputs[1]] == 0
    assert depth[g.output] == 3  # x0 -> ^2 -> ÷ -> +  (the ÷ also uses x1, at depth 0)
    operations = [v for v in g.nodes if v.op not in ("input", "const")]
    assert all(depth[v] > max(depth[a] for a in v.args if a.op != "const") for v in operations)


@pytest.mark.parametrize("name, drawing", notebook_figures(), ids=lambda x: x if isinstance(x, str) else "")
def test_no_edge_passes_through_a_node(name, drawing):
    """In the drawn coordinates, no edge of notebooks 1 and 2's graphs crosses the box of a node it does not join."""
    assert drawing.edge_list and edges_through_nodes(drawing) == []


def test_the_check_sees_an_edge_through_a_node():
    """The measurement above can fail: a straight edge drawn across a box is found."""
    drawing = plots.GraphDrawing(hl.trace(f_nb1, 3))
    a, b = drawing.edge_list[0]
    other = next(v for v in drawing.nodes if v not in (a, b))
    through = [drawing.layout.position[a], drawing.layout.position[other], drawing.layout.position[b]]
    drawing.edges.set_segments([through] + [drawing.layout.routes[e] for e in drawing.edge_list[1:]])
    assert ((drawing.names[a], drawing.names[b]), drawing.names[other]) in edges_through_nodes(drawing)


@pytest.mark.parametrize("name, drawing", notebook_figures(), ids=lambda x: x if isinstance(x, str) else "")
def test_labels_are_shown_at_10_pt_where_jupyterlab_shows_them(name, drawing):
    """pt × dpi / 72 × display scale ≥ 10 pt in px for every node label (never shrunk), with the display scale from the saved PNG's width."""
    figure = drawing.ax.figure
    scale = min(1.0, plots.DISPLAY_WIDTH / png_width(figure, bbox_inches="tight"))
    sizes = [text.get_fontsize() * figure.dpi / 72 * scale for text in drawing.labels.values()]
    assert drawing.legible and len(sizes) == len(drawing.nodes)
    assert min(sizes) >= plots.MIN_LABEL_PX
    assert png_width(figure) <= plots.DISPLAY_WIDTH  # made at the size it is shown: never shrunk


def test_G_is_f_above_its_mirror_with_inputs_on_top_and_outputs_at_the_bottom():
    """Every mirror node sits below every node of f; the inputs share the top layer and the x̄_i the bottom one."""
    g = hl.trace(f_nb1, 3)
    G = g.gradient_graph()
    drawing = plots.draw_G(G)
    y = {v: drawing.layout.position[v][1] for v in drawing.nodes}
    mirror = set(plots.adjoint_nodes(G))
    assert min(y[v] for v in mirror) > max(y[v] for v in g.nodes)
    assert {y[x] for x in g.inputs} == {min(y.values())}
    assert {y[G.output(i)] for i in range(3)} == {max(y.values())}


def test_adjoint_nodes_are_named_by_what_they_are_the_adjoint_of():
    """In notebook 1's G, cos(x² + y eᶻ) is z̄ of the inner sum (and of its two arguments); the outputs are x̄_i."""
    g = hl.trace(f_nb1, 3)
    G = g.gradient_graph()
    names = plots.G_names(G)
    values = G.evaluate(X0_NB1)
    x, y, z = X0_NB1
    inner = [v for v in g.nodes if np.isclose(values[v], x**2 + y * np.exp(z)) and v.op == "add"]
    (inner_sum,) = inner
    k = names[inner_sum].split("{")[1].split("}")[0]  # "$z_{4}$: +" -> "4"
    (adjoint,) = [v for v in G.nodes if rf"\bar{{z}}_{{{k}}}" in names[v]]
    assert np.isclose(values[adjoint], np.cos(x**2 + y * np.exp(z)))
    for i in range(3):
        assert names[G.output(i)].startswith(rf"$\bar{{x}}_{{{i}}}$")


def test_constants_are_grey_everywhere_and_the_legend_names_every_role():
    """Constants of f and of the mirror share the grey; the legend has inputs, f's nodes, adjoint nodes, constants."""
    G = hl.trace(f_nb2, 3).gradient_graph()
    drawing = plots.draw_G(G)
    grey = to_rgba(plots.COLORS["const"])
    constants = [c for v, c in zip(drawing.nodes, drawing.face_colors()) if v.op == "const"]
    assert any(v.op == "const" for v in plots.adjoint_nodes(G)) and constants
    assert all(c == grey for c in constants)
    legend = [t.get_text() for t in drawing.ax.get_legend().get_texts()]
    assert legend == [plots.LEGEND[r] for r in ("input", "forward", "adjoint", "const")]


def test_a_graph_too_big_to_label_says_so_and_shows_G_i():
    """Rosenbrock n = 8's G does not fit legibly: highlight=i draws only the nodes of G_i, legibly, and says why."""
    g = hl.trace(rosenbrock(8), 8)
    G = g.gradient_graph()
    assert not plots.draw_G(G).legible
    figure = plots.draw_gradient_graph(g, highlight=2)
    ax = figure.axes[0]
    assert "too many to label" in ax.get_title() and "$G_{2}$" in ax.get_title()
    drawn = {t.get_text() for t in ax.texts}
    assert len(ax.texts) - 2 == len(plots.pass_nodes(G, 2)) < len(G.nodes)  # two region names besides the nodes
    assert r"$\bar{x}_{2}$: Σ" in drawn


@pytest.mark.parametrize("engine", ["grandalf", "dot"])
def test_each_engine_routes_notebook_graphs_around_nodes(engine):
    """With either engine (dot only where installed), no route of notebooks 1 and 2's G meets another node's box."""
    if graph_layout.engine(engine) != engine:
        pytest.skip("Graphviz's dot is not installed")
    for f, n in ((f_nb1, 3), (f_nb2, 3)):
        G = hl.trace(f, n).gradient_graph()
        drawing = plots.draw_G(G)
        layout = graph_layout.layered_layout(drawing.nodes, drawing.edge_list, drawing.layer, drawing.layout.size,
                                             preferred=engine)
        for (a, b), route in layout.routes.items():
            for k, centre in layout.position.items():
                box = (*np.subtract(centre, np.divide(layout.size[k], 2)), *np.add(centre, np.divide(layout.size[k], 2)))
                assert k in (a, b) or not any(graph_layout.segment_meets_box(p, q, box) for p, q in zip(route, route[1:]))


def test_layout_routes_go_around_boxes():
    """graph_layout alone: an edge spanning layers bends around a box that sits on its straight line."""
    keys = ["a", "b", "c", "d"]
    ranks = {"a": 0, "b": 1, "c": 2, "d": 1}
    layout = graph_layout.layered_layout(keys, [("a", "b"), ("b", "c"), ("a", "c"), ("a", "d")], ranks,
                                         {k: (40, 20) for k in keys}, preferred="grandalf")
    route = layout.routes["a", "c"]
    assert len(route) >= 3  # through the layer it crosses
    for k in ("b", "d"):
        x, y = layout.position[k]
        box = (x - 20, y - 10, x + 20, y + 10)
        assert not any(graph_layout.segment_meets_box(p, q, box) for p, q in zip(route, route[1:]))


def test_highlight_fills_x_bar_i_and_outlines_the_nodes_its_pass_visits():
    """highlight=i fills only x̄_i and outlines exactly the nodes x̄_i depends on."""
    g = hl.trace(f_nb2, 3)
    G = g.gradient_graph()
    drawing = highlighted(g, 1)
    red = to_rgba(plots.HIGHLIGHT)
    filled = [v for v, c in zip(drawing.nodes, drawing.face_colors()) if c == red]
    outlined = {v for v, c in zip(drawing.nodes, drawing.edge_colors()) if c == red}
    assert filled == [G.output(1)]
    assert outlined == set(hl.topological_order([G.output(1)])) != set(drawing.nodes)


def test_draw_gradient_graph_keeps_its_pair_of_axes_form():
    """Given two Axes, f goes on the first and G on the second, as before."""
    g = hl.trace(f_nb1, 3)
    fig, axes = plt.subplots(1, 2, figsize=(9, 5))
    assert plots.draw_gradient_graph(g, axes) is fig
    assert len(axes[0].texts) == g.num_nodes and len(axes[1].texts) > g.num_nodes


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
