"""Regenerate adwin_river.json: River's ADWIN on fixed streams.

Run from this directory: python3 gen_adwin.py
"""
import json
import random

from river import drift


def stream(kind, n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if kind == "bernoulli":
            p = 0.2 if (i // 1500) % 2 == 0 else 0.6
            out.append(1.0 if rng.random() < p else 0.0)
        else:
            mu = 0.0 if i < 2000 else (3.0 if i < 4000 else -1.0)
            out.append(rng.gauss(mu, 1.0 + (i % 7) * 0.1))
    return out


cases = []
for kind, delta, clock, seed in [
    ("bernoulli", 0.002, 32, 1),
    ("gauss", 0.002, 32, 2),
    ("gauss", 0.1, 1, 3),
    ("bernoulli", 0.01, 8, 4),
]:
    xs = stream(kind, 6000, seed)
    d = drift.ADWIN(delta=delta, clock=clock)
    det, checks = [], []
    for i, x in enumerate(xs):
        d.update(x)
        if d.drift_detected:
            det.append(i)
        if i % 13 == 0 or d.drift_detected:
            checks.append([i, d.width, d.estimation])
    cases.append({"kind": kind, "delta": delta, "clock": clock, "xs": xs,
                  "detections": det, "checks": checks})
json.dump(cases, open("adwin_river.json", "w"))
print({c["kind"] + str(c["delta"]): len(c["detections"]) for c in cases})
