#!/usr/bin/env bash
# A private PostgreSQL server on 127.0.0.1 for the `postgres` target's tests and for trying the target locally.
#   scripts/postgres.sh install          Debian's postgresql package, when its server binaries are missing (root)
#   scripts/postgres.sh start DIR PORT   initdb DIR on first use, start on 127.0.0.1:PORT unless running, create
#                                        database dwell
#   scripts/postgres.sh stop DIR         stop the server whose data directory is DIR
# The server trusts local connections from user `postgres` and is reachable on loopback only. As root, initdb and
# the server run as the `postgres` system user (PostgreSQL refuses to run as root).
set -euo pipefail

bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$found" ]; then
        echo "PostgreSQL's server binaries are missing: run 'scripts/postgres.sh install' as root." >&2
        exit 1
    fi
    echo "$found"
}

as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-}" in
    install)
        if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        fi
        ;;
    start)
        data_dir=${2:?data directory}
        port=${3:?port}
        bin=$(bindir)
        mkdir -p "$data_dir"
        if [ "$(id -u)" -eq 0 ]; then
            chown postgres: "$data_dir"
        fi
        if [ ! -f "$data_dir/PG_VERSION" ]; then
            as_server_user "$bin/initdb" --pgdata="$data_dir" --username=postgres --auth=trust --encoding=UTF8 \
                --locale=C.UTF-8 >/dev/null
        fi
        if ! as_server_user "$bin/pg_ctl" --pgdata="$data_dir" status >/dev/null; then
            # The socket goes in the data directory: /var/run/postgresql may not exist or be writable. A test
            # server's data is thrown away, so durability settings are off.
            as_server_user "$bin/pg_ctl" --pgdata="$data_dir" --log="$data_dir/server.log" --wait \
                --options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
                start >/dev/null
        fi
        if ! as_server_user "$bin/psql" --host=127.0.0.1 --port="$port" --username=postgres --dbname=postgres \
                --tuples-only --no-align --command="select 1 from pg_database where datname = 'dwell'" | grep -q 1; then
            as_server_user "$bin/createdb" --host=127.0.0.1 --port="$port" --username=postgres dwell
        fi
        ;;
    stop)
        data_dir=${2:?data directory}
        as_server_user "$(bindir)/pg_ctl" --pgdata="$data_dir" --mode=fast --wait stop >/dev/null
        ;;
    *)
        echo "usage: $0 install | start DIR PORT | stop DIR" >&2
        exit 2
        ;;
esac
