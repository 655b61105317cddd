#!/usr/bin/env bash
# Hoeffding trees: Go benchmarks, parity with River and Go-vs-River
# throughput on the same stream. Run from the repository root; needs Go
# and python3 with river 0.26.1.
#
#   ML_TREES_ROWS     rows per synthetic stream in the parity suite (default 5000;
#                     100000 checks the stated goals, and takes about an hour)
#   ML_TREES_ONLY     run only the parity cases whose name contains this
#   ML_TREES_SPEED    rows of the Go-vs-River throughput run (default 20000)
#   ML_TREES_TIMEOUT  overall bound for the parity run (default 20m)
set -euo pipefail
rows="${ML_TREES_ROWS:-5000}"
only="${ML_TREES_ONLY:-}"
speed="${ML_TREES_SPEED:-20000}"
limit="${ML_TREES_TIMEOUT:-20m}"

echo "== Go benchmarks (prequential predict+learn, 10 numeric features, warmed-up tree)"
go test -run '^$' -bench 'Prequential' -benchmem -benchtime 2s ./core/ml/tree/ |
	awk '/^Benchmark/ {printf "%-48s %12s ns/op %14s samples/s %6s B/op %4s allocs/op\n", $1, $3, $5, $7, $9}'
go test -run '^$' -bench 'ADWIN' -benchmem -benchtime 1s ./core/ml/drift/ |
	awk '/^Benchmark/ {printf "%-48s %12s ns/op %30s B/op %4s allocs/op\n", $1, $3, $5, $7}'

echo
echo "== Parity with River and throughput on the same stream (rows=${rows}, speed rows=${speed})"
go run ./core/ml/parity/cmd/treeparity -suite full -rows "${rows}" -speed-rows "${speed}" -only "${only}" -timeout "${limit}"
