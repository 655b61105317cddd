"""Prequential reference run of River's HalfSpaceTrees.

Usage: python3 hst_river.py N N_TREES HEIGHT WINDOW SEED

Prints one CSV line per sample: five features in [0, 1] (nan where the
feature is absent from River's x), then River's anomaly score computed
before learning the sample.
"""
import math
import random
import sys

from river import anomaly


def main():
    n, n_trees, height, window, seed = (int(a) for a in sys.argv[1:6])
    model = anomaly.HalfSpaceTrees(n_trees=n_trees, height=height, window_size=window, seed=seed)
    g = random.Random(3)
    out = sys.stdout
    for i in range(n):
        if g.random() < 0.02:
            v = [g.random() for _ in range(5)]
        else:
            v = [0.3 + 0.2 * g.random() for _ in range(5)]
        x = {f"f{j:02d}": v[j] for j in range(5)}
        if i % 50 == 7:
            del x["f02"]
            v[2] = math.nan
        score = model.score_one(x)
        out.write(",".join(repr(float(a)) for a in [*v, score]) + "\n")
        model.learn_one(x)


if __name__ == "__main__":
    main()
