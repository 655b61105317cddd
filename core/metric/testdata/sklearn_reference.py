"""Reference values of the windowed metrics, computed with scikit-learn.

Usage: python3 sklearn_reference.py IN.json OUT.json

IN is a list of cases {"kind": "classification"|"regression", "window": W,
"score": [...], "pred": [...], "label": [...], "checks": [i, ...]}. For each
check i, the window is pairs max(0, i-W+1)..i, and OUT gets, per case, a map
from metric name to the list of values at the checks (null where the metric
is undefined, as AUC on a one-class window).
"""
import json
import sys
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, mean_absolute_error,
                             mean_squared_error, precision_recall_fscore_support,
                             roc_auc_score, root_mean_squared_error)


def auc(y, s):
    if len(np.unique(y)) < 2:
        return None
    v = roc_auc_score(y, s)
    return None if np.isnan(v) else float(v)


def classification(score, pred, label):
    y = np.rint(label).astype(int)
    ypos, ppos = (y == 1).astype(int), (pred == 1).astype(int)
    p, r, f, _ = precision_recall_fscore_support(
        ypos, ppos, average="binary", pos_label=1, labels=[0, 1], zero_division=0.0)
    return {
        "WindowedAUC": auc(ypos, score),
        "WindowedAccuracy": float(accuracy_score(y, pred)),
        "WindowedPrecision": float(p),
        "WindowedRecall": float(r),
        "WindowedF1": float(f),
    }


def regression(score, _pred, label):
    return {
        "WindowedMAE": float(mean_absolute_error(label, score)),
        "WindowedMSE": float(mean_squared_error(label, score)),
        "WindowedRMSE": float(root_mean_squared_error(label, score)),
    }


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    out = []
    for case in cases:
        w = case["window"]
        score = np.asarray(case["score"], dtype=float)
        pred = np.asarray(case["pred"], dtype=int)
        label = np.asarray(case["label"], dtype=float)
        fn = classification if case["kind"] == "classification" else regression
        res = {}
        for i in case["checks"]:
            lo = max(0, i - w + 1)
            for name, v in fn(score[lo:i + 1], pred[lo:i + 1], label[lo:i + 1]).items():
                res.setdefault(name, []).append(v)
        out.append(res)
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main()
