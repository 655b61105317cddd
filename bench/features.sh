#!/usr/bin/env bash
# Feature engine benchmark: the 24-hour SUM, COUNT, AVG and MAX of
# transactionAmount per accountID over fraud rows.
#  1. Whole history: Spate's pipeline (one goroutine) against DuckDB's batch
#     window query over the same rows (read from Parquet), with 1 and 2
#     DuckDB threads.
#  2. Streaming path: the Go benchmark BenchmarkSliding24h (warm windows,
#     100k and 1M keys): events/s and bytes of state per key.
# Run from the repository root. Bounded: about 3-5 minutes on 2 cores.
# Environment: ROWS_ACCOUNTS="1000000:100000 2000000:1000000" to change the
# data sets, PYTHON (default python3, needs the duckdb package).
set -euo pipefail
PYTHON=${PYTHON:-python3}
SETS=${ROWS_ACCOUNTS:-"1000000:100000 2000000:1000000"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$PYTHON" -c 'import duckdb' 2>/dev/null; then
  echo "bench/features.sh: $PYTHON has no duckdb package (pip install duckdb)" >&2
  exit 1
fi

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

go build -o "$tmp/featurebench" ./core/feature/internal/featurebench

printf '\n== whole history (24h SUM/COUNT/AVG/MAX per account) ==\n'
printf '%-10s %-9s %-22s %10s %14s %14s\n' rows accounts engine seconds events/s spate_wall/this
for set in $SETS; do
  rows=${set%%:*}; accounts=${set##*:}
  pq="$tmp/tx_${rows}.parquet"
  line=$(timeout 600 "$tmp/featurebench" -rows "$rows" -accounts "$accounts" -parquet "$pq" 2>/dev/null)
  field() { tr '\t' '\n' <<<"$line" | sed -n "s/^$1=//p"; }
  wall=$(field wall_s)
  cpu=$(field cpu_s)
  printf '%-10s %-9s %-22s %10.3f %14.0f %14s\n' "$rows" "$accounts" "spate (wall)" "$wall" "$(div "$rows" "$wall")" "1.00"
  printf '%-10s %-9s %-22s %10.3f %14.0f %14s\n' "$rows" "$accounts" "spate (cpu time)" "$cpu" "$(div "$rows" "$cpu")" "-"
  for threads in 1 2; do
    secs=$(timeout 600 "$PYTHON" - "$pq" "$threads" <<'PY'
import sys, time, duckdb
path, threads = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET TimeZone = 'UTC'")
q = f"""
SELECT count(*), sum(s), sum(c), sum(a), max(m) FROM (
  SELECT SUM(transactionAmount) OVER w AS s, COUNT(transactionAmount) OVER w AS c,
         AVG(transactionAmount) OVER w AS a, MAX(transactionAmount) OVER w AS m
  FROM read_parquet('{path}')
  WINDOW w AS (PARTITION BY accountID ORDER BY to_timestamp("timestamp")
               RANGE BETWEEN INTERVAL 86400 SECONDS PRECEDING AND CURRENT ROW))
"""
best = None
for _ in range(2):
    t = time.perf_counter()
    con.execute(q).fetchall()
    d = time.perf_counter() - t
    best = d if best is None else min(best, d)
print(f"{best:.3f}")
PY
)
    printf '%-10s %-9s %-22s %10.3f %14.0f %14.2f\n' "$rows" "$accounts" "duckdb ($threads thread)" "$secs" "$(div "$rows" "$secs")" "$(div "$wall" "$secs")"
  done
  echo "   state: $(tr '\t' '\n' <<<"$line" | grep -E 'keys=|_B_per_key' | tr '\n' ' ')"
done

printf '\n== streaming path (go test -bench Sliding24h, warm windows) ==\n'
timeout 900 go test -run '^$' -bench 'Sliding24h' -benchtime 200x ./core/feature/ 2>&1 \
  | awk '/^BenchmarkSliding24h/ {
      name=$1; line="";
      for (i=2;i<=NF;i++) if ($(i) ~ /events|_B\/key/) line=line sprintf(" %s=%s", $(i), $(i-1));
      printf "%-40s%s\n", name, line }'
