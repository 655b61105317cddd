"""Prequential reference run of River's naive Bayes classifiers.

Usage: python3 nb_river.py {gaussian|multinomial} DATASET N

Prints one CSV line per sample: the features (renamed f00, f01, ... in
sorted order), the class, then River's class probabilities (n_classes of
them) predicted before learning the sample.
"""
import itertools
import random
import sys

from river import datasets, naive_bayes
from river.datasets import synth


def counts(n):
    """Word-count-like rows: class c favours features c*3 .. c*3+3."""
    g = random.Random(11)
    for _ in range(n):
        c = g.randrange(3)
        x = {}
        for f in range(9):
            lam = 3 if f // 3 == c else 1
            x[f] = float(sum(1 for _ in range(6) if g.random() < lam / 6))
        yield x, c


def stream(name, n):
    if name == "phishing":
        return itertools.islice(datasets.Phishing(), n), 2
    if name == "rbf":
        return itertools.islice(synth.RandomRBF(seed_model=7, seed_sample=3, n_classes=3, n_features=5), n), 3
    if name == "counts":
        return counts(n), 3
    raise SystemExit(f"unknown dataset {name}")


def main():
    kind, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model = naive_bayes.GaussianNB() if kind == "gaussian" else naive_bayes.MultinomialNB(alpha=1.0)
    rows, n_classes = stream(name, n)
    out = sys.stdout
    for x, y in rows:
        keys = sorted(x)
        xr = {f"f{i:02d}": float(x[k]) for i, k in enumerate(keys)}
        y = int(y)
        p = model.predict_proba_one(xr)
        pred = [p.get(c, 0.0) for c in range(n_classes)]
        out.write(",".join(repr(v) for v in [*xr.values(), y, *pred]) + "\n")
        model.learn_one(xr, y)


if __name__ == "__main__":
    main()
