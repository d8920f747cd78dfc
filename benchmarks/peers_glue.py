"""The benchmark's glue: its functions written for each installed peer, with their Hessians ready to time.

Families, written for hessian-lab in hessian_lab.families the way a student would:
- rosenbrock: Σ_{i<n-1} 100 (x_{i+1} − x_i²)² + (1 − x_i)², a Python loop under sum();
- banded_chain: Σ_{i<n-1} sin(x_i) cos(x_{i+1}) + Σ_i exp(tanh(x_i));
- logsumexp_quad: log Σ_k exp(a_k·x) + ½‖x‖², a fixed random A, scores written with hl.dot(A[k], x).
Peers (JAX, PyTorch, HIPS autograd, CasADi) get their best formulation, e.g. `x @ A.T` for torch.
A peer that is not installed is simply absent from `available_variants`.
"""

import importlib.util

import numpy as np

import hessian_lab as hl
from hessian_lab import families
from hessian_lab.families import benchmark_matrix as matrix_for, benchmark_point as point_for

FAMILIES = ("rosenbrock", "banded_chain", "logsumexp_quad")


def hessian_lab_function(family, n):
    """The family as a hessian-lab function of x, written as a student would (hessian_lab.families)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {FAMILIES}")
    return getattr(families, family)(n)


def _array_function(family, n, np_like, logsumexp):
    """The family for an array library (jax.numpy, torch, autograd.numpy) given its module and logsumexp."""
    A = matrix_for(n)
    if family == "rosenbrock":
        return lambda x: np_like.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    if family == "banded_chain":
        return lambda x: np_like.sum(np_like.sin(x[:-1]) * np_like.cos(x[1:])) + np_like.sum(np_like.exp(np_like.tanh(x)))
    return lambda x, A=A: logsumexp(x, A) + 0.5 * np_like.sum(x * x)


def _jax(family, n):
    """jax.jit(jax.hessian(f)) in float64."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    A = jnp.asarray(matrix_for(n))
    f = _array_function(family, n, jnp, lambda x, _: jax.nn.logsumexp(A @ x))
    compiled = jax.jit(jax.hessian(f))
    return lambda x: np.asarray(compiled(jnp.asarray(x)))


def _torch_function(family, n):
    """The family in torch, float64, with x @ A.T (about 10x faster than A @ x for torch's vectorised Hessians)."""
    import torch

    At = torch.tensor(matrix_for(n).T.copy())
    return _array_function(family, n, torch, lambda x, _: torch.logsumexp(x @ At, dim=0))


def _torch_func(family, n):
    """torch.func.hessian."""
    import torch

    h = torch.func.hessian(_torch_function(family, n))
    return lambda x: h(torch.tensor(x)).numpy()


def _torch_autograd(vectorize):
    """torch.autograd.functional.hessian with vectorize on or off."""

    def make(family, n):
        import torch

        f = _torch_function(family, n)
        return lambda x: torch.autograd.functional.hessian(f, torch.tensor(x), vectorize=vectorize).numpy()

    return make


def _autograd(family, n):
    """HIPS autograd's hessian."""
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    A = matrix_for(n)
    h = autograd.hessian(_array_function(family, n, anp, lambda x, _: logsumexp(anp.dot(A, x))))
    return lambda x: np.asarray(h(np.asarray(x)))


def _casadi_expression(family, n, x):
    """The family in CasADi SX on the symbol vector x, vectorised (CasADi's best formulation)."""
    import casadi

    if family == "rosenbrock":
        return casadi.sum1(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    if family == "banded_chain":
        return casadi.sum1(casadi.sin(x[:-1]) * casadi.cos(x[1:])) + casadi.sum1(casadi.exp(casadi.tanh(x)))
    return casadi.log(casadi.sum1(casadi.exp(casadi.mtimes(casadi.DM(matrix_for(n)), x)))) + 0.5 * casadi.dot(x, x)


def casadi_loop_expression(family, x):
    """Rosenbrock or banded_chain in CasADi SX written as the same Python loop as hessian_lab.families (n scalar symbols)."""
    import casadi

    xs = casadi.vertsplit(x)
    n = len(xs)
    if family == "rosenbrock":
        return sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    if family == "banded_chain":
        return (sum(casadi.sin(xs[i]) * casadi.cos(xs[i + 1]) for i in range(n - 1))
                + sum(casadi.exp(casadi.tanh(v)) for v in xs))
    raise ValueError(f"no loop form of {family!r} for CasADi")


def casadi_hessian_function(expression, x):
    """CasADi's compiled Hessian Function of an SX expression (its sparse symbolic Hessian, built once)."""
    import casadi

    return casadi.Function("H", [x], [casadi.hessian(expression, x)[0]])


def casadi_to_csr(H):
    """A CasADi DM (stored column-compressed) as a scipy CSR matrix, the form hessian-lab's sparse Hessian has."""
    import scipy.sparse as sp

    colind, row = H.sparsity().get_ccs()
    return sp.csc_matrix((np.array(H.nonzeros()), row, colind), shape=H.shape).tocsr()


def _casadi(result):
    """CasADi SX: the symbolic Hessian built once into a Function (the build is excluded from timings); its result
    as a dense ndarray, as scipy CSR, or native (a CasADi DM, not converted)."""

    def make(family, n):
        import casadi

        x = casadi.SX.sym("x", n)
        H = casadi_hessian_function(_casadi_expression(family, n, x), x)
        if result == "dense":
            return lambda x0: np.asarray(H(x0))
        if result == "csr":
            return lambda x0: casadi_to_csr(H(x0))
        return H

    return make


def _hessian_lab(kind):
    """hessian-lab on a trace reused across calls (as jax.jit is reused): the default, or the sparse result."""

    def make(family, n):
        g = hl.trace(hessian_lab_function(family, n), n)
        return g.hessian if kind == "auto" else g.sparse_hessian

    return make


PEERS = {
    "hessian-lab auto": (None, _hessian_lab("auto")),
    "hessian-lab sparse": (None, _hessian_lab("sparse")),
    "jax.jit(jax.hessian)": ("jax", _jax),
    "torch.func.hessian": ("torch", _torch_func),
    "torch.autograd (vectorize)": ("torch", _torch_autograd(True)),
    "torch.autograd (loop)": ("torch", _torch_autograd(False)),
    "autograd.hessian": ("autograd", _autograd),
    "casadi SX": ("casadi", _casadi("dense")),
    "casadi SX → CSR": ("casadi", _casadi("csr")),
    "casadi SX native": ("casadi", _casadi("native")),
}
SPARSE_VARIANTS = ("hessian-lab sparse", "casadi SX → CSR", "casadi SX native")  # the ones run past n = 1024


def available_variants():
    """The names of PEERS whose library is installed here (hessian-lab's own are always there)."""
    return [name for name, (module, _) in PEERS.items() if module is None or importlib.util.find_spec(module)]


def make_hessian(variant, family, n):
    """A callable x -> Hessian (ndarray or sparse) for one variant, set up and warmed up: steady state."""
    h = PEERS[variant][1](family, n)
    h(point_for(n))
    return h
