#!/usr/bin/env bash
# Dashboard benchmark: server time of the dashboard's JSON API.
#  1. The Models page's data (/ui/api/models, /ui/api/overview) with 50
#     running models.
#  2. A model that wrote 1,000,000 outputs and learned 1,000,000 labels:
#     the Outputs tab (latest 50 rows + the score chart downsampled to 1,000
#     points), a Metrics chart (WindowedAUC downsampled to 1,000 points),
#     cold (first request reads the whole series) and warm.
#  3. Server-Sent Events fan-out: a data change until all of 100 open
#     streams have seen it (upload + predict + one poll interval of 250 ms).
# Time to first byte and full body, milliseconds, measured by an HTTP client
# on loopback. Run from the repository root; about one minute on 2 cores.
set -euo pipefail
N=${N:-20}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test -run '^$' -bench 'ModelsPage|MillionOutputs|SSEFanout' -benchtime "${N}x" -v -timeout 20m ./server/web >"$out" 2>&1 || { cat "$out"; exit 1; }

printf '\n%-44s %12s %12s %10s\n' endpoint ttfb_ms full_ms bytes
awk '/^Benchmark(ModelsPage|MillionOutputs)\// && /ns\/op/ {
  name=$1; sub(/-[0-9]+$/, "", name); ttfb=full=bytes=""
  for (i = 2; i < NF; i++) { if ($(i+1)=="ttfb_ms") ttfb=$i; if ($(i+1)=="full_ms") full=$i; if ($(i+1)=="bytes") bytes=$i }
  printf "%-44s %12.2f %12.2f %10d\n", name, ttfb, full, bytes }' "$out"
awk '/cold \/ui\/api/ { p=$0; sub(/.*cold /, "", p); split(p, a, ": "); t=a[2]; printf "cold %-39s %s\n", substr(a[1], 1, 39), t }' "$out"
printf '\n%-44s %12s %12s\n' "SSE fan-out" mean_ms worst_ms
awk '/^BenchmarkSSEFanout/ && /ns\/op/ { m=w=""; for (i = 2; i < NF; i++) { if ($(i+1)=="all_100_ms") m=$i; if ($(i+1)=="worst_ms") w=$i }
  printf "%-44s %12.1f %12.1f\n", "100 streams see one change", m, w }' "$out"
grep -h 'ingested, predicted and learned' "$out" | sed 's/^ *[a-z_]*\.go:[0-9]*: /setup: /' || true
