"""River side of bench/ml_learners.sh: prequential samples/s of River 0.26.1
models on the stream the Go benchmarks use (ten uniform features drawn from
random.Random(7), a binary label and a regression target).

Usage: python3 bench/ml_learners_river.py N NAME...
Prints "NAME samples_per_cpu_second samples_per_wall_second" lines (CPU
time of this process, which is steadier than wall time on a shared
machine).
"""
import random
import sys
import time

from river import anomaly, drift, ensemble, forest, linear_model, naive_bayes, preprocessing, tree


def stream(n):
    g = random.Random(7)
    rows = []
    for _ in range(n):
        v = [g.random() for _ in range(10)]
        x = {f"f{j:02d}": v[j] for j in range(10)}
        cls = 1 if v[0] + v[1] + 0.5 * v[2] + 0.3 * g.random() > 1.4 else 0
        reg = 3 * v[0] - 2 * v[1] + v[2] * v[3] + 0.1 * g.random()
        rows.append((x, cls, reg))
    return rows


MODELS = {
    "AMFClassifier": lambda: ("clf", forest.AMFClassifier(seed=1)),
    "AMFRegressor": lambda: ("reg", forest.AMFRegressor(seed=1)),
    "GaussianNB": lambda: ("clf", naive_bayes.GaussianNB()),
    "MultinomialNB": lambda: ("clf", naive_bayes.MultinomialNB()),
    "LogisticRegression": lambda: ("clf", preprocessing.StandardScaler() | linear_model.LogisticRegression()),
    "HST": lambda: ("anom", anomaly.HalfSpaceTrees(n_trees=20, height=12, window_size=50, seed=1)),
    "LeveragingBaggingClassifier": lambda: (
        "clf",
        ensemble.LeveragingBaggingClassifier(tree.HoeffdingTreeClassifier(), n_models=10, seed=0),
    ),
    "AdaBoostClassifier": lambda: (
        "clf",
        ensemble.AdaBoostClassifier(tree.HoeffdingTreeClassifier(), n_models=10, seed=0),
    ),
    "PageHinkley": lambda: ("drift", drift.PageHinkley()),
}


def run(name, rows):
    kind, model = MODELS[name]()
    start, cpu = time.perf_counter(), time.process_time()
    for x, cls, reg in rows:
        if kind == "clf":
            model.predict_one(x)
            model.learn_one(x, cls)
        elif kind == "reg":
            model.predict_one(x)
            model.learn_one(x, reg)
        elif kind == "anom":
            model.score_one(x)
            model.learn_one(x)
        else:
            model.update(reg)
    return len(rows) / (time.process_time() - cpu), len(rows) / (time.perf_counter() - start)


def main():
    n = int(sys.argv[1])
    rows = stream(n)
    for name in sys.argv[2:]:
        per_cpu, per_wall = run(name, rows)
        print(name, f"{per_cpu:.0f}", f"{per_wall:.0f}", flush=True)


if __name__ == "__main__":
    main()
