#!/usr/bin/env bash
# Durable log ingest against the disk's limit, on the fraud schema (22
# columns, 4096-row batches): plain write+fdatasync of the same bytes ("raw",
# the limit; "raw2" is the same loop with each fdatasync handed to a second
# goroutine, which some virtual machines run much faster), then filelog
# Appends with one writer, four writers, and one producer keeping several
# appends in flight (AppendAsync). Each case runs COUNT times
# (default 3) for BENCHTIME each (default 1s); the table shows medians. Run
# from the repository root. BENCHDIR (default the system temp dir) picks the
# disk.
set -euo pipefail

benchtime="${BENCHTIME:-1s}"
count="${COUNT:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -n "${BENCHDIR:-}" ]]; then
	export TMPDIR="$BENCHDIR"
fi

go test -c -o "$work/filelog.test" ./core/stream/filelog/
run() {
	timeout 300 "$work/filelog.test" -test.run '^$' -test.count "$count" -test.benchtime "$benchtime" -test.bench "$1"
}
# The disk's speed drifts, and deleting the previous case's files slows the
# next one: flush before every case and measure the raw limit twice. The
# no-sync case dirties the most pages, so it goes last.
out="$(
	for bench in \
		'^BenchmarkRawWriteSync$' \
		'^BenchmarkAppend$/^sync=fdatasync$' \
		'^BenchmarkAppendPipelined$' \
		'^BenchmarkRawWriteSync$' \
		'^BenchmarkAppend$/^sync=none$/^writers=1$'; do
		sync
		run "$bench"
	done
)" || {
	echo "$out" >&2
	exit 1
}

echo "$out" | awk '
function field(unit,    i) {
	for (i = 2; i <= NF; i++) if ($i == unit) return $(i - 1)
	return ""
}
function median(arr, cnt,    i, j, t, v) {
	for (i = 1; i <= cnt; i++) v[i] = arr[i]
	for (i = 2; i <= cnt; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return (cnt % 2) ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
}
/^Benchmark/ {
	name = $1
	sub(/-[0-9]+$/, "", name)
	if (!(name in cnt)) order[++n] = name
	c = ++cnt[name]
	mbs[name, c] = field("MB/s")
	rows[name, c] = field("rows/s")
}
END {
	raw = "BenchmarkRawWriteSync/loop=plain"
	raw2 = "BenchmarkRawWriteSync/loop=handoff"
	if (!(raw in cnt) || !(raw2 in cnt)) { print "no raw baseline in the benchmark output" > "/dev/stderr"; exit 1 }
	label[raw] = "raw write+fdatasync, same bytes (limit)"
	label[raw2] = "raw, fdatasync on a 2nd goroutine"
	label["BenchmarkAppend/sync=fdatasync/writers=1"] = "append, 1 writer"
	label["BenchmarkAppend/sync=fdatasync/writers=4"] = "append, 4 writers"
	label["BenchmarkAppendPipelined/sync=fdatasync/depth=4"] = "append, 1 producer, 4 in flight"
	label["BenchmarkAppendPipelined/sync=fdatasync/depth=16"] = "append, 1 producer, 16 in flight"
	label["BenchmarkAppend/sync=none/writers=1"] = "append, 1 writer, no sync (not durable)"
	for (i = 1; i <= n; i++) {
		k = order[i]
		for (c = 1; c <= cnt[k]; c++) { m[c] = mbs[k, c]; r[c] = rows[k, c] }
		medm[k] = median(m, cnt[k])
		medr[k] = median(r, cnt[k])
	}
	printf "%-42s %12s %10s %9s %9s\n", "case (median of runs)", "rows/s", "MB/s", "% of raw", "% of raw2"
	for (i = 1; i <= n; i++) {
		k = order[i]
		l = (k in label) ? label[k] : k
		printf "%-42s %12.0f %10.1f %8.0f%% %8.0f%%\n", l, medr[k], medm[k], 100 * medm[k] / medm[raw], 100 * medm[k] / medm[raw2]
	}
}'
