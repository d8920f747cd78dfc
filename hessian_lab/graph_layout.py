"""Layered (Sugiyama) layout of a DAG with given ranks: node centres and edge routes that go around nodes.

Graphviz's `dot` is the reference layered layout, but it is a system binary that pip cannot install and that
Colab and most CI images lack; so `dot` is used where `shutil.which("dot")` finds it, and grandalf everywhere
else: pure Python, installed with the package, the same Sugiyama steps (crossing reduction by barycentre
sweeps, Brandes-Köpf placement, a dummy vertex on each layer a long edge passes). Either way the ranks are the
caller's (f above, its mirror below); the engine only orders and places the nodes within each layer.
"""

import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from grandalf.graphs import Edge, Vertex, graph_core
from grandalf.layouts import Layer, SugiyamaLayout

X_SPACE = 18  # px between neighbouring boxes in a layer
LAYER_GAP = 58  # px between layer centres, before widening to keep edges clear of boxes
DUMMY_WIDTH = 8  # px: the width a long edge takes up on a layer it passes
CLEARANCE = 6  # px an edge keeps from the boxes it passes


@dataclass(frozen=True)
class Layout:
    """Where everything goes, in px at the labels' font size: y grows downward, one layer per rank.

    position {key: (x, y)} of box centres; size {key: (w, h)}; routes {(tail, head): [(x, y), ...]},
    polylines from tail's centre to head's centre through one point on each layer the edge crosses.
    """

    position: dict
    size: dict
    routes: dict
    width: float
    height: float


class _View:
    """The box grandalf places: its width and height, and the centre it is given."""

    def __init__(self, w, h):
        self.w, self.h, self.xy = w, h, (0.0, 0.0)


def engine(preferred="auto"):
    """The layout engine: `dot` where its binary is installed (unless grandalf is asked for), else grandalf."""
    return "dot" if preferred in ("auto", "dot") and shutil.which("dot") else "grandalf"


def layered_layout(keys, edges, ranks, sizes, preferred="auto"):
    """Lay out keys (in a deterministic order) on layers `ranks` {key: int}; every edge must go to a higher rank.

    sizes {key: (w, h)} in px. An edge's step from one layer to the next is straight unless it would touch a box;
    then it leaves its tail straight down, crosses in the free gap between the two layers and enters its head
    straight from above, so that no edge passes through a node.
    """
    keys, edges = list(keys), [(a, b) for a, b in edges if a in ranks and b in ranks]
    if any(ranks[a] >= ranks[b] for a, b in edges):
        raise ValueError("every edge must go from a lower rank to a higher one")
    place = _dot_x if engine(preferred) == "dot" else _grandalf_x
    xs, bends = place(keys, edges, ranks, sizes)
    gap = max(LAYER_GAP, max((h for _, h in sizes.values()), default=0.0) + 36)
    return _assemble(keys, edges, ranks, sizes, xs, bends, gap)


def _grandalf_x(keys, edges, ranks, sizes):
    """Horizontal places from grandalf: {key: x} and, per long edge, one x per intermediate rank."""
    vertex = {k: Vertex(k) for k in keys}
    for k, v in vertex.items():
        v.view = _View(*sizes[k])
    xs, bends, right = {}, {}, 0.0
    # One grandalf graph per connected component, built from lists in our order: grandalf's own Graph collects
    # edges in a set, whose order (and so the picture) would change from one run to the next.
    for members, links in _components(keys, edges):
        part = graph_core([vertex[k] for k in members], [Edge(vertex[a], vertex[b]) for a, b in links])
        sugiyama = SugiyamaLayout(part)
        sugiyama.xspace = X_SPACE
        sugiyama.dw, sugiyama.dh = DUMMY_WIDTH, min(sizes[k][1] for k in keys)  # a long edge's lane, not a box
        low = _set_ranks(sugiyama, part, ranks)
        sugiyama.draw(3)
        offset = right + X_SPACE * 3 if xs else 0.0
        left = min(v.view.xy[0] - v.view.w / 2 for v in part.sV)
        for v in part.sV:
            xs[v.data] = v.view.xy[0] - left + offset
        for link in part.sE:
            if link in sugiyama.ctrls:
                a, b = link.v[0].data, link.v[1].data
                bends[a, b] = [sugiyama.ctrls[link][r - low].view.xy[0] - left + offset
                               for r in range(ranks[a] + 1, ranks[b])]
        right = max([xs[k] + sizes[k][0] / 2 for k in xs] + [x for xb in bends.values() for x in xb])
    return xs, bends


def _components(keys, edges):
    """The connected components as (keys, edges) pairs, each list in the order given."""
    root = {k: k for k in keys}

    def find(k):
        """The representative of k's component."""
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k

    for a, b in edges:
        root[find(a)] = find(b)
    groups = {}
    for k in keys:
        groups.setdefault(find(k), ([], []))[0].append(k)
    for a, b in edges:
        groups[find(a)][1].append((a, b))
    return list(groups.values())


def _set_ranks(sugiyama, part, ranks):
    """Put each vertex on its given layer (grandalf would rank by longest path) and add the dummy vertices.

    Returns the lowest rank, which is grandalf's layer 0."""
    low = min(ranks[v.data] for v in part.sV)
    top = max(ranks[v.data] for v in part.sV)
    sugiyama.layers = [Layer([]) for _ in range(top - low + 1)]
    for v in part.sV:
        sugiyama.grx[v].rank = ranks[v.data] - low
        sugiyama.layers[ranks[v.data] - low].append(v)
    sugiyama.alt_e = []
    sugiyama.dag = False
    for link in part.sE:
        sugiyama.setdummies(link)
    for layer in sugiyama.layers:
        layer.setup(sugiyama)
    sugiyama.initdone = True
    return low


