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
import json
import os
import pathlib
import platform
import subprocess
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
    ("casadi SX → CSR", "logsumexp_quad"): 64,
    ("casadi SX native", "logsumexp_quad"): 64,
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


def comparable(H, dense):
    """A Hessian from any variant (ndarray, scipy sparse, CasADi DM) as scipy CSR, or as a dense ndarray if `dense`."""
    if hasattr(H, "sparsity"):
        H = peers.casadi_to_csr(H)
    if not dense:
        return H
    return H.toarray() if hasattr(H, "toarray") else np.asarray(H)


def steady_state(family, n, rounds):
    """Median seconds per Hessian of every available variant at (family, n), interleaved, with a value check."""
    x = peers.point_for(n)
    dense = n <= DENSE_ONLY_UP_TO
    variants = [v for v in peers.available_variants()
                if (dense or v in peers.SPARSE_VARIANTS)
                and n <= TOO_SLOW.get((v, family), DENSE_ONLY_UP_TO if v not in peers.SPARSE_VARIANTS else 10**9)]
    calls = {v: peers.make_hessian(v, family, n) for v in variants}
    reference = comparable(calls[variants[0]](x), dense)
    errors = {v: float(abs(comparable(h(x), dense) - reference).max()) for v, h in calls.items()}
    samples = {v: [] for v in calls}
    for _ in range(rounds):
        for v, h in calls.items():
            gc.disable()
            start = time.perf_counter()
            h(x)
            samples[v].append(time.perf_counter() - start)
            gc.enable()
    return {v: (float(np.median(s)), errors[v]) for v, s in samples.items()}


FIRST_SPARSE = """
import json, sys, time
sys.path.insert(0, {here!r})
import numpy as np
import peers_glue as peers
family, n, tool = {family!r}, {n}, {tool!r}
x0 = peers.point_for(n)
start = time.perf_counter()
if tool == "hessian-lab":
    import hessian_lab as hl
    S = hl.trace(peers.hessian_lab_function(family, n), n).sparse_hessian(x0)
else:
    import casadi
    x = casadi.SX.sym("x", n)
    S = peers.casadi_to_csr(peers.casadi_hessian_function(peers.casadi_loop_expression(family, x), x)(x0))
seconds = time.perf_counter() - start
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))  # kB, this process only
print(json.dumps(dict(seconds=seconds, peak_mib=peak / 1024, nnz=int(S.nnz))))
"""


def first_sparse(family, n):
    """Seconds and peak memory (the child's VmHWM: ru_maxrss would inherit this parent's peak) to the first sparse Hessian of a freshly written Python loop, each tool in a fresh process:
    hessian-lab's trace, compile, colouring and evaluation; CasADi's SX build, symbolic Hessian, Function and first call."""
    results = {}
    for tool in ["hessian-lab"] + (["casadi"] if "casadi SX" in peers.available_variants() else []):
        code = FIRST_SPARSE.format(here=str(HERE), family=family, n=n, tool=tool)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
        results[tool] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def first_hessian(n, rounds):
    """Time to the first dense Hessian of a freshly defined function: hessian-lab's trace+compile+run, jax's
    trace+compile+run, CasADi's build+first call, vectorised and written as the same Python loop as hessian-lab's."""
    x = peers.point_for(n)

    def lab():
        g = hl.trace(peers.hessian_lab_function("rosenbrock", n), n)
        return g.hessian(x)

    result = {"hessian-lab first Hessian": median_time(lab, rounds)}
    for variant, name in (("jax.jit(jax.hessian)", "jax first Hessian"), ("casadi SX", "casadi first Hessian")):
        if variant in peers.available_variants():
            result[name] = median_time(lambda: peers.PEERS[variant][1]("rosenbrock", n)(x), rounds)
    if "casadi SX" in peers.available_variants():
        import casadi

        def casadi_loop():
            symbols = casadi.SX.sym("x", n)
            return np.asarray(peers.casadi_hessian_function(peers.casadi_loop_expression("rosenbrock", symbols), symbols)(x))

        result["casadi first Hessian (same loop)"] = median_time(casadi_loop, rounds)
    return result


def one_shot(family, n, rounds):
    """hessian-lab's Hessian with the trace included, as a student's first call in a notebook pays it."""
    x = peers.point_for(n)
    return median_time(lambda: hl.hessian(peers.hessian_lab_function(family, n), x), rounds)


