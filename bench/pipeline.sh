#!/usr/bin/env bash
# The demo pipeline's stages and the whole, in one run (server.BenchmarkPipeline):
#   - ingest: Flight DoPut of the fraud transactions, one stream, durable;
#   - features: the 24-hour SUM per accountID materialized over the stored
#     history, alone;
#   - learner: the Hoeffding tree alone, prequential, in the client process;
#   - end to end: the history stored, then the feature materialized and N
#     models deployed at once, until every model has predicted and learned
#     every row (outputs and evaluations written), for each N in MODELS;
# each end-to-end figure also as a fraction of the slowest stage, and the
# server's peak RSS (VmHWM of the server, a child process).
# ROWS (default 10,000,000) sets the history size; the generated data is kept
# in CACHE (default $TMPDIR/spate-bench-cache) for the next run.
# Every load loop is bounded in count and time. Run from the repo root.
set -euo pipefail
rows="${ROWS:-10000000}"
models="${MODELS:-1,2,4}"
cache="${CACHE:-${TMPDIR:-/tmp}/spate-bench-cache}"
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/server.test" ./server/
cd "$work"
SPATE_BENCH_ROWS="$rows" SPATE_BENCH_MODELS="$models" SPATE_BENCH_CACHE="$cache" \
	timeout 3000 ./server.test -test.run '^$' -test.benchtime 1x -test.bench '^BenchmarkPipeline$' -test.timeout 3000s |
	grep -E '^BenchmarkPipeline' | awk -v rows="$rows" -v models="$models" '
	{
		for (i = 3; i < NF; i += 2) v[$(i+1)] = $i
		printf "history: %d labeled rows (fraud data, 24-hour SUM per accountID, HoeffdingTreeClassifier)\n\n", rows
		printf "%-44s %14s\n", "stage", "rows/s"
		printf "%-44s %14.0f\n", "Flight ingest (DoPut, 1 stream, durable)", v["ingest_rows/s"]
		printf "%-44s %14.0f\n", "feature materialization alone (server)", v["features_rows/s"]
		printf "%-44s %14.0f\n", "feature pipeline alone (in process)", v["features_inproc_rows/s"]
		printf "%-44s %14.0f\n", "learner alone (samples/s, in process)", v["learner_samples/s"]
		printf "\n%-44s %14s %10s\n", "end to end (history -> outputs, metrics)", "rows/s", "vs slowest"
		n = split(models, ms, ",")
		for (j = 1; j <= n; j++) {
			m = ms[j]; k = "e2e_" m "models_rows/s"
			printf "%-44s %14.0f %9.0f%%  (%.0f model-rows/s)\n", m " model(s), every row predicted + learned by each", v[k], 100 * v["e2e_" m "models_vs_slowest"], m * v[k]
		}
		printf "\nserver peak RSS: %.0f MiB\n", v["server_peak_rss_MiB"]
	}'
