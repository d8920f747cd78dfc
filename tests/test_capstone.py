"""The pieces of notebook 07: the Hessian as a LinearOperator, the shipped corpus, and the trained optimum."""

import runpy
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from scipy.sparse.linalg import cg, eigsh

import hessian_lab as hl
from hessian_lab.corpus import bag_of_words, load_corpus

ROOT = Path(__file__).resolve().parent.parent
K, DOCS, WORDS, LAM = 3, 40, 8, 0.05


def softmax_problem():
    """A small softmax regression on the shipped corpus: features X (bias last), labels y, and its loss f."""
    sentences, labels, _ = load_corpus()
    counts, _ = bag_of_words(sentences[:DOCS], max_words=WORDS)
    X = np.hstack([counts, np.ones((DOCS, 1))])
    y = labels[:DOCS]
    D = X.shape[1]

    def f(w):
        total = 0.0
        for i in range(DOCS):
            scores = [hl.dot(X[i], w[k * D:(k + 1) * D]) for k in range(K)]
            total = total + hl.log(hl.sum([hl.exp(s) for s in scores])) - scores[y[i]]
        return total / DOCS + LAM / 2 * hl.dot(np.ones(K * D), [wj * wj for wj in w])

    return X, y, f


def hessian_closed(X, w):
    """(1/N) Σ_i (diag(p_i) − p_i p_iᵀ) ⊗ x_i x_iᵀ + λI, in numpy: the oracle the engine shares no code with."""
    scores = X @ w.reshape(K, -1).T
    P = np.exp(scores - scores.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    H = sum(np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x)) for p, x in zip(P, X)) / len(X)
    return H + LAM * np.eye(H.shape[0])


@pytest.fixture(scope="module")
def problem():
    X, y, f = softmax_problem()
    n = K * X.shape[1]
    return X, f, hl.trace(f, n), np.random.default_rng(7).normal(scale=0.5, size=n)


def test_matvec_equals_H_v(problem):
    X, _, g, w = problem
    op = g.hessian_operator(w)
    H = g.hessian(w, method="rows")
    assert np.allclose(H, hessian_closed(X, w), rtol=1e-12, atol=1e-12)
    for v in np.random.default_rng(1).standard_normal((3, g.n)):
        assert np.allclose(op.matvec(v), H @ v, rtol=1e-12, atol=1e-12)
        assert np.allclose(op @ v, H @ v, rtol=1e-12, atol=1e-12)
        assert np.allclose(op.rmatvec(v), H @ v, rtol=1e-12, atol=1e-12)
    V = np.random.default_rng(2).standard_normal((g.n, 2))
    assert np.allclose(op.matmat(V), H @ V, rtol=1e-12, atol=1e-12)
    assert op.matvec(V[:, :1]).shape == (g.n, 1)


def test_hessian_operator_traces_f(problem):
    X, f, g, w = problem
    op = hl.hessian_operator(f, w)
    v = np.ones(g.n)
    assert op.shape == (g.n, g.n) and op.graph is not g
    assert np.allclose(op.matvec(v), hessian_closed(X, w) @ v, rtol=1e-12, atol=1e-12)


def test_products_are_counted_and_show_in_counting(problem):
    _, _, g, w = problem
    op = g.hessian_operator(w)
    _, one = g.hvp(w, np.ones(g.n), return_stats=True)
    with hl.counting() as counted:
        op.matvec(np.ones(g.n))
        op.matmat(np.eye(g.n)[:, :3])
    assert op.products == 4
    assert counted.passes == 4 * one["passes"] and counted.visits == 4 * one["visits"]


def test_eigsh_agrees_with_eigvalsh(problem):
    X, _, g, w = problem
    op = g.hessian_operator(w)
    spectrum = np.linalg.eigvalsh(hessian_closed(X, w))
    top = eigsh(op, k=2, which="LA", v0=np.ones(g.n), return_eigenvectors=False)
    bottom = eigsh(op, k=1, which="SA", v0=np.ones(g.n), return_eigenvectors=False)
    assert np.allclose(np.sort(top), spectrum[-2:], rtol=1e-10)
    assert np.isclose(bottom[0], spectrum[0], rtol=1e-10)
    assert np.isclose(spectrum[0], LAM, rtol=1e-10)  # softmax's redundant class: the data term is flat along D directions
    assert op.products > 0


