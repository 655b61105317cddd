#!/usr/bin/env bash
# Spate's HoeffdingTreeClassifier beside MOA's Hoeffding tree (through the
# capymoa package) on the same stream: a seeded random-hyperplane stream of
# MOA_ROWS rows (default 50,000) with 10 numeric features, prequential
# predict-then-learn, samples/s and accuracy. capymoa pins pandas < 3, so it
# gets a virtualenv of its own (.venv-moa); when it cannot be installed the
# script says so and exits 0. Run from the repo root.
set -euo pipefail
rows="${MOA_ROWS:-50000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ ! -x .venv-moa/bin/python ] || ! .venv-moa/bin/python -c 'import capymoa' 2>/dev/null; then
	python3 -m venv .venv-moa
	if ! timeout 600 .venv-moa/bin/pip install -q capymoa numpy; then
		echo "capymoa did not install: MOA comparison skipped"
		exit 0
	fi
fi
.venv-moa/bin/python - "$rows" "$work/stream.csv" <<'PY'
import sys
import numpy as np
rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(42)
X = rng.random((rows, 10))
w = rng.random(10)
y = (X @ w > w.sum() / 2).astype(int)
flip = rng.random(rows) < 0.05
y[flip] = 1 - y[flip]
with open(path, "w") as f:
    f.write(",".join(f"x{i}" for i in range(10)) + ",y\n")
    for xi, yi in zip(X, y):
        f.write(",".join(repr(float(v)) for v in xi) + f",{yi}\n")
PY
go run ./bench/moa -csv "$work/stream.csv"
.venv-moa/bin/python - "$work/stream.csv" <<'PY'
import sys, time
import numpy as np
from capymoa.classifier import HoeffdingTree
from capymoa.stream import NumpyStream
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
stream = NumpyStream(data[:, :-1], data[:, -1].astype(int), target_type="categorical")
ht = HoeffdingTree(schema=stream.get_schema())
n = correct = 0
start = time.perf_counter()
while stream.has_more_instances():
    inst = stream.next_instance()
    if ht.predict(inst) == inst.y_index:
        correct += 1
    ht.train(inst)
    n += 1
sec = time.perf_counter() - start
print(f"MOA    HoeffdingTree (capymoa)                                 {n / sec:9.0f} samples/s  accuracy {correct / n:.4f}  ({n} samples; per-instance calls from Python through JPype)")
PY
