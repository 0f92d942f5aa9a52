#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster:
#   scripts/with-postgres.sh CMD [ARGS...]
# The cluster lives in a temporary directory, listens only on 127.0.0.1 (on a free port)
# and on a socket inside that directory, trusts loopback connections, and is stopped and
# deleted when the command ends, however it ends. The command sees
#   DATABASE_URL=postgres://linli@127.0.0.1:PORT/linli   (linli is a superuser, so
# pytest-django can create its test_* databases, one per xdist worker).
# Durability is switched off (fsync etc.): the data is thrown away anyway.
set -euo pipefail

if (($# == 0)); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

DB_USER=linli
DB_NAME=linli
PG_SYSTEM_USER=linli-pg

# The server binaries: on PATH, or where Debian's postgresql package puts them.
pg_bin=""
if command -v pg_ctl >/dev/null && command -v initdb >/dev/null && command -v postgres >/dev/null; then
    pg_bin=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
else
    pg_bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1 || true)
fi
if [[ -z $pg_bin || ! -x $pg_bin/pg_ctl ]]; then
    echo "with-postgres: PostgreSQL server binaries not found; run scripts/bootstrap.sh (Debian package postgresql)." >&2
    exit 1
fi
psql_bin=$pg_bin/psql
[[ -x $psql_bin ]] || psql_bin=$(command -v psql)

# PostgreSQL refuses to run as root: run the server as an unprivileged system user.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
    if ! id -u "$PG_SYSTEM_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            "$PG_SYSTEM_USER"
    fi
    as_pg=(runuser -u "$PG_SYSTEM_USER" --)
fi

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

started_at=$EPOCHREALTIME
tmp=$(mktemp -d "${TMPDIR:-/tmp}/linli-pg.XXXXXX")
data=$tmp/data
log=$tmp/server.log

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -f $data/postmaster.pid ]]; then
        (cd "$tmp" && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ((${#as_pg[@]})); then
    chown "$PG_SYSTEM_USER" "$tmp"
fi
chmod 700 "$tmp"

# Commands run as the server user start in $tmp: it may not be able to read our cwd.
if ! (cd "$tmp" && "${as_pg[@]}" "$pg_bin/initdb" -D "$data" -U "$DB_USER" --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$tmp/initdb.log" 2>&1); then
    echo "with-postgres: initdb failed:" >&2
    cat "$tmp/initdb.log" >&2
    exit 1
fi

port=""
for _attempt in 1 2 3 4 5; do
    port=$(free_port)
    # One line: pg_ctl hands -o to a shell, where a newline would end the command and
    # silently drop every option after it (it did: max_connections stayed at 100).
    server_options="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$tmp'"
    server_options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    server_options+=" -c max_connections=600 -c shared_buffers=128MB"
    # No autovacuum: it would ANALYZE a table while a test's data sits uncommitted in it,
    # record it as empty, and the planner then nested-loops the next test's thousands of
    # rows (a 2,000-household count ran for 12 minutes). Never-analyzed tables are
    # estimated from their size instead, which is right for a test's data.
    server_options+=" -c autovacuum=off"
    if (cd "$tmp" && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "$server_options" \
        start >/dev/null 2>&1); then
        break
    fi
    port=""
    # A port taken between choosing and binding: try another one.
    grep -q -i 'address already in use\|could not bind' "$log" 2>/dev/null || break
done
if [[ -z $port ]]; then
    echo "with-postgres: the server did not start:" >&2
    cat "$log" >&2 || true
    exit 1
fi

"$psql_bin" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres \
    -c "CREATE DATABASE $DB_NAME" >/dev/null

elapsed=$(awk -v a="$started_at" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
echo "with-postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, ready in ${elapsed}s" >&2

export DATABASE_URL="postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=$DB_USER PGDATABASE=$DB_NAME

set +e
"$@"
rc=$?
set -e
exit "$rc"
