"""Side-by-side Hessian benchmark: hessian-lab against every installed peer, in one process, with ratios.

    pip install -r requirements-bench.txt     # optional peers: torch (CPU), jax, autograd, casadi
    python benchmarks/peers.py                 # full run: n in 16 64 256 1024, sparse at 1e4 and 1e5
    python benchmarks/peers.py --quick         # n in 16 64, sparse at 1e4
    python benchmarks/peers.py --threads 1     # pin BLAS and torch to one thread each

On a shared 2-core machine, multithreaded BLAS can thrash under load (a 128x127 product taking 5 ms
instead of 0.01 ms): --threads 1 gives steadier numbers; the setting used is written beside the table.

Each (family, n) sets every variant up first (traces, jit compiles and symbolic builds are excluded),
then times them in interleaved rounds, so that a slow moment of this shared machine hits all of them
alike; the figure is the median over rounds. Every peer's Hessian is checked against hessian-lab's.
Writes benchmarks/results/peers.csv, benchmarks/results/peers.png and the table in benchmarks/README.md.
"""

import argparse
import csv
import gc
import os
import pathlib
import platform
import sys
import time

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(argv):
    """Apply --threads before numpy, torch or jax load: BLAS, torch (OMP) and XLA read their threads at import."""
    if "--threads" in argv:
        count = argv[argv.index("--threads") + 1]
        for variable in THREAD_VARIABLES:
            os.environ[variable] = count
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=" + count


pin_threads(sys.argv)

import numpy as np  # noqa: E402  (after pin_threads)

import hessian_lab as hl  # noqa: E402
import peers_glue as peers  # noqa: E402  (beside this script)

HERE = pathlib.Path(__file__).parent
BASELINE = "hessian-lab auto"
TOO_SLOW = {  # (variant, family) -> largest n worth the wait on a 2-core machine
    ("casadi SX", "logsumexp_quad"): 64,  # its symbolic build alone takes ~20 s at n = 256
    ("torch.autograd (loop)", "logsumexp_quad"): 256,
    ("autograd.hessian", "logsumexp_quad"): 256,
}
DENSE_ONLY_UP_TO = 1024


