#!/usr/bin/env bash
# Entrypoint following the official postgres image's contract, trimmed to what
# the product's tests rely on:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default $POSTGRES_USER),
#   PGDATA, POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default
#   scram-sha-256); POSTGRES_PASSWORD_FILE and friends; initdb on first start; /docker-entrypoint-initdb.d/*.sh,
#   *.sql, *.sql.gz run once, in name order; postgres exec'd as PID 1.
set -Eeuo pipefail

# VAR_FILE names a file holding VAR, as in the official image (how Kubernetes
# hands over the password without putting it in the environment).
file_env() {
  local var="$1" file_var="${1}_FILE"
  if [ -n "${!file_var:-}" ]; then
    export "$var"="$(<"${!file_var}")"
    unset "$file_var"
  fi
}
file_env POSTGRES_PASSWORD
file_env POSTGRES_USER
file_env POSTGRES_DB

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export POSTGRES_USER POSTGRES_DB PGDATA POSTGRES_HOST_AUTH_METHOD

log() { echo "docker-entrypoint: $*" >&2; }

# As root: own the data directory, then re-run this script as postgres.
drop_root() {
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA" || :
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 2777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
}

init_cluster() {
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    log "error: database is uninitialized and POSTGRES_PASSWORD is not set"
    log "       (set it, or POSTGRES_HOST_AUTH_METHOD=trust for a throwaway instance)"
    exit 1
  fi
  log "initializing $PGDATA"
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a word list by contract
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-} >/dev/null
  # initdb trusts local sockets and loopback; anything else needs the password.
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # A socket-only server for the setup steps, so nothing can connect before
  # the init scripts have run.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
  export PGUSER="$POSTGRES_USER" PGPASSWORD="${POSTGRES_PASSWORD:-}"
  local psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  local f
  if [ -d /docker-entrypoint-initdb.d ] && [ ! -r /docker-entrypoint-initdb.d ]; then
    log "warning: /docker-entrypoint-initdb.d is not readable by $(id -un): init scripts skipped"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then log "running $f"; "$f"
        else log "sourcing $f"; # shellcheck disable=SC1090
          . "$f"; fi ;;
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      *) if [ -e "$f" ]; then log "ignoring $f"; fi ;;
    esac
  done
  unset PGPASSWORD
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "init done; starting postgres"
}

main() {
  if [ $# -eq 0 ]; then set -- postgres; fi
  # Options alone mean "postgres with these options", as in the official image.
  if [ "${1:0:1}" = "-" ]; then set -- postgres "$@"; fi
  if [ "${1:-}" = postgres ]; then
    if [ "$(id -u)" = 0 ]; then drop_root "$@"; fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then init_cluster; fi
  fi
  exec "$@"
}

main "$@"
