#!/usr/bin/env bash
# make bench: every benchmark script, one after another, each printing its
# own table. Run from the repo root; the Python venv must be on PATH.
set -uo pipefail
cd "$(dirname "$0")/.."
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm)"
status=0
for b in bench/server.sh bench/log.sh bench/features.sh bench/ml_trees.sh bench/ml_learners.sh bench/moa.sh; do
	[ -x "$b" ] || continue
	echo
	echo "## $b"
	"$b" || { echo "$b failed"; status=1; }
done
exit $status
