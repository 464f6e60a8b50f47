# pg.sh: a real PostgreSQL 15 (Debian's) for the shared-store tests, the HA demo and the store
# bench, sourced after harness.sh. One throw-away cluster in $PG_DIR (under $H_DIR), trust
# authentication on loopback only, listening on 127.0.0.1:$PG_PORT and a Unix socket in $PG_DIR,
# run as an unprivileged user (PostgreSQL refuses root). Owns only that cluster: it is stopped
# when the sourcing shell exits, also when a test fails.
#
#   pg_require                     # skips the test (77) when PostgreSQL 15 is not installed
#   pg_start                       # initdb on first use, then until it accepts connections
#   pg_sql "SELECT 1"              # psql -Atq as the superuser, in the database gatewayd
#   pg_stop fast|immediate         # stops it (a database outage); pg_start brings it back
#   pg_restart                     # fast stop, then start again on the same port and data

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=${PG_DIR:-$H_DIR/pg}      # data in $PG_DIR/data, the Unix socket and its lock in $PG_DIR
PG_DB=${PG_DB:-gatewayd}         # the database the gateways share (made by the first pg_start)
PG_SUPERUSER=postgres            # initdb's superuser (-U)
PG_PORT=${PG_PORT:-}
# The cluster's owner: ourselves, or an unprivileged system user when we are root.
if [[ $(id -u) == 0 ]]; then
	PG_OS_USER=${PG_OS_USER:-nobody}
else
	PG_OS_USER=$(id -un)
fi

# pg_available: Debian's PostgreSQL 15 server and client programs are installed.
pg_available() {
	local p
	for p in initdb postgres pg_isready psql; do
		[[ -x $PG_BIN/$p ]] || return 1
	done
}

# pg_require: skips the test (exit 77) when PostgreSQL is absent; never fails for that.
pg_require() {
	pg_available || h_skip "PostgreSQL 15 not installed ($PG_BIN: initdb, postgres, psql)"
}

# PG_AS: the command prefix running a program as the cluster's owner (setpriv execs: no process
# left between the harness and postgres, so its signals reach the postmaster itself).
PG_AS=()
if [[ $(id -u) == 0 ]]; then
	PG_AS=(setpriv --reuid="$(id -u "$PG_OS_USER")" --regid="$(id -g "$PG_OS_USER")" --clear-groups
		-- env HOME=/)
fi

# pg_as CMD...: CMD as the cluster's owner.
pg_as() { "${PG_AS[@]}" "$@"; }

# pg_initdb: a new cluster in $PG_DIR/data, on 127.0.0.1:$PG_PORT, trust on loopback only.
pg_initdb() {
	mkdir -p "$PG_DIR" || return 1
	[[ $(id -u) == 0 ]] && chown "$PG_OS_USER:" "$PG_DIR"
	chmod 0700 "$PG_DIR"
	pg_as test -w "$PG_DIR" ||
		{ h_log "pg: $PG_OS_USER cannot reach $PG_DIR (a parent directory not searchable?)"; return 1; }
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_SUPERUSER" -A trust -E UTF8 --locale=C \
		--no-sync --no-instructions >>"$H_DIR/pg-initdb.log" 2>&1 ||
		{ h_log "pg: initdb failed:"; cat "$H_DIR/pg-initdb.log" >&2; return 1; }
	# Only connections from this machine, only over loopback or our own socket directory.
	printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' >"$PG_DIR/data/pg_hba.conf"
	# fsync off: a test cluster, thrown away; the outage tests stop it, they do not crash the disk.
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
		# tests/lib/pg.sh
		listen_addresses = '127.0.0.1'
		port = $PG_PORT
		unix_socket_directories = '$PG_DIR'
		max_connections = 200
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		logging_collector = off
		log_min_messages = warning
		# In a chroot /dev/shm may be a bare directory nobody can write: files in the cluster.
		dynamic_shared_memory_type = mmap
	EOF
}

# pg_postmaster_pid: the running postmaster's pid (first line of postmaster.pid), if any.
pg_postmaster_pid() { head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null; }

# pg_ready: the server accepts connections on its port.
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres; }

# pg_start: initdb on first use, starts postgres (process "postgres" of the harness, log
# $H_DIR/postgres.log) and waits until it accepts connections; the first start also creates the
# database $PG_DB. Later starts (after pg_stop) keep the data, the port and the socket.
pg_start() {
	local first=0
	pg_available || { h_log "pg: no PostgreSQL in $PG_BIN"; return 1; }
	if [[ ! -f $PG_DIR/data/PG_VERSION ]]; then
		[[ -n $PG_PORT ]] || h_free_port PG_PORT || return 1
		pg_initdb || return 1
		first=1
		# However the shell ends, a fast shutdown first (h_cleanup's SIGTERM to the group is a
		# smart shutdown, which would wait for the gateways' connections): no stale cluster
		# or shared memory is left behind.
		h_defer "p=\$(head -n 1 '$PG_DIR/data/postmaster.pid' 2>/dev/null) && kill -INT \$p &&" \
			"for i in \$(seq 100); do kill -0 \$p 2>/dev/null || break; sleep 0.1; done"
	elif [[ -n $(h_pid postgres) ]] && pg_ready; then
		return 0 # already running
	fi
	h_spawn postgres "$H_DIR/postgres.log" "${PG_AS[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data"
	if ! h_wait_for "$H_START_TIMEOUT" pg_ready; then
		h_log "pg: postgres did not start:"; tail -n 20 "$H_DIR/postgres.log" >&2
		return 1
	fi
	if ((first)); then
		pg_sql_db postgres "CREATE DATABASE $PG_DB" || return 1
	fi
}

# pg_stop [fast|immediate]: stops the server (default fast: clients disconnected, a clean
# checkpoint; immediate: as if it crashed) and waits until it is gone.
pg_stop() {
	local pid sig
	case ${1:-fast} in
	fast) sig=INT ;;
	immediate) sig=QUIT ;;
	smart) sig=TERM ;;
	*) h_log "pg_stop: fast, immediate or smart, not $1"; return 1 ;;
	esac
	pid=$(h_pid postgres)
	[[ -n $pid ]] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	h_wait_for 30 h_gone "$pid" || { h_log "pg: postgres $pid did not stop"; return 1; }
	awk '$1 != "postgres"' "$H_DIR/pids" >"$H_DIR/pids.new" && mv "$H_DIR/pids.new" "$H_DIR/pids"
}

# pg_restart [fast|immediate]: stop, then start on the same data, port and socket.
pg_restart() { pg_stop "${1:-fast}" && pg_start; }

# pg_psql [PSQL-ARGS...]: psql over loopback TCP (as the gateways connect), no psqlrc, stopping
# at the first error.
pg_psql() {
	"$PG_BIN/psql" -X -Atq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" "$@"
}

# pg_sql SQL: runs SQL as the superuser in $PG_DB; rows on stdout, one a line, fields by '|'.
pg_sql() { pg_psql -U "$PG_SUPERUSER" -d "$PG_DB" -c "$1"; }

# pg_sql_db DB SQL: the same in another database.
pg_sql_db() { pg_psql -U "$PG_SUPERUSER" -d "$1" -c "$2"; }

# pg_sql_as ROLE SQL: runs SQL as the login role ROLE in $PG_DB (errors on stderr, status 1+).
pg_sql_as() { pg_psql -U "$1" -d "$PG_DB" -c "$2"; }

# pg_conninfo ROLE: the libpq connection string a gateway logging in as ROLE uses.
pg_conninfo() { echo "host=127.0.0.1 port=$PG_PORT dbname=$PG_DB user=$1 connect_timeout=5"; }
