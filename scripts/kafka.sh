#!/usr/bin/env bash
# A local Apache Kafka (KRaft) cluster on loopback, for tests and benchmarks.
#
#   scripts/kafka.sh start N [DIR]   start N combined broker+controller nodes
#                                    (or reuse the running cluster in DIR) and
#                                    print BOOTSTRAP_SERVERS=host:port,...
#   scripts/kafka.sh stop [DIR]      stop the nodes (SIGTERM, then SIGKILL) and
#                                    delete DIR
#   scripts/kafka.sh status [DIR]    exit 0 when every node of DIR answers
#   scripts/kafka.sh pid I [DIR]     print the process id of node I (0-based)
#
# Only Maven Central is needed: on first use the broker's jars are fetched
# with `mvn dependency:copy-dependencies` (scripts/kafka/pom.xml) into
# $SPATE_KAFKA_CACHE (default ~/.cache/spate-kafka/libs-<version>). Then the
# storage of each node is formatted with kafka.tools.StorageTool and the
# nodes are started with kafka.Kafka; a node is ready when its log says
# "Kafka Server started" and its port accepts connections.
#
# Node i listens on 127.0.0.1:$((BASE + 100*i)) (clients) and the next port
# (controller quorum); BASE is $SPATE_KAFKA_PORT (default 29092). The quorum
# voters are static. With N >= 3 topics get replication factor 3 and
# min.insync.replicas 2; with fewer nodes, N and 1.
#
# Knobs: SPATE_KAFKA_HEAP (256m), SPATE_KAFKA_READY_TIMEOUT (120 s),
# SPATE_KAFKA_STOP_TIMEOUT (30 s), JAVA (java), MVN (mvn).
# DIR defaults to /tmp/spate-kafka. stdout carries only the
# BOOTSTRAP_SERVERS line (or the pid); progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATES="$HERE/kafka"
VERSION="4.4.0"
CACHE="${SPATE_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spate-kafka}"
LIBS="$CACHE/libs-$VERSION"
BASE="${SPATE_KAFKA_PORT:-29092}"
HEAP="${SPATE_KAFKA_HEAP:-256m}"
READY_TIMEOUT="${SPATE_KAFKA_READY_TIMEOUT:-120}"
STOP_TIMEOUT="${SPATE_KAFKA_STOP_TIMEOUT:-30}"
JAVA="${JAVA:-java}"
MVN="${MVN:-mvn}"

