"""Deterministic scaling sweeps that return data, not pictures: exact work counts, wall-clock medians, log-log slopes.

A family is a function of n that returns f (a function of x with n entries), so that one sweep can grow n.
"""

import time

import numpy as np
from tqdm.auto import tqdm

from .api import trace
from .families import default_point


def fit_slope(xs, ys):
    """The least-squares slope of log(ys) against log(xs): the exponent p of ys ~ xs^p; nan if it cannot be fitted."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(xs) < 2 or ys.min() <= 0:
        return float("nan")
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


STAT_KEYS = ("n", "m", "passes", "visits", "builds", "build_visits", "f_nodes", "G_nodes", "G_edges", "G_over_f")


def count_point(f, n, methods=("naive", "rows"), x0=None):
    """The exact work of each Hessian method on one f of n inputs: {method: stats}, each on its own fresh trace.

    A fresh trace per method makes every method pay for the graphs it builds (G, or tangent graphs).
    """
    point = default_point(n) if x0 is None else x0
    return {method: trace(f, n).hessian(point, method, return_stats=True)[1] for method in methods}


def _collect(rows, methods):
    """Turn a list of {method: stats} into {method: {key: array over the sweep}}, for the STAT_KEYS a method reports."""
    return {
        method: {key: np.array([row[method][key] for row in rows]) for key in STAT_KEYS if key in rows[0][method]}
        for method in methods
    }


def count_sweep(f_of_n, ns, methods=("naive", "rows"), x0_of_n=default_point, progress=True):
    """Exact work for each n: {method: {"n", "m", "passes", "visits", "G_edges", ...: arrays over ns}}."""
    ns = list(ns)
    rows = [count_point(f_of_n(n), n, methods, x0_of_n(n)) for n in tqdm(ns, desc="count sweep", disable=not progress)]
    return _collect(rows, methods)


def size_sweep(f_of_size, sizes, n, methods=("naive", "rows"), progress=True):
    """Exact work at fixed n as f's graph grows: f_of_size(s) is f on n inputs; same layout as count_sweep."""
    sizes = list(sizes)
    rows = [count_point(f_of_size(s), n, methods) for s in tqdm(sizes, desc="size sweep", disable=not progress)]
    return _collect(rows, methods)


def time_hessian(f, n, method, repeats=3, x0=None):
    """Median wall-clock seconds of hl.hessian(f, x0, method), tracing and building G included each time."""
    point = default_point(n) if x0 is None else x0
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        trace(f, n).hessian(point, method)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def time_sweep(f_of_n, ns, methods=("naive", "rows"), repeats=3, x0_of_n=default_point, progress=True):
    """Median wall-clock seconds for each method and n: {method: array over ns}. Volatile: never assert on it."""
    ns = list(ns)
    times = {method: [] for method in methods}
    for n in tqdm(ns, desc="time sweep", disable=not progress):
        for method in methods:
            times[method].append(time_hessian(f_of_n(n), n, method, repeats, x0_of_n(n)))
    return {method: np.array(values) for method, values in times.items()}
