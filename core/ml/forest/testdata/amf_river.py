"""Prequential reference run of River's AMF on a bundled dataset.

Usage: python3 amf_river.py {classifier|regressor} DATASET N SEED

Prints one CSV line per sample: the features (renamed f00, f01, ... in
sorted order so that River's feature order is the position order), the
target, then River's prediction made before learning the sample: one
probability per class for the classifier, the predicted value for the
regressor.
"""
import itertools
import sys

from river import datasets, forest
from river.datasets import synth


def stream(name, n):
    if name == "bananas":
        ds = datasets.Bananas()
    elif name == "phishing":
        ds = datasets.Phishing()
    elif name == "trump":
        ds = datasets.TrumpApproval()
    elif name == "rbf":
        ds = synth.RandomRBF(seed_model=7, seed_sample=3, n_classes=3, n_features=5)
    else:
        raise SystemExit(f"unknown dataset {name}")
    return itertools.islice(ds, n)


def main():
    kind, name, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if kind == "classifier":
        model = forest.AMFClassifier(seed=seed)
        n_classes = 3 if name == "rbf" else 2
    else:
        model = forest.AMFRegressor(seed=seed)
    out = sys.stdout
    for x, y in stream(name, n):
        keys = sorted(x)
        xr = {f"f{i:02d}": float(x[k]) for i, k in enumerate(keys)}
        if kind == "classifier":
            y = int(y)
            p = model.predict_proba_one(xr)
            pred = [p.get(c, 0.0) for c in range(n_classes)]
        else:
            y = float(y)
            v = model.predict_one(xr)
            pred = [0.0 if v is None else v]
        out.write(",".join(repr(v) for v in [*xr.values(), y, *pred]) + "\n")
        model.learn_one(xr, y)


if __name__ == "__main__":
    main()
