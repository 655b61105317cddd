#!/usr/bin/env bash
# Prequential throughput (predict then learn, one sample at a time) of the
# Go learners next to River 0.26.1 on the same stream: ten uniform features
# drawn from CPython's random.Random(7) with a binary label and a
# regression target (bench/ml_learners_river.py builds it on the River side,
# benchStream in each package's *_bench_test.go on the Go side). Ensembles
# use River's default HoeffdingTreeClassifier as base model on both sides.
#
# Rates are samples per CPU second of the measuring process (Go:
# getrusage around the benchmark loop; Python: time.process_time), which
# stays comparable when other work shares the machine. The Go side runs as
# many fresh passes over the stream as fit in about two seconds: a pass of
# the fastest learners takes a few milliseconds, too short to time once.
#
# Run from the repository root: bash bench/ml_learners.sh
# ROWS_FAST (default 10000) rows for the single models and ROWS_SLOW
# (default 2000) for the ensembles bound River's share of the run time.
set -euo pipefail

ROWS_FAST=${ROWS_FAST:-10000}
ROWS_SLOW=${ROWS_SLOW:-2000}
PY=${PYTHON:-python3}

# name  package              Go benchmark                      rows
learners=(
	"AMFClassifier ./core/ml/forest BenchmarkAMFClassifier $ROWS_FAST"
	"AMFRegressor ./core/ml/forest BenchmarkAMFRegressor $ROWS_FAST"
	"GaussianNB ./core/ml/bayes BenchmarkGaussianNB $ROWS_FAST"
	"MultinomialNB ./core/ml/bayes BenchmarkMultinomialNB $ROWS_FAST"
	"LogisticRegression ./core/ml/linear BenchmarkLogisticRegression $ROWS_FAST"
	"HST ./core/ml/anomaly BenchmarkHST $ROWS_FAST"
	"LeveragingBaggingClassifier ./core/ml/ensemble BenchmarkLeveragingBaggingClassifier $ROWS_SLOW"
	"AdaBoostClassifier ./core/ml/ensemble BenchmarkAdaBoostClassifier $ROWS_SLOW"
)

go_rate() { # package benchmark rows -> samples per CPU second
	SPATE_BENCH_ROWS=$3 go test -run '^$' -bench "^$2\$" -benchtime 2s -benchmem "$1" |
		awk '/samples\/s/ { for (i = 1; i < NF; i++) if ($(i+1) == "cpu-samples/s") print int($i) }'
}

river_rate() { # name rows -> samples per CPU second
	timeout 300 "$PY" bench/ml_learners_river.py "$2" "$1" | awk '{ print $2 }'
}

printf '%-30s %7s %14s %16s %9s\n' learner rows "Go samples/s" "River samples/s" speedup
printf '%-30s %7s %14s %16s %9s\n' "" "" "(per CPU s)" "(per CPU s)" ""
for l in "${learners[@]}"; do
	read -r name pkg bench rows <<<"$l"
	g=$(go_rate "$pkg" "$bench" "$rows")
	r=$(river_rate "$name" "$rows")
	awk -v n="$name" -v rows="$rows" -v g="$g" -v r="$r" \
		'BEGIN { printf "%-30s %7d %14d %16d %8.1fx\n", n, rows, g, r, (r > 0 ? g / r : 0) }'
done
