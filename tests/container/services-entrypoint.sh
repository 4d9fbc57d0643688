#!/bin/sh
# See services.Containerfile.
set -eu
if [ "${1:-}" = redis-server ]; then
  exec "$@" --bind 0.0.0.0 --protected-mode no
fi
PGBIN=/usr/lib/postgresql/15/bin
DATA=/var/lib/postgresql/data
chown postgres:postgres "$DATA" && chmod 0700 "$DATA"
if [ ! -s "$DATA/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pw
  runuser -u postgres -- "$PGBIN/initdb" -D "$DATA" -U "$POSTGRES_USER" --pwfile=/tmp/pw --auth-host=scram-sha-256 --auth-local=trust -E UTF8 >/dev/null
  rm -f /tmp/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$DATA/pg_hba.conf"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -o "-c listen_addresses=''" -w start >/dev/null
  runuser -u postgres -- psql -q -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\""
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
fi
exec runuser -u postgres -- "$PGBIN/postgres" -D "$DATA" -c listen_addresses='*'
