#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 for the distributed-tuning test and print
# its URL. Installs the server from Debian packages when it is missing. Prints nothing
# (and the test skips with its reason) when no server can be started.
set -u
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 || exit 0
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$version main"; then
  pg_createcluster "$version" main >&2 || exit 0
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || true
pg_lsclusters -h | grep -q "^$version main .* online" || exit 0
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'foldwise'\"" >&2 || exit 0
su postgres -c "dropdb --if-exists foldwise_test && createdb foldwise_test" >&2 || exit 0
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
echo "postgresql://postgres:foldwise@127.0.0.1:${port}/foldwise_test"