log() { printf 'kafka: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

abs_dir() {
	local d="${1:-/tmp/spate-kafka}"
	[[ "$d" == /* ]] || d="$PWD/$d"
	echo "$d"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

broker_port() { echo $((BASE + 100 * $1)); }
controller_port() { echo $((BASE + 100 * $1 + 1)); }

# fetch_jars copies Kafka and its dependencies into $LIBS once.
fetch_jars() {
	if [[ -f "$LIBS/.complete" ]]; then
		return
	fi
	command -v "$MVN" >/dev/null 2>&1 || die "Maven ($MVN) is needed to fetch the Kafka jars: apt-get install maven"
	log "fetching Kafka $VERSION jars with Maven into $LIBS"
	local tmp="$LIBS.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# Maven prints to stdout (even with -q): keep stdout for the result line.
	if ! timeout 900 "$MVN" -q -B -f "$TEMPLATES/pom.xml" dependency:copy-dependencies \
		-DoutputDirectory="$tmp" -Dmdep.includeScope=runtime >&2; then
		rm -rf "$tmp"
		die "mvn dependency:copy-dependencies failed"
	fi
	ls "$tmp"/kafka_2.13-"$VERSION".jar >/dev/null 2>&1 || {
		rm -rf "$tmp"
		die "the Kafka jar is missing after the download"
	}
	rm -rf "$LIBS"
	mv "$tmp" "$LIBS"
	touch "$LIBS/.complete"
	log "$(ls "$LIBS"/*.jar | wc -l) jars in $LIBS"
}

# state: DIR/nodes holds N; DIR/node-I/{server.properties,pid,server.log,data}.
nodes_of() { cat "$1/nodes" 2>/dev/null || echo 0; }

bootstrap_of() {
	local n="$1" i out=""
	for ((i = 0; i < n; i++)); do
		out+="${out:+,}127.0.0.1:$(broker_port "$i")"
	done
	echo "$out"
}

node_alive() {
	local pid
	pid="$(cat "$1/pid" 2>/dev/null)" || return 1
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

running() {
	local dir="$1" n i
	n="$(nodes_of "$dir")"
	((n > 0)) || return 1
	for ((i = 0; i < n; i++)); do
		node_alive "$dir/node-$i" || return 1
		port_open "$(broker_port "$i")" || return 1
	done
}

write_config() {
	local dir="$1" n="$2" i="$3" voters="$4" rf="$5" isr="$6"
	local nd="$dir/node-$i"
	mkdir -p "$nd/data"
	sed -e "s|@NODE_ID@|$((i + 1))|" \
		-e "s|@VOTERS@|$voters|" \
		-e "s|@BROKER_PORT@|$(broker_port "$i")|" \
		-e "s|@CONTROLLER_PORT@|$(controller_port "$i")|" \
		-e "s|@LOG_DIR@|$nd/data|" \
		-e "s|@RF@|$rf|g" \
		-e "s|@MIN_ISR@|$isr|g" \
		"$TEMPLATES/server.properties.in" >"$nd/server.properties"
}

start() {
	local n="${1:-}" dir
	[[ "$n" =~ ^[1-9][0-9]?$ ]] || die "usage: $0 start N [DIR] (N = number of nodes, 1..99)"
	dir="$(abs_dir "${2:-}")"
	if running "$dir"; then
		local have
		have="$(nodes_of "$dir")"
		[[ "$have" == "$n" ]] || die "a $have-node cluster already runs in $dir; stop it first"
		log "reusing the $n-node cluster in $dir"
		echo "BOOTSTRAP_SERVERS=$(bootstrap_of "$n")"
		return
	fi
	command -v "$JAVA" >/dev/null 2>&1 || die "Java 17+ ($JAVA) is needed"
	stop_dir "$dir" quiet
	local i
	for ((i = 0; i < n; i++)); do
		for p in "$(broker_port "$i")" "$(controller_port "$i")"; do
			! port_open "$p" || die "port 127.0.0.1:$p is in use (set SPATE_KAFKA_PORT to another base)"
		done
	done
	fetch_jars
	local t0=$SECONDS rf isr voters=""
	if ((n >= 3)); then rf=3 isr=2; else rf=$n isr=1; fi
	for ((i = 0; i < n; i++)); do
		voters+="${voters:+,}$((i + 1))@127.0.0.1:$(controller_port "$i")"
	done
	mkdir -p "$dir"
	echo "$n" >"$dir/nodes"
	# A KRaft cluster id is 16 random bytes in URL-safe base64 (22 chars).
	local cid
	cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
	local pids=()
	for ((i = 0; i < n; i++)); do
		write_config "$dir" "$n" "$i" "$voters" "$rf" "$isr"
		"$JAVA" -Xmx128m -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cid" \
			-c "$dir/node-$i/server.properties" >"$dir/node-$i/format.log" 2>&1 &
		pids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		wait "${pids[$i]}" || {
			cat "$dir/node-$i/format.log" >&2
			die "formatting the storage of node $i failed"
		}
	done
	log "formatted $n node(s) in $((SECONDS - t0)) s; starting"
	for ((i = 0; i < n; i++)); do
		local nd="$dir/node-$i"
		nohup "$JAVA" -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
			-Dlog4j2.configurationFile="$TEMPLATES/log4j2.properties" \
			-Dspate.kafka.logfile="$nd/server.log" \
			-cp "$LIBS/*" kafka.Kafka "$nd/server.properties" \
			>"$nd/stdout.log" 2>&1 </dev/null &
		echo $! >"$nd/pid"
	done
	local deadline=$((SECONDS + READY_TIMEOUT)) ready
	while :; do
		ready=0
		for ((i = 0; i < n; i++)); do
			local nd="$dir/node-$i"
			if ! node_alive "$nd"; then
				tail -n 20 "$nd/server.log" "$nd/stdout.log" >&2 2>/dev/null || true
				stop_dir "$dir" quiet
				die "node $i exited during start-up"
			fi
			if grep -q "Kafka Server started" "$nd/server.log" 2>/dev/null && port_open "$(broker_port "$i")"; then
				ready=$((ready + 1))
			fi
		done
		((ready < n)) || break
		if ((SECONDS >= deadline)); then
			for ((i = 0; i < n; i++)); do tail -n 5 "$dir/node-$i/server.log" >&2 2>/dev/null || true; done
			stop_dir "$dir" quiet
			die "the cluster was not ready after $READY_TIMEOUT s"
		fi
		sleep 0.25
	done
	log "$n node(s) ready in $((SECONDS - t0)) s (data in $dir)"
	echo "BOOTSTRAP_SERVERS=$(bootstrap_of "$n")"
}

# stop_dir stops the nodes of dir (SIGTERM for a controlled shutdown, SIGKILL
# after $STOP_TIMEOUT s) and deletes dir.
stop_dir() {
	local dir="$1" quiet="${2:-}" n i pid pids=()
	n="$(nodes_of "$dir")"
	for ((i = 0; i < n; i++)); do
		if node_alive "$dir/node-$i"; then
			pid="$(cat "$dir/node-$i/pid")"
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
	done
	if ((${#pids[@]} > 0)); then
		[[ -n "$quiet" ]] || log "stopping ${#pids[@]} node(s) in $dir"
		local deadline=$((SECONDS + STOP_TIMEOUT)) alive
		while :; do
			alive=()
			for pid in "${pids[@]}"; do
				! kill -0 "$pid" 2>/dev/null || alive+=("$pid")
			done
			((${#alive[@]} > 0)) || break
			if ((SECONDS >= deadline)); then
				log "SIGKILL to ${alive[*]} after $STOP_TIMEOUT s"
				kill -KILL "${alive[@]}" 2>/dev/null || true
				break
			fi
			sleep 0.2
		done
	fi
	# Only ever remove a directory this script made.
	if [[ -f "$dir/nodes" ]]; then
		rm -rf "$dir"
	fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
start) start "$@" ;;
stop) stop_dir "$(abs_dir "${1:-}")" ;;
status)
	dir="$(abs_dir "${1:-}")"
	if running "$dir"; then
		log "$(nodes_of "$dir") node(s) running in $dir"
		echo "BOOTSTRAP_SERVERS=$(bootstrap_of "$(nodes_of "$dir")")"
	else
		log "not running ($dir)"
		exit 1
	fi
	;;
pid)
	[[ "${1:-}" =~ ^[0-9]+$ ]] || die "usage: $0 pid I [DIR]"
	dir="$(abs_dir "${2:-}")"
	node_alive "$dir/node-$1" || die "node $1 of $dir is not running"
	cat "$dir/node-$1/pid"
	;;
*) die "usage: $0 start N [DIR] | stop [DIR] | status [DIR] | pid I [DIR]" ;;
esac
