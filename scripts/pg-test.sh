#!/usr/bin/env bash
# Throwaway PostgreSQL server for the registry's Postgres tests.
#
#   eval "$(scripts/pg-test.sh start)"   # start (or reuse) it, export SPATE_TEST_POSTGRES_URL
#   source scripts/pg-test.sh            # the same, from a bash shell
#   scripts/pg-test.sh url               # print the URL of the running server
#   scripts/pg-test.sh status            # exit 0 when it runs
#   scripts/pg-test.sh stop              # stop it and delete its files
#
# The server listens on 127.0.0.1 only, at a free port, with trust
# authentication and durability off (it holds test data only). Its files
# live in $SPATE_PG_DIR (default: /tmp/spate-pg-test). Binaries are taken
# from $PG_BIN, pg_config, or the newest /usr/lib/postgresql/*/bin; when
# none is found and we are root on Debian, the postgresql package is
# installed (set PG_TEST_NO_INSTALL=1 to forbid that). initdb refuses to run
# as root, so as root the server runs as the postgres user.
#
# stdout carries only the export line; progress goes to stderr.

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	# Sourced: run in a child shell so that errors cannot end the caller.
	if __spate_pg_out="$(bash "${BASH_SOURCE[0]}" start)"; then
		eval "$__spate_pg_out"
		unset __spate_pg_out
		return 0
	fi
	unset __spate_pg_out
	return 1
fi

set -euo pipefail

DIR="${SPATE_PG_DIR:-/tmp/spate-pg-test}"
[[ "$DIR" == /* ]] || DIR="$PWD/$DIR"
# The postgres user may not be able to enter the caller's directory.
cd /
DB="spate_test"
SUPERUSER="postgres"

log() { printf 'pg-test: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

find_bin() {
	if [[ -n "${PG_BIN:-}" ]]; then
		[[ -x "$PG_BIN/initdb" ]] || die "PG_BIN=$PG_BIN has no initdb"
		echo "$PG_BIN"
		return
	fi
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d="$(pg_config --bindir 2>/dev/null || true)"
		if [[ -n "$d" && -x "$d/initdb" ]]; then
			echo "$d"
			return
		fi
	fi
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
	if [[ -n "$d" && -x "$d/initdb" ]]; then
		echo "$d"
		return
	fi
	return 1
}

install_postgres() {
	[[ "${PG_TEST_NO_INSTALL:-}" != 1 ]] || die "no PostgreSQL binaries found (set PG_BIN) and PG_TEST_NO_INSTALL=1"
	[[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 ||
		die "no PostgreSQL binaries found: install PostgreSQL or set PG_BIN"
	log "installing PostgreSQL with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get update -qq >&2
	timeout 600 apt-get install -y -qq --no-install-recommends postgresql >&2
}

BIN="$(find_bin || true)"

# as_owner runs a command as the user that owns the cluster.
as_owner() {
	if [[ "$(id -u)" == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

state_port() { cat "$DIR/port" 2>/dev/null || true; }

url_for() { echo "postgres://$SUPERUSER@127.0.0.1:$1/$DB?sslmode=disable"; }

is_ready() {
	local port="$1"
	[[ -n "$port" && -n "$BIN" ]] || return 1
	"$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d "$DB" -U "$SUPERUSER" -t 2
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! port_in_use "$p"; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

stop() {
	if [[ -f "$DIR/data/postmaster.pid" && -n "$BIN" ]]; then
		log "stopping the server in $DIR"
		as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -t 30 -w stop >&2 || true
	fi
	rm -rf "$DIR"
}

start() {
	local port
	port="$(state_port)"
	if is_ready "$port"; then
		log "reusing the server on 127.0.0.1:$port"
		echo "export SPATE_TEST_POSTGRES_URL='$(url_for "$port")'"
		return
	fi
	if [[ -z "$BIN" ]]; then
		install_postgres
		BIN="$(find_bin)" || die "PostgreSQL binaries still missing after install"
	fi
	# Whatever is left from an earlier run is stale: clean it up.
	stop
	if [[ "$(id -u)" == 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root needs a postgres user to own the cluster"
	fi
	mkdir -p "$DIR"
	chmod 700 "$DIR"
	[[ "$(id -u)" != 0 ]] || chown postgres: "$DIR"
	log "initdb in $DIR/data ($BIN)"
	as_owner "$BIN/initdb" -D "$DIR/data" -U "$SUPERUSER" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
		>"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }

	local attempt
	for attempt in 1 2 3; do
		port="$(free_port)"
		log "starting on 127.0.0.1:$port"
		if as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start >&2; then
			break
		fi
		log "start on port $port failed (attempt $attempt)"
		tail -n 5 "$DIR/server.log" >&2 || true
		port=""
	done
	[[ -n "$port" ]] || die "the server did not start; see $DIR/server.log"
	echo "$port" >"$DIR/port"

	local i
	for i in $(seq 1 60); do
		if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -t 1; then
			break
		fi
		[[ "$i" != 60 ]] || die "the server is not ready after 30 s; see $DIR/server.log"
		sleep 0.5
	done
	as_owner "$BIN/createdb" -h 127.0.0.1 -p "$port" -U "$SUPERUSER" "$DB" >&2 || die "createdb failed"
	is_ready "$port" || die "the server does not answer on 127.0.0.1:$port"
	log "ready: $(url_for "$port")"
	echo "export SPATE_TEST_POSTGRES_URL='$(url_for "$port")'"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
url)
	port="$(state_port)"
	is_ready "$port" || die "no server is running (run: $0 start)"
	url_for "$port"
	;;
status)
	port="$(state_port)"
	if is_ready "$port"; then
		log "running on 127.0.0.1:$port"
	else
		log "not running"
		exit 1
	fi
	;;
*) die "usage: $0 [start|stop|url|status]" ;;
esac