def _dot_x(keys, edges, ranks, sizes):
    """Horizontal places from Graphviz dot with our ranks pinned (rank=same per layer), read from `dot -Tplain`.

    A long edge crosses each layer between its ends where dot's spline for it does (dot keeps a slot for it there).
    """
    name = {k: f"n{i}" for i, k in enumerate(keys)}
    lines = ['digraph G { nodesep=0.25; ranksep=0.5; node [shape=box, fixedsize=true, label=""];']
    lines += [f"{name[k]} [width={sizes[k][0] / 72:.4f}, height={sizes[k][1] / 72:.4f}];" for k in keys]
    lines += [f"{name[a]} -> {name[b]} [minlen={ranks[b] - ranks[a]}];" for a, b in edges]
    for r in sorted({ranks[k] for k in keys}):
        lines.append("{rank=same; " + " ".join(name[k] for k in keys if ranks[k] == r) + "}")
    lines.append("}")
    plain = subprocess.run(["dot", "-Tplain"], input="\n".join(lines), capture_output=True, text=True,
                           check=True, timeout=60).stdout
    key_of = {v: k for k, v in name.items()}
    xs, level, splines = {}, {}, {}
    for row in plain.splitlines():
        parts = row.split()
        if parts[:1] == ["node"]:
            k = key_of[parts[1]]
            xs[k], level[ranks[k]] = float(parts[2]) * 72, float(parts[3]) * 72
        elif parts[:1] == ["edge"]:
            count = int(parts[3])
            points = np.array(parts[4:4 + 2 * count], dtype=float).reshape(count, 2) * 72
            splines[key_of[parts[1]], key_of[parts[2]]] = _bezier_samples(points)
    known = sorted(level)
    bends = {}
    for a, b in edges:
        curve = splines[a, b]
        ys = np.interp(range(ranks[a] + 1, ranks[b]), known, [level[r] for r in known])
        bends[a, b] = [float(curve[np.argmin(np.abs(curve[:, 1] - y)), 0]) for y in ys]
    return xs, bends


def _bezier_samples(points, per_piece=24):
    """Points along dot's piecewise cubic Bézier spline (control points P0, P1, P2, P3, P4, ...)."""
    t = np.linspace(0.0, 1.0, per_piece)[:, None]
    pieces = [points[i:i + 4] for i in range(0, len(points) - 3, 3)]
    return np.vstack([(1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
                      for p0, p1, p2, p3 in pieces])


def _assemble(keys, edges, ranks, sizes, xs, bends, gap):
    """Centres at (x, rank * gap), shifted so the top-left is (0, 0), and each edge's route through its bends."""
    low = min(ranks.values())
    left = min(xs[k] - sizes[k][0] / 2 for k in keys)
    position = {k: (xs[k] - left, (ranks[k] - low) * gap) for k in keys}
    layers = {}
    for k in keys:
        layers.setdefault(ranks[k], []).append(k)
    half = {r: max(sizes[k][1] for k in layer) / 2 for r, layer in layers.items()}
    boxes = {r: [_box(position[k], sizes[k]) for k in layer] for r, layer in layers.items()}
    routes = {}
    for a, b in edges:
        middle = zip(bends.get((a, b), []), range(ranks[a] + 1, ranks[b]))
        points = [position[a], *[(x - left, (r - low) * gap) for x, r in middle], position[b]]
        route = [points[0]]
        for r, (p, q) in enumerate(zip(points, points[1:]), start=ranks[a]):
            ends = (_box(position[a], sizes[a]), _box(position[b], sizes[b]))
            others = [box for box in boxes.get(r, []) + boxes.get(r + 1, []) if box not in ends]
            if any(segment_meets_box(p, q, _grow(box, 2.0)) for box in others):
                route += [(p[0], p[1] + half.get(r, 0.0) + CLEARANCE), (q[0], q[1] - half.get(r + 1, 0.0) - CLEARANCE)]
            route.append(q)
        routes[a, b] = route
    points = [(x, y) for route in routes.values() for x, y in route]
    left = min([x - sizes[k][0] / 2 for k, (x, _) in position.items()] + [x for x, _ in points])
    top = min(y - sizes[k][1] / 2 for k, (_, y) in position.items())
    position = {k: (x - left, y - top) for k, (x, y) in position.items()}
    routes = {e: [(x - left, y - top) for x, y in route] for e, route in routes.items()}
    width = max([x + sizes[k][0] / 2 for k, (x, _) in position.items()] + [x for r in routes.values() for x, _ in r])
    height = max(y + sizes[k][1] / 2 for k, (_, y) in position.items())
    return Layout(position, dict(sizes), routes, width, height)


def _box(centre, size):
    """The box (x0, y0, x1, y1) of a given centre and size."""
    (x, y), (w, h) = centre, size
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _grow(box, margin):
    """The box grown by margin on every side."""
    x0, y0, x1, y1 = box
    return (x0 - margin, y0 - margin, x1 + margin, y1 + margin)


def segment_meets_box(p, q, box):
    """Whether the segment p-q meets the axis-aligned box (x0, y0, x1, y1): Liang-Barsky clipping."""
    (px, py), (qx, qy) = p, q
    x0, y0, x1, y1 = box
    dx, dy = qx - px, qy - py
    low, high = 0.0, 1.0
    for step, distance in ((-dx, px - x0), (dx, x1 - px), (-dy, py - y0), (dy, y1 - py)):
        if step == 0:
            if distance < 0:
                return False
        else:
            t = distance / step
            if step < 0:
                low = max(low, t)
            else:
                high = min(high, t)
            if low > high:
                return False
    return True