def run(sizes, sparse_sizes, rounds, first_sparse_n):
    """All measurements as rows of dicts (variant, family, n, ms, ratio to hessian-lab, max_error, peak_mib)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is in requirements.txt; the benchmark also runs without it
        tqdm = lambda items, **_: items  # noqa: E731
    rows = []
    nan = float("nan")
    add = lambda **row: rows.append(dict(dict(ratio=nan, max_error=0.0, peak_mib=nan), **row))  # noqa: E731
    jobs = [(f, n) for f in peers.FAMILIES for n in sizes] + [(f, n) for f in ("rosenbrock", "banded_chain") for n in sparse_sizes]
    for family, n in tqdm(jobs, desc="benchmark"):
        results = steady_state(family, n, rounds)
        base = results.get(BASELINE, results.get("hessian-lab sparse"))[0]
        for variant, (seconds, error) in results.items():
            add(family=family, n=n, variant=variant, ms=1e3 * seconds, ratio=seconds / base, max_error=error)
        if n <= 256:
            add(family=family, n=n, variant="hessian-lab one-shot (trace included)", ms=1e3 * one_shot(family, n, max(1, rounds // 2)))
    for variant, seconds in first_hessian(64, 3).items():
        add(family="rosenbrock", n=64, variant=variant, ms=1e3 * seconds)
    for family in ("rosenbrock", "banded_chain") if first_sparse_n else ():
        for tool, measured in tqdm(first_sparse(family, first_sparse_n).items(), desc=f"first sparse Hessian, {family}"):
            add(family=family, n=first_sparse_n, variant=f"{tool} first sparse Hessian", ms=1e3 * measured["seconds"],
                peak_mib=measured["peak_mib"])
    return rows


def colours(sparse_sizes):
    """(family, n, colours, lower bound) of hessian-lab's star colouring at the sparse sizes, from the stats."""
    found = []
    for family in ("rosenbrock", "banded_chain"):
        for n in sparse_sizes:
            g = hl.trace(peers.hessian_lab_function(family, n), n)
            _, stats = g.sparse_hessian(peers.point_for(n), return_stats=True)
            found.append((family, n, stats["colours"], stats["colours_lower_bound"]))
    return found


TARGETS = [  # (target, family, sizes, hessian-lab's variant, the peer's variant, met below this ratio)
    ("1. dense, reused trace, vs jax.jit", "rosenbrock", (16, 64, 256, 1024), BASELINE, "jax.jit(jax.hessian)", 1),
    ("1. dense, reused trace, vs jax.jit", "banded_chain", (16, 64, 256, 1024), BASELINE, "jax.jit(jax.hessian)", 1),
    ("1. dense, reused trace, vs jax.jit", "logsumexp_quad", (64, 256, 1024), BASELINE, "jax.jit(jax.hessian)", 1),
    ("2. sparse CSR, reused trace, vs CasADi → CSR", "rosenbrock", (1024, 10**4, 10**5), "hessian-lab sparse", "casadi SX → CSR", 1),
    ("2. sparse CSR, reused trace, vs CasADi → CSR", "banded_chain", (1024, 10**4, 10**5), "hessian-lab sparse", "casadi SX → CSR", 1),
    ("3. first sparse Hessian of a Python loop, vs CasADi", "rosenbrock", (10**5,), "hessian-lab first sparse Hessian",
     "casadi first sparse Hessian", 1 / 8),
    ("3. first sparse Hessian of a Python loop, vs CasADi", "banded_chain", (10**5,), "hessian-lab first sparse Hessian",
     "casadi first sparse Hessian", 1 / 8),
    ("4. first dense Hessian, vs CasADi (same loop)", "rosenbrock", (64,), "hessian-lab first Hessian",
     "casadi first Hessian (same loop)", 1),
    ("4. first dense Hessian, vs CasADi (vectorised)", "rosenbrock", (64,), "hessian-lab first Hessian", "casadi first Hessian", 1),
    ("4. first dense Hessian, vs jax", "rosenbrock", (64,), "hessian-lab first Hessian", "jax first Hessian", 1),
]


