"""Write hessian_lab/data/topics.tsv, the small labelled corpus of notebook 07, deterministically from templates.

    python tools/make_corpus.py            # rewrites the file; the same bytes every time (seeded)
    python tools/make_corpus.py --check    # exits 1 if the shipped file differs from what this script writes

Three topics (sports, cooking, weather), 100 distinct short sentences each. Each sentence fills a template of its
topic with words of its topic; with probability 0.2 one slot takes a word of another topic instead ("the fans cheered
in the snow"), and every sentence may end with a phrase shared by all topics ("on a hot day", "this week"). Words
such as hot, cold and fast belong to two topics. So the classes overlap, the data are not separable by one word, and
the regularised logistic regression of notebook 07 has a well-conditioned but not trivial Hessian.
"""

import random
import sys
from pathlib import Path

SEED = 2024
PER_TOPIC = 100
LEAK = 0.2
OUT = Path(__file__).resolve().parent.parent / "hessian_lab" / "data" / "topics.tsv"

WORDS = {
    "sports": {
        "noun": ["team", "match", "game", "coach", "player", "season", "league", "fans", "stadium", "striker"],
        "verb": ["won", "lost", "played", "scored", "trained", "cheered", "missed"],
        "object": ["goal", "ball", "final", "cup", "race", "penalty"],
        "adjective": ["fast", "tired", "young", "strong"],
    },
    "cooking": {
        "noun": ["chef", "cook", "baker", "kitchen", "oven", "pan", "recipe", "dinner", "sauce", "soup"],
        "verb": ["baked", "stirred", "chopped", "roasted", "tasted", "served", "burned"],
        "object": ["bread", "garlic", "onion", "pasta", "butter", "salt"],
        "adjective": ["hot", "fresh", "sweet", "fast"],
    },
    "weather": {
        "noun": ["rain", "wind", "storm", "sun", "cloud", "fog", "sky", "forecast", "snow", "frost"],
        "verb": ["fell", "blew", "cleared", "returned", "arrived", "passed", "warned"],
        "object": ["coast", "valley", "hills", "city", "roads", "north"],
        "adjective": ["hot", "cold", "grey", "wet"],
    },
}
TEMPLATES = [
    "the {noun} {verb} the {object}",
    "the {adjective} {noun} {verb}",
    "a {adjective} {object} and the {noun}",
    "the {noun} {verb} {ending}",
    "we {verb} the {object} with the {noun}",
    "the {object} {verb} before the {noun}",
]
ENDINGS = ["today", "this week", "on a hot day", "in the cold", "late at night", "again", "after all", "at last"]


def sentence(topic, rng):
    """One sentence of `topic`: a template filled with its words, one slot leaked from another topic at rate LEAK."""
    slots = {kind: rng.choice(words) for kind, words in WORDS[topic].items()}
    if rng.random() < LEAK:
        kind = rng.choice(sorted(slots))
        other = rng.choice([t for t in sorted(WORDS) if t != topic])
        slots[kind] = rng.choice(WORDS[other][kind])
    slots["ending"] = rng.choice(ENDINGS)
    text = rng.choice(TEMPLATES).format(**slots)
    return text if rng.random() < 0.5 else f"{text} {rng.choice(ENDINGS)}"


def corpus_text(seed=SEED):
    """The file's text: a header, then `label<TAB>sentence` lines, PER_TOPIC distinct sentences per topic, shuffled."""
    rng = random.Random(seed)
    rows = []
    for topic in sorted(WORDS):
        seen = set()
        while len(seen) < PER_TOPIC:
            text = sentence(topic, rng)
            if text not in seen:
                seen.add(text)
                rows.append(f"{topic}\t{text}")
    rng.shuffle(rows)
    return "label\tsentence\n" + "\n".join(rows) + "\n"


def main(argv):
    """Write the corpus, or with --check compare it with the shipped file."""
    text = corpus_text()
    if "--check" in argv:
        same = OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.name}: {'up to date' if same else 'differs from tools/make_corpus.py; rerun it'}")
        return 0 if same else 1
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.name}: {text.count(chr(10)) - 1} sentences")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
