"""Prequential reference run of River's StandardScaler | LogisticRegression.

Usage: python3 logreg_river.py DATASET N L2

Prints one CSV line per sample: the features (renamed f00, f01, ... in
sorted order), the label (0/1), then River's P(False), P(True) predicted
before learning the sample.
"""
import itertools
import sys

from river import datasets, linear_model, preprocessing
from river.datasets import synth


def stream(name, n):
    if name == "phishing":
        return itertools.islice(datasets.Phishing(), n)
    if name == "bananas":
        return itertools.islice(datasets.Bananas(), n)
    if name == "hyperplane":
        return itertools.islice(synth.Hyperplane(seed=3, n_features=8, noise_percentage=0.05), n)
    raise SystemExit(f"unknown dataset {name}")


def main():
    name, n, l2 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    model = preprocessing.StandardScaler() | linear_model.LogisticRegression(l2=l2)
    out = sys.stdout
    for x, y in stream(name, n):
        keys = sorted(x)
        xr = {f"f{i:02d}": float(x[k]) for i, k in enumerate(keys)}
        y = bool(y)
        p = model.predict_proba_one(xr)
        out.write(",".join(repr(v) for v in [*xr.values(), int(y), p.get(False, 0.0), p.get(True, 0.0)]) + "\n")
        model.learn_one(xr, y)


if __name__ == "__main__":
    main()
