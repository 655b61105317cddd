"""Prequential reference run of River's LeveragingBagging and AdaBoost.

Usage: python3 ensemble_river.py {levbag|adaboost} {gnb|htc} DATASET N SEED [BAGGING_METHOD]

Prints one CSV line per sample: the features (renamed f00, f01, ... in
sorted order), the class, then River's class probabilities predicted before
learning the sample.
"""
import itertools
import sys

from river import datasets, ensemble, naive_bayes, tree
from river.datasets import synth


def stream(name, n):
    if name == "phishing":
        return itertools.islice(datasets.Phishing(), n), 2
    if name == "bananas":
        return itertools.islice(datasets.Bananas(), n), 2
    if name == "rbf":
        return itertools.islice(synth.RandomRBF(seed_model=7, seed_sample=3, n_classes=3, n_features=5), n), 3
    if name == "drift":
        s = synth.ConceptDriftStream(
            stream=synth.SEA(seed=1, variant=0), drift_stream=synth.SEA(seed=2, variant=3),
            seed=5, position=800, width=50)
        return itertools.islice(s, n), 2
    raise SystemExit(f"unknown dataset {name}")


def main():
    kind, base, name, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    method = sys.argv[6] if len(sys.argv) > 6 else "bag"
    proto = naive_bayes.GaussianNB() if base == "gnb" else tree.HoeffdingTreeClassifier()
    if kind == "levbag":
        model = ensemble.LeveragingBaggingClassifier(proto, n_models=10, w=6, bagging_method=method, seed=seed)
    else:
        model = ensemble.AdaBoostClassifier(proto, n_models=10, seed=seed)
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
