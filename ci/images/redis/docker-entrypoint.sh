#!/bin/sh
# Mimics the official redis image's entrypoint: options alone mean
# redis-server, the server drops root, and without a config file it listens on
# all interfaces with protected mode off (the official image patches those
# defaults into its build; Debian's binary keeps upstream's, so pass them as
# flags *before* the caller's so that the caller's flags still win).
set -e

# First argument is an option (`--requirepass x`) or a config file.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = "redis-server" ]; then
  shift
  case "${1:-}" in
    # A config file must stay first; it sets its own bind/protected-mode.
    *.conf) conf="$1"; shift; set -- redis-server "$conf" "$@" ;;
    # Informational modes take no config options.
    -v|--version|-h|--help|--test-memory|--check-system) set -- redis-server "$@" ;;
    *) set -- redis-server --protected-mode no --bind 0.0.0.0 "$@" ;;
  esac
  if [ "$(id -u)" = "0" ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi

exec "$@"
