"""Writes pagehinkley_river.json: River 0.26.1 PageHinkley detections on
streams with shifts, for pagehinkley_test.go.

Usage: python3 testdata/gen_pagehinkley.py > testdata/pagehinkley_river.json
"""
import json
import random

from river import drift


def streams():
    g = random.Random(12)
    up = [g.gauss(0, 1) for _ in range(800)] + [g.gauss(3, 1) for _ in range(800)]
    down = [g.gauss(5, 2) for _ in range(700)] + [g.gauss(1, 2) for _ in range(900)]
    steps = [float(i // 400 % 2) * 4 + g.random() for i in range(3000)]
    return [("both", up), ("both", down), ("up", steps), ("down", steps), ("both", steps)]


cases = []
for mode, xs in streams():
    d = drift.PageHinkley(mode=mode)
    det = []
    for i, x in enumerate(xs):
        d.update(x)
        if d.drift_detected:
            det.append(i)
    cases.append({"mode": mode, "xs": xs, "detections": det, "final_mean": d._x_mean.get()})
print(json.dumps(cases))
