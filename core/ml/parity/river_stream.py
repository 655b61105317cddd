#!/usr/bin/env python3
"""Run River prequentially on reproducible streams and write the traces.

Reads a JSON list of cases (see parity.go, type Case), and for each case
writes <out>/<name>.trace (with "/" in the name replaced by "__"):

    line 1   JSON header: dataset, model, task, n_numeric, n_categ,
             n_classes, rows, river_seconds (time spent in River's
             predict + learn calls only)
    then     one line per row, space separated:
             y  numeric...  categorical...  river_prediction  river_proba...

Numeric values and probabilities are written with repr(), which
round-trips float64 exactly. Classes are integers 0..n_classes-1 (labels
are mapped in sorted order), categorical values are integer codes. River
receives dicts whose keys keep the positional order of the Go instance:
n0..n{k-1} then c0..c{m-1}, with the c* keys declared nominal.

Only data that ships inside the river package and seeded synthetic
generators are used: nothing is downloaded. A dataset "csv:<path>" reads a
file written by the Go side (header: y,n:<name>...,c:<name>...).

Usage: river_stream.py --spec cases.json --out DIR
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import sys
import time

try:
    import river
    from river import datasets, tree
    from river.datasets import synth
    from river.tree.utils import calculate_object_size
except ImportError as exc:  # pragma: no cover - reported to the Go side
    sys.exit(f"river is required for the parity harness (pip install river==0.26.1): {exc}")


# ---------------------------------------------------------------- datasets
# Each returns (task, numeric_names, categorical_names, iterable of (x, y)).


def _classif(ds, cat=()):
    return "classification", ds, list(cat)


DATASETS = {
    "phishing": lambda n: _classif(datasets.Phishing()),
    "bananas": lambda n: _classif(datasets.Bananas()),
    "image_segments": lambda n: _classif(datasets.ImageSegments()),
    "shuttle": lambda n: _classif(datasets.Shuttle()),
    "agrawal": lambda n: _classif(
        synth.Agrawal(classification_function=2, seed=42), cat=("elevel", "car", "zipcode")
    ),
    "agrawal_drift": lambda n: _classif(
        synth.ConceptDriftStream(
            stream=synth.Agrawal(classification_function=0, seed=7),
            drift_stream=synth.Agrawal(classification_function=4, seed=8),
            seed=9,
            position=max(n // 2, 1),
            width=max(n // 20, 1),
        ),
        cat=("elevel", "car", "zipcode"),
    ),
    "sea": lambda n: _classif(synth.SEA(variant=1, noise=0.05, seed=3)),
    "hyperplane": lambda n: _classif(
        synth.Hyperplane(seed=4, n_features=10, n_drift_features=3, mag_change=0.01, noise_percentage=0.05)
    ),
    "rbf_drift": lambda n: _classif(
        synth.RandomRBFDrift(
            seed_model=5, seed_sample=6, n_classes=3, n_features=10, n_centroids=30, change_speed=0.001
        )
    ),
    "led": lambda n: _classif(synth.LED(seed=11, noise_percentage=0.1), cat=tuple(range(7))),
    "trump_approval": lambda n: ("regression", datasets.TrumpApproval(), []),
    "chick_weights": lambda n: ("regression", datasets.ChickWeights(), ["diet"]),
    "friedman": lambda n: ("regression", synth.Friedman(seed=12), []),
}


def load_rows(name: str, n: int):
    """Return task, n_numeric, n_categ, n_classes, rows [(nums, cats, y)].

    A "+missing" suffix blanks 10% of the numeric values (seeded): River
    gets dicts without those keys, the trace holds nan.
    """
    if name.endswith("+missing"):
        task, n_num, n_cat, n_classes, rows = load_rows(name[: -len("+missing")], n)
        rng = random.Random(99)
        for nums, _, _ in rows:
            for i in range(len(nums)):
                if rng.random() < 0.1:
                    nums[i] = float("nan")
        return task, n_num, n_cat, n_classes, rows
    if name.startswith("csv:"):
        return load_csv(name[4:], n)
    task, ds, cat_keys = DATASETS[name](n)
    raw = list(itertools.islice(iter(ds), n))
    if not raw:
        raise ValueError(f"dataset {name} is empty")
    keys = list(raw[0][0].keys())
    cat_keys = [k for k in keys if k in set(cat_keys)]
    num_keys = [k for k in keys if k not in set(cat_keys)]
    # Categorical values become integer codes, in sorted order of value.
    codes = {k: {v: i for i, v in enumerate(sorted({x[k] for x, _ in raw}))} for k in cat_keys}
    if task == "classification":
        labels = sorted({y for _, y in raw})
        lab = {v: i for i, v in enumerate(labels)}
        n_classes = max(len(labels), 2)
    else:
        n_classes = 0
    rows = []
    for x, y in raw:
        nums = [float(x[k]) for k in num_keys]
        cats = [codes[k][x[k]] for k in cat_keys]
        rows.append((nums, cats, lab[y] if task == "classification" else float(y)))
    return task, len(num_keys), len(cat_keys), n_classes, rows


def load_csv(path: str, n: int):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        num_idx = [i for i, h in enumerate(header) if h.startswith("n:")]
        cat_idx = [i for i, h in enumerate(header) if h.startswith("c:")]
        rows = []
        for rec in itertools.islice(r, n):
            rows.append(([float(rec[i]) for i in num_idx], [int(rec[i]) for i in cat_idx], int(rec[0])))
    n_classes = max(max(y for _, _, y in rows) + 1, 2)
    return "classification", len(num_idx), len(cat_idx), n_classes, rows


# ------------------------------------------------------------------ models
# name -> constructor(params: dict, nominal: list[str]) -> River estimator.
# Adding a learner to the harness: one entry here, one Case in parity.go.

MODELS = {
    "HoeffdingTreeClassifier": lambda p, nom: tree.HoeffdingTreeClassifier(nominal_attributes=nom, **p),
    "HoeffdingAdaptiveTreeClassifier": lambda p, nom: tree.HoeffdingAdaptiveTreeClassifier(
        nominal_attributes=nom, **p
    ),
    "HoeffdingTreeRegressor": lambda p, nom: tree.HoeffdingTreeRegressor(nominal_attributes=nom, **p),
}


def run_case(case: dict, out_dir: str) -> dict:
    task, n_num, n_cat, n_classes, rows = load_rows(case["dataset"], case["rows"])
    if case.get("n_classes"):
        n_classes = case["n_classes"]
    nk = [f"n{i}" for i in range(n_num)]
    ck = [f"c{j}" for j in range(n_cat)]
    model = MODELS[case["river_model"]](dict(case.get("river_params") or {}), ck or None)
    path = os.path.join(out_dir, case["name"].replace("/", "__") + ".trace")
    lines = []
    spent = 0.0
    correct = 0
    for nums, cats, y in rows:
        x = {k: v for k, v in zip(nk, nums) if v == v}  # nan: the key is missing
        x.update(zip(ck, cats))
        t0 = time.perf_counter()
        if task == "classification":
            proba = model.predict_proba_one(x)
            pred = max(proba, key=proba.get) if proba else None
            model.learn_one(x, y)
            spent += time.perf_counter() - t0
            ps = [proba.get(c, 0.0) for c in range(n_classes)]
            pred_s = "-1" if pred is None else str(pred)
            correct += pred == y
        else:
            pred = model.predict_one(x)
            model.learn_one(x, y)
            spent += time.perf_counter() - t0
            ps = []
            pred_s = repr(float(pred))
        fields = [repr(y) if task != "classification" else str(y)]
        fields += [repr(v) for v in nums]
        fields += [str(v) for v in cats]
        fields.append(pred_s)
        fields += [repr(float(p)) for p in ps]
        lines.append(" ".join(fields))
    header = {
        "name": case["name"],
        "dataset": case["dataset"],
        "model": case["river_model"],
        "task": task,
        "n_numeric": n_num,
        "n_categ": n_cat,
        "n_classes": n_classes,
        "rows": len(rows),
        "river_seconds": spent,
        "river_version": river.__version__,
        "river_model_bytes": calculate_object_size(model),
    }
    with open(path, "w") as f:
        f.write(json.dumps(header) + "\n")
        f.write("\n".join(lines))
        f.write("\n")
    return {"name": case["name"], "rows": len(rows), "seconds": spent}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="JSON file with a list of cases")
    ap.add_argument("--out", required=True, help="directory for the traces")
    args = ap.parse_args()
    with open(args.spec) as f:
        cases = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    for case in cases:
        run_case(case, args.out)


if __name__ == "__main__":
    main()
