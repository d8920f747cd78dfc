"""The small labelled corpus that ships with hessian-lab, and bag-of-words features for notebook 07.

    sentences, labels, label_names = load_corpus()          # 300 sentences, labels 0..2, ("cooking", ...)
    X, vocabulary = bag_of_words(sentences, max_words=30)    # X[i, j] = count of vocabulary[j] in sentence i

The corpus (hessian_lab/data/topics.tsv) is written by tools/make_corpus.py; nothing is downloaded.
"""

from collections import Counter
from importlib import resources
from typing import NamedTuple

import numpy as np

from .errors import HessianLabError, ShapeError

CORPORA = ("topics",)
STOP_WORDS = frozenset(
    "a after again all and at before day in last late night of on the this today we week with".split()
)


class Corpus(NamedTuple):
    """Labelled sentences: sentences[i] has class labels[i], whose name is label_names[labels[i]]."""

    sentences: list
    labels: np.ndarray
    label_names: tuple


def load_corpus(name="topics"):
    """The shipped corpus `name` as a Corpus (sentences, integer labels, label names in sorted order)."""
    if name not in CORPORA:
        raise HessianLabError(f"there is no corpus {name!r}; hessian-lab ships {', '.join(map(repr, CORPORA))}")
    text = resources.files("hessian_lab").joinpath("data", f"{name}.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines()[1:] if line]
    label_names = tuple(sorted({label for label, _ in rows}))
    labels = np.array([label_names.index(label) for label, _ in rows], dtype=int)
    return Corpus([sentence for _, sentence in rows], labels, label_names)


def tokens(sentence):
    """The lower-case words of a sentence, split on white space."""
    if not isinstance(sentence, str):
        raise HessianLabError(f"a sentence must be a string, not {type(sentence).__name__} {sentence!r:.40}")
    return sentence.lower().split()


def bag_of_words(sentences, vocabulary=None, max_words=None, stop_words=STOP_WORDS):
    """Word counts X (N × V) and the vocabulary; by default the max_words most frequent words that are not stop words.

    Ties in frequency go alphabetically, so the vocabulary is deterministic. Pass `vocabulary` to count a fixed list
    of words instead (as for a test set); words outside it are ignored.
    """
    if isinstance(sentences, str) or not hasattr(sentences, "__len__"):
        raise HessianLabError("sentences must be a list of strings, not a single string or an iterator")
    if len(sentences) == 0:
        raise ShapeError("bag_of_words needs at least one sentence")
    tokenised = [tokens(s) for s in sentences]
    if vocabulary is None:
        if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1):
            raise ShapeError(f"max_words must be a positive whole number, not {max_words!r}")
        counts = Counter(w for words in tokenised for w in words if w not in stop_words)
        vocabulary = sorted(counts, key=lambda w: (-counts[w], w))[:max_words]
    vocabulary = list(vocabulary)
    if len(vocabulary) == 0:
        raise ShapeError("the vocabulary is empty: every word is a stop word, or `vocabulary` is empty")
    if len(set(vocabulary)) != len(vocabulary):
        raise HessianLabError("the vocabulary lists a word twice; each word must have one column")
    column = {word: j for j, word in enumerate(vocabulary)}
    X = np.zeros((len(sentences), len(vocabulary)))
    for i, words in enumerate(tokenised):
        for word in words:
            if word in column:
                X[i, column[word]] += 1
    return X, vocabulary
