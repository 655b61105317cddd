"""Print, as JSON, draws from CPython's random.Random and River's poisson
for the seeds and calls that pyrand_test.go replays."""

import json
import random
import sys

from river.utils.random import poisson

SEEDS = [0, 1, 42, -3, 2**32 - 1, 2**32, 2**40 + 5, 2**63 - 1, -(2**63)]
BELOW = [1, 2, 3, 7, 1000, 2**31 + 1, 2**32 - 1]
CUM = [0.5, 0.5, 2.0, 3.5]


def draws(seed):
    r = random.Random(seed)
    out = {"seed": seed}
    out["random"] = [r.random() for _ in range(5)]
    out["randint"] = [r.randint(0, 9999999) for _ in range(3)] + [r.randint(-5, 5) for _ in range(3)]
    out["below"] = [r.randrange(n) for n in BELOW]
    out["uniform"] = [r.uniform(-2.0, 5.0) for _ in range(3)]
    out["choice"] = [r.choices(range(len(CUM)), cum_weights=CUM, k=1)[0] for _ in range(8)]
    out["poisson"] = [poisson(rate, r) for rate in (0.5, 1.0, 6.0) for _ in range(4)]
    # Cross several regenerations of the 624-word state.
    for _ in range(1500):
        r.random()
    out["late"] = [r.random() for _ in range(3)]
    return out


json.dump([draws(s) for s in SEEDS], sys.stdout)
