#!/usr/bin/env bash
# Starts a private PostgreSQL server on loopback for Stepwise's tests and benchmarks, as an
# unprivileged user (PostgreSQL refuses to run as root), and prints its URL. Installs Debian's
# postgresql package when no server binaries are found. The server also takes TLS, with a
# certificate for the name `localhost` only (so that a connection to 127.0.0.1 by address is not
# one its name checks accept) signed by a CA made for it (DIR/tls/ca.pem; DIR/tls/other-ca.pem is a CA that signed nothing),
# for the tests of `sslmode=verify-ca`, `verify-full` and `sslrootcert`. Its database stepwise_cert takes
# only TLS connections that show a client certificate the CA signed for the user's name (pg_hba `cert`):
# DIR/tls/client.crt and client.key for the user stepwise, client-encrypted.key the same key under
# the passphrase in DIR/tls/client-key-password, stranger.crt and stranger.key a certificate for
# stepwise that the other CA signed. Its Unix-domain socket is in DIR (`host=DIR`).
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

# A CA, a server certificate it signs for localhost, a second CA, client certificates; made once
# (the stranger's certificate last).
make_certificates() {
    local tls="$1/tls"
    [ -f "$tls/stranger.crt" ] && return 0
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
    # The client's files stay their maker's: libpq and Stepwise refuse a key that others can read.
    [ "$(id -u)" -eq 0 ] && chown -R stepwise-pg "$tls"/ca.* "$tls"/server.* "$tls"
    sign_client client ca
    sign_client stranger other-ca
    printf 'stepwise-key-password\n' > "$tls/client-key-password"
    quiet_openssl pkey -in "$tls/client.key" -aes256 -passout "file:$tls/client-key-password" -out "$tls/client-encrypted.key"
    chmod 600 "$tls/client-encrypted.key"
    return 0
}

# A certificate NAME.crt for the database user stepwise, signed by CA, and its key NAME.key.
sign_client() {
    local name="$1" ca="$2"
    quiet_openssl req -newkey rsa:2048 -nodes -subj "/CN=stepwise" -keyout "$tls/$name.key" -out "$tls/$name.csr"
    quiet_openssl x509 -req -in "$tls/$name.csr" -CA "$tls/$ca.pem" -CAkey "$tls/$ca.key" -CAcreateserial -days 3650 -out "$tls/$name.crt"
    chmod 600 "$tls/$name.key"
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
    # TLS connections to the database stepwise_cert authenticate by client certificate only (the
    # first line that matches counts).
    grep -q '^hostssl stepwise_cert' "$dir/data/pg_hba.conf" ||
        as_owner sed -i '1i hostssl stepwise_cert all 127.0.0.1/32 cert' "$dir/data/pg_hba.conf"
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status > /dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=500 -c fsync=on -c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key -c ssl_ca_file=$dir/tls/ca.pem" start > /dev/null
    fi
    PGPASSWORD="$password" "$bindir/psql" -X -q -h "$dir" -p "$port" -U stepwise -d postgres -At \
        -c "SELECT 1 FROM pg_database WHERE datname = 'stepwise_cert'" | grep -q 1 ||
        PGPASSWORD="$password" "$bindir/psql" -X -q -h "$dir" -p "$port" -U stepwise -d postgres -c "CREATE DATABASE stepwise_cert" > /dev/null
    echo "postgres://stepwise:$password@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
*)
    echo "usage: $0 start|stop [DIR] [PORT]" >&2
    exit 2
    ;;
esac
