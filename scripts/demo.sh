#!/usr/bin/env bash
# The user's day on the embedded default: start spate (data in ./data), wait
# until it is healthy, then run the pipeline steps that exist. The server
# keeps running until Ctrl-C (DEMO_EXIT=1 stops it after the steps).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] || cp .env.example .env
bin/spate serve &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
http=$(grep -E '^SPATE_HTTP_ADDR=' .env | cut -d= -f2 || true)
url="http://localhost:${http##*:}"
[ "$url" = "http://localhost:" ] && url=http://localhost:8500
for _ in $(seq 1 100); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { echo "spate exited; see the log above"; exit 1; }
  sleep 0.1
done
make --no-print-directory feature-pipeline
for step in model live-data; do
  script=examples/fraud/$( [ $step = model ] && echo setup_model.py || echo generate_live_data.py )
  [ -f "$script" ] && make --no-print-directory $step
done
if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
echo "spate is running (HTTP $url); Ctrl-C to stop."
wait $pid
