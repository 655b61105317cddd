#!/usr/bin/env bash
# End-to-end server benchmarks on loopback, in one run:
#   - durable ingest of the fraud schema: raw write+fdatasync of the same
#     bytes (the disk's limit), Flight DoPut with one and four streams, REST
#     JSON upload;
#   - the demo pipeline (24-hour SUM feature + Hoeffding tree): labeled
#     history consumed per second, ingest-ack → output latency while
#     streaming at 20,000 rows/s, sustained live throughput over Flight
#     (LIVE_ROWS rows, default 1,000,000, as fast as acknowledged; also per
#     CPU second of the server), and POST /model/{name}/predict latency at
#     1,000 requests/s.
# Every load loop is bounded in count and time. Run from the repo root.
set -euo pipefail
benchtime="${BENCHTIME:-2s}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/server.test" ./server/
run() { timeout 600 "$work/server.test" -test.run '^$' -test.benchtime "$2" -test.bench "$1" | grep -E '^Benchmark' || true; }
{
	run '^BenchmarkIngest$' "$benchtime"
	run '^BenchmarkLearnThroughput$' 1x
	run '^BenchmarkStreamLatency$' 1x
	SPATE_BENCH_ROWS="${LIVE_ROWS:-1000000}" run '^BenchmarkLiveThroughput$' 1x
	run '^BenchmarkPredictEndpoint$' 1x
} | awk '
	{
		name=$1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		line=sprintf("%-38s", name)
		for (i = 3; i < NF; i += 2) if ($(i+1) != "ns/op") line = line sprintf("  %12s %s", $i, $(i+1))
		print line
	}'