def median_time(call, rounds):
    """Median wall-clock seconds of call() over `rounds` runs (used only for one-shot latencies)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def as_dense(H):
    """A Hessian as a dense ndarray, whether it came sparse or dense."""
    return H.toarray() if hasattr(H, "toarray") else np.asarray(H)


def steady_state(family, n, rounds):
    """Median seconds per Hessian of every available variant at (family, n), interleaved, with a value check."""
    x = peers.point_for(n)
    variants = [v for v in peers.available_variants()
                if n <= TOO_SLOW.get((v, family), DENSE_ONLY_UP_TO if v != "hessian-lab sparse" else 10**9)]
    if n > DENSE_ONLY_UP_TO:
        variants = ["hessian-lab sparse"]
    calls = {v: peers.make_hessian(v, family, n) for v in variants}
    reference = as_dense(calls[variants[0]](x)) if n <= DENSE_ONLY_UP_TO else None
    errors = {v: (float(np.abs(as_dense(h(x)) - reference).max()) if reference is not None else 0.0)
              for v, h in calls.items()}
    samples = {v: [] for v in calls}
    for _ in range(rounds):
        for v, h in calls.items():
            gc.disable()
            start = time.perf_counter()
            h(x)
            samples[v].append(time.perf_counter() - start)
            gc.enable()
    return {v: (float(np.median(s)), errors[v]) for v, s in samples.items()}


def first_hessian(n, rounds):
    """Time to the first Hessian of a freshly defined function: hessian-lab's trace+compile+run, jax's trace+compile+run."""
    x = peers.point_for(n)

    def lab():
        g = hl.trace(peers.hessian_lab_function("rosenbrock", n), n)
        return g.hessian(x)

    result = {"hessian-lab first Hessian": median_time(lab, rounds)}
    if "jax.jit(jax.hessian)" in peers.available_variants():
        result["jax first Hessian"] = median_time(lambda: peers.PEERS["jax.jit(jax.hessian)"][1]("rosenbrock", n)(x), rounds)
    return result


def one_shot(family, n, rounds):
    """hessian-lab's Hessian with the trace included, as a student's first call in a notebook pays it."""
    x = peers.point_for(n)
    return median_time(lambda: hl.hessian(peers.hessian_lab_function(family, n), x), rounds)


def run(sizes, sparse_sizes, rounds):
    """All measurements as rows of dicts."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is in requirements.txt; the benchmark also runs without it
        tqdm = lambda items, **_: items  # noqa: E731
    rows = []
    jobs = [(f, n) for f in peers.FAMILIES for n in sizes] + [(f, n) for f in ("rosenbrock", "banded_chain") for n in sparse_sizes]
    for family, n in tqdm(jobs, desc="benchmark"):
        results = steady_state(family, n, rounds)
        base = results.get(BASELINE, results.get("hessian-lab sparse"))[0]
        for variant, (seconds, error) in results.items():
            rows.append(dict(family=family, n=n, variant=variant, ms=1e3 * seconds, ratio=seconds / base, max_error=error))
        if n <= 256:
            rows.append(dict(family=family, n=n, variant="hessian-lab one-shot (trace included)",
                             ms=1e3 * one_shot(family, n, max(1, rounds // 2)), ratio=float("nan"), max_error=0.0))
    for variant, seconds in first_hessian(64, 3).items():
        rows.append(dict(family="rosenbrock", n=64, variant=variant, ms=1e3 * seconds, ratio=float("nan"), max_error=0.0))
    return rows


def write_csv(rows, path):
    """The raw rows as CSV."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plot(rows, path):
    """Milliseconds per Hessian against n, one panel per family, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(peers.FAMILIES), figsize=(16, 4.8), sharey=True)
    for ax, family in zip(axes, peers.FAMILIES):
        variants = dict.fromkeys(r["variant"] for r in rows if r["family"] == family and r["ratio"] == r["ratio"])
        for variant in variants:
            pts = sorted((r["n"], r["ms"]) for r in rows if r["family"] == family and r["variant"] == variant)
            style = "-o" if variant.startswith("hessian-lab") else "--."
            ax.loglog(*zip(*pts), style, label=variant, lw=2.5 if variant.startswith("hessian-lab") else 1.2)
        ax.set_title(family)
        ax.set_xlabel("n")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms per Hessian (median, steady state)")
    axes[-1].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown_table(rows):
    """Ratios (variant time / hessian-lab auto) per family and n, as a markdown table."""
    variants = list(dict.fromkeys(r["variant"] for r in rows if r["ratio"] == r["ratio"]))
    keys = list(dict.fromkeys((r["family"], r["n"]) for r in rows if r["ratio"] == r["ratio"]))
    cell = {(r["family"], r["n"], r["variant"]): r for r in rows}
    lines = ["| family, n | " + " | ".join(variants) + " |", "|---" * (len(variants) + 1) + "|"]
    for family, n in keys:
        entries = []
        for v in variants:
            r = cell.get((family, n, v))
            entries.append("–" if r is None else f"{r['ms']:.3g} ms ({r['ratio']:.2g}×)")
        lines.append(f"| {family}, {n} | " + " | ".join(entries) + " |")
    extra = [r for r in rows if r["ratio"] != r["ratio"]]
    lines += ["", "| latency | ms |", "|---|---|"] + [f"| {r['variant']}, {r['family']} n={r['n']} | {r['ms']:.3g} |" for r in extra]
    return "\n".join(lines)


def main():
    """Parse the sizes, measure, and write the CSV, the plot and the README table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n in 16 64 and sparse at 1e4 only")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (median reported)")
    parser.add_argument("--threads", help="threads for BLAS, torch and XLA (default: the libraries' own)")
    args = parser.parse_args()
    sizes, sparse_sizes = ((16, 64), (10**4,)) if args.quick else ((16, 64, 256, 1024), (10**4, 10**5))
    rows = run(sizes, sparse_sizes, args.rounds)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    write_csv(rows, out / "peers.csv")
    plot(rows, out / "peers.png")
    setting = f"threads: {args.threads or 'library defaults'}"
    table = (f"Measured on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"numpy {np.__version__}; {setting}; median of {args.rounds} interleaved rounds.\n\n" + markdown_table(rows))
    readme = HERE / "README.md"
    text = readme.read_text() if readme.exists() else "<!-- table -->\n<!-- /table -->\n"
    head, rest = text.split("<!-- table -->", 1)
    readme.write_text(head + "<!-- table -->\n" + table + "\n" + "<!-- /table -->" + rest.split("<!-- /table -->", 1)[1])
    print(table)


if __name__ == "__main__":
    main()