def test_cg_solves_with_the_operator(problem):
    X, _, g, w = problem
    op, b = g.hessian_operator(w), np.arange(g.n, dtype=float)
    x, info = cg(op, b, rtol=1e-12, atol=0.0)
    assert info == 0 and np.allclose(hessian_closed(X, w) @ x, b, rtol=1e-9, atol=1e-9)


def test_bad_input_gets_named_errors(problem):
    _, f, g, w = problem
    op = g.hessian_operator(w)
    with pytest.raises(hl.ShapeError, match="shape"):
        op.matvec(np.ones(g.n + 1))
    with pytest.raises(hl.HessianLabError, match="finite"):
        op.matvec(np.full(g.n, np.nan))
    with pytest.raises(hl.ShapeError):
        g.hessian_operator(w[:-1])
    with pytest.raises(hl.HessianLabError, match="finite"):
        g.hessian_operator(np.full(g.n, np.inf))
    with pytest.raises(hl.ShapeError):
        hl.hessian_operator(f, np.ones((2, 2)))
    with pytest.raises(hl.HessianLabError):
        hl.hessian_operator(f, "not numbers")
    assert op.products == 0


def test_newton_optimum_agrees_with_scipy(problem):
    _, _, g, _ = problem
    w = np.zeros(g.n)
    for _ in range(30):
        gradient = g.gradient(w)
        if np.linalg.norm(gradient) < 1e-11:
            break
        op = g.hessian_operator(w)
        step, info = cg(op, -gradient, rtol=min(0.1, np.linalg.norm(gradient)), atol=0.0)
        w = w + step
    assert np.linalg.norm(g.gradient(w)) < 1e-10
    result = scipy.optimize.minimize(g.value, np.zeros(g.n), jac=g.gradient, hess=g.hessian, method="trust-exact",
                                     options={"gtol": 1e-9})
    assert result.success and np.allclose(result.x, w, rtol=0, atol=1e-8)


def test_corpus_loads_three_balanced_topics():
    sentences, labels, names = load_corpus()
    assert names == ("cooking", "sports", "weather")
    assert len(sentences) == len(labels) == 300 and np.bincount(labels).tolist() == [100, 100, 100]
    assert all(isinstance(s, str) and s for s in sentences) and len(set(sentences)) == 300


def test_shipped_corpus_is_what_the_script_writes():
    script = runpy.run_path(str(ROOT / "tools" / "make_corpus.py"))
    assert (ROOT / "hessian_lab" / "data" / "topics.tsv").read_text(encoding="utf-8") == script["corpus_text"]()


def test_bag_of_words_counts_words():
    X, vocabulary = bag_of_words(["the cat sat on the cat", "a dog", "Dog dog cat"], stop_words={"the", "a", "on"})
    assert vocabulary == ["cat", "dog", "sat"]  # by frequency (3, 3, 1), ties alphabetically
    assert X.tolist() == [[2, 0, 1], [0, 1, 0], [1, 2, 0]]
    X_fixed, _ = bag_of_words(["dog and cat"], vocabulary=["dog", "bird"])
    assert X_fixed.tolist() == [[1, 0]]
    assert bag_of_words(["b a b c c c"], max_words=2, stop_words=())[1] == ["c", "b"]


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: bag_of_words([]), hl.ShapeError),
        (lambda: bag_of_words("one sentence"), hl.HessianLabError),
        (lambda: bag_of_words(["ok", 3]), hl.HessianLabError),
        (lambda: bag_of_words(["a b"], max_words=0), hl.ShapeError),
        (lambda: bag_of_words(["the a"]), hl.ShapeError),
        (lambda: bag_of_words(["a b"], vocabulary=["a", "a"]), hl.HessianLabError),
        (lambda: load_corpus("imdb"), hl.HessianLabError),
    ],
)
def test_corpus_bad_input_gets_named_errors(call, error):
    with pytest.raises(error):
        call()