def targets_table(rows, found_colours):
    """Each target of the speed issue as measured in this run: hessian-lab ÷ peer, and met or not."""
    cell = {(r["family"], r["n"], r["variant"]): r for r in rows}
    lines = ["| target | family, n | hessian-lab | peer | hessian-lab ÷ peer | met? |", "|---|---|---|---|---|---|"]
    for target, family, sizes, ours, theirs, bar in TARGETS:
        for n in sizes:
            a, b = cell.get((family, n, ours)), cell.get((family, n, theirs))
            if a is None or b is None:
                lines.append(f"| {target} | {family}, {n} | – | – | not measured | – |")
                continue
            ratio = a["ms"] / b["ms"]
            native = cell.get((family, n, "casadi SX native")) if theirs == "casadi SX → CSR" else None
            peer = f"{b['ms']:.3g} ms" + (f" (native {native['ms']:.3g} ms)" if native else "")
            memory = lambda r: f", {r['peak_mib']:.0f} MiB peak" if r["peak_mib"] == r["peak_mib"] else ""  # noqa: E731
            lines.append(f"| {target} | {family}, {n} | {a['ms']:.3g} ms{memory(a)} | {peer}{memory(b)} | {ratio:.2f} "
                         f"| {'met' if ratio < bar else 'not met'}{f' (bar {bar:.3g})' if bar != 1 else ''} |")
    for family, n, used, bound in found_colours:
        lines.append(f"| 5. colours at the lower bound | {family}, {n} | {used} colours | lower bound {bound} | – "
                     f"| {'met' if used == bound else 'not met'} |")
    return "\n".join(lines)


def write_csv(rows, path):
    """The raw rows as CSV."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


STYLES = {  # variant -> (colour, line, marker): one colour per library, told apart within it by line and marker
    "hessian-lab auto": ("C0", "-", "o"),
    "hessian-lab sparse": ("C1", "-", "s"),
    "jax.jit(jax.hessian)": ("C2", "--", "^"),
    "torch.func.hessian": ("C3", "--", "v"),
    "torch.autograd (vectorize)": ("C3", "-.", "<"),
    "torch.autograd (loop)": ("C3", ":", ">"),
    "autograd.hessian": ("C5", ":", "d"),
    "casadi SX": ("C4", "--", "x"),
    "casadi SX → CSR": ("C4", "-.", "+"),
    "casadi SX native": ("C4", ":", "*"),
}


def plot(rows, path):
    """Milliseconds per Hessian against n, one panel per family, log-log, 910 px wide: legible where notebook 5 shows it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(peers.FAMILIES), figsize=(9.1, 4.3), sharey=True)
    for ax, family in zip(axes, peers.FAMILIES):
        variants = dict.fromkeys(r["variant"] for r in rows if r["family"] == family and r["ratio"] == r["ratio"])
        for variant in variants:
            pts = sorted((r["n"], r["ms"]) for r in rows if r["family"] == family and r["variant"] == variant)
            colour, line, marker = STYLES.get(variant, ("grey", ":", "."))
            ours = variant.startswith("hessian-lab")
            ax.loglog(*zip(*pts), color=colour, linestyle=line, marker=marker, label=variant,
                      lw=2.4 if ours else 1.2, markersize=5 if ours else 4)
        ax.set_title(family, fontsize=10)
        ax.set_xlabel("n", fontsize=10)
        ax.tick_params(labelsize=9)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms per Hessian (median)", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(path, dpi=100)


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
    memory = lambda r: f"{r['peak_mib']:.0f}" if r["peak_mib"] == r["peak_mib"] else "–"  # noqa: E731
    lines += ["", "| latency | ms | peak MiB (own process) |", "|---|---|---|"]
    lines += [f"| {r['variant']}, {r['family']} n={r['n']} | {r['ms']:.3g} | {memory(r)} |" for r in extra]
    return "\n".join(lines)


def main():
    """Parse the sizes, measure, and write the CSV, the plot and the README table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n in 16 64 and sparse at 1e4 only")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (median reported)")
    parser.add_argument("--threads", help="threads for BLAS, torch and XLA (default: the libraries' own)")
    args = parser.parse_args()
    sizes, sparse_sizes = ((16, 64), (10**4,)) if args.quick else ((16, 64, 256, 1024), (10**4, 10**5))
    rows = run(sizes, sparse_sizes, args.rounds, None if args.quick else 10**5)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    write_csv(rows, out / "peers.csv")
    plot(rows, out / "peers.png")
    setting = f"threads: {args.threads or 'library defaults'}"
    table = (f"Measured on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"numpy {np.__version__}; {setting}; median of {args.rounds} interleaved rounds.\n\n"
             + targets_table(rows, colours(sparse_sizes)) + "\n\n" + markdown_table(rows))
    readme = HERE / "README.md"
    text = readme.read_text() if readme.exists() else "<!-- table -->\n<!-- /table -->\n"
    head, rest = text.split("<!-- table -->", 1)
    readme.write_text(head + "<!-- table -->\n" + table + "\n" + "<!-- /table -->" + rest.split("<!-- /table -->", 1)[1])
    print(table)


if __name__ == "__main__":
    main()
