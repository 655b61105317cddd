"""Prequential reference run of River scaler pipelines on an unscaled stream.

Usage: python3 pipeline_river.py {minmax_hst|standard_amf} N

Prints one CSV line per sample: four raw features (nan where absent from
River's x), the label, then River's prediction before learning the sample:
the anomaly score for minmax_hst, P(0), P(1) for standard_amf.
"""
import math
import random
import sys

from river import anomaly, forest, preprocessing


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    if kind == "minmax_hst":
        model = preprocessing.MinMaxScaler() | anomaly.HalfSpaceTrees(n_trees=10, height=8, window_size=100, seed=5)
    else:
        model = preprocessing.StandardScaler() | forest.AMFClassifier(n_estimators=5, seed=3)
    g = random.Random(21)
    out = sys.stdout
    for i in range(n):
        v = [100 + 30 * g.random(), -5 + g.gauss(0, 2), 1e4 * g.random(), g.random()]
        y = 1 if v[0] / 130 + v[3] > 1.3 else 0
        if g.random() < 0.03:
            v[2] *= 20
        x = {f"f{j:02d}": v[j] for j in range(4)}
        if i % 40 == 9:
            del x["f01"]
            v[1] = math.nan
        if kind == "minmax_hst":
            pred = [model.score_one(x)]
            model.learn_one(x)
        else:
            p = model.predict_proba_one(x)
            pred = [p.get(0, 0.0), p.get(1, 0.0)]
            model.learn_one(x, y)
        out.write(",".join(repr(float(a)) for a in [*v, y, *pred]) + "\n")


if __name__ == "__main__":
    main()
