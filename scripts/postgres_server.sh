#!/usr/bin/env bash
# Starts a private PostgreSQL server on loopback for Stepwise's tests and benchmarks, as an
# unprivileged user (PostgreSQL refuses to run as root), and prints its URL. Installs Debian's
# postgresql package when no server binaries are found. The server also takes TLS, with a
# certificate for the name `localhost` only (so that a connection to 127.0.0.1 by address is not
# one its name checks accept) signed by a CA made for it (DIR/tls/ca.pem; DIR/tls/other-ca.pem is a CA that signed nothing),
# for the tests of `sslmode=verify-ca`, `verify-full` and `sslrootcert`.
#   scripts/postgres_server.sh start [DIR] [PORT]   → prints postgres://stepwise:…@127.0.0.1:PORT/postgres
#   scripts/postgres_server.sh stop  [DIR]
set -euo pipefail
action="${1:-start}"
dir="${2:-/tmp/stepwise-postgres}"
# Below Linux's ephemeral port range, so an outgoing connection never holds it.
port="${3:-25432}"
password="stepwise-test-password"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi

# Run PostgreSQL's programs as an unprivileged user when started as root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        id stepwise-pg > /dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin stepwise-pg
        runuser -u stepwise-pg -- "$@"
    else
        "$@"
    fi
}

# A CA, a server certificate it signs for localhost, and a second CA; made once (the certificate last).
make_certificates() {
    local tls="$1/tls"
    [ -f "$tls/server.crt" ] && return 0
    mkdir -p "$tls"
    # openssl's progress on standard error only when it fails.
    quiet_openssl() { openssl "$@" 2> "$tls/openssl.log" || { cat "$tls/openssl.log" >&2; return 1; }; }
    for ca in ca other-ca; do
        quiet_openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Stepwise test $ca" -keyout "$tls/$ca.key" -out "$tls/$ca.pem"
    done
    quiet_openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr"
    printf 'subjectAltName=DNS:localhost\n' > "$tls/server.ext"
    quiet_openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 3650 \
        -extfile "$tls/server.ext" -out "$tls/server.crt"
    chmod 600 "$tls/server.key"
    [ "$(id -u)" -eq 0 ] && chown -R stepwise-pg "$tls"
    return 0
}

case "$action" in
stop)
    [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
    ;;
start)
    if [ ! -d "$dir/data" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && { id stepwise-pg > /dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin stepwise-pg; chown stepwise-pg "$dir"; }
        printf '%s\n' "$password" > "$dir/password"
        [ "$(id -u)" -eq 0 ] && chown stepwise-pg "$dir/password"
        as_owner "$bindir/initdb" -D "$dir/data" -U stepwise --pwfile="$dir/password" --auth-host=scram-sha-256 --auth-local=scram-sha-256 > "$dir/initdb.log"
    fi
    make_certificates "$dir"
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status > /dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=500 -c fsync=on -c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key" start > /dev/null
    fi
    echo "postgres://stepwise:$password@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
*)
    echo "usage: $0 start|stop [DIR] [PORT]" >&2
    exit 2
    ;;
esac
