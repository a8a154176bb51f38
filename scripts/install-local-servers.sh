#!/usr/bin/env bash
# Installs the servers that ContentMax runs as local processes when no container
# runtime is available: PostgreSQL, Redis and RabbitMQ (with Erlang's epmd).
# With --with-browser it also installs Chromium for the browser tests; with
# --with-node, Node.js and npm, which the dashboard's build uses to bundle its
# browser monitoring scripts; --only-node installs just those (the dashboard's
# build runs that itself when they are missing); --with-prometheus, Prometheus,
# which the remote write integration test runs as a scraper and sender;
# --with-alertmanager, Prometheus's Alertmanager, which the alerting tests
# deliver alerts into.
# Debian/Ubuntu only. Idempotent: installs only what is missing, and never
# starts the distribution's own system services. Safe to run several at once
# (the AppHost, the dashboard's build and the tests each may): one runs at a
# time, and each decides what is missing only once it holds the lock.
#   scripts/install-local-servers.sh [--with-browser] [--with-node | --only-node] [--with-prometheus] [--with-alertmanager]
set -euo pipefail

with_browser=0
with_node=0
with_prometheus=0
with_alertmanager=0
servers=1
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    --with-node) with_node=1 ;;
    --only-node) with_node=1; servers=0 ;;
    --with-prometheus) with_prometheus=1 ;;
    --with-alertmanager) with_alertmanager=1 ;;
    *) echo "install-local-servers: unknown option $arg" >&2; exit 2 ;;
  esac
done

# apt takes dpkg's lock and fails at once when another install holds it.
lock=${TMPDIR:-/tmp}/contentmax-install-local-servers.lock
[ -e "$lock" ] || : >>"$lock"
exec 9<"$lock"
if ! flock -w 900 9; then
  echo "install-local-servers: another install has held $lock for 15 minutes; giving up." >&2
  exit 1
fi

need=()
if [ "$servers" = 1 ]; then
  [ -x /usr/lib/postgresql/15/bin/postgres ] || [ -n "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ] || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
fi
if [ "$with_browser" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ "$with_prometheus" = 1 ]; then
  [ -x /usr/bin/prometheus ] || need+=(prometheus)
fi
if [ "$with_alertmanager" = 1 ]; then
  [ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
fi
if [ "$with_node" = 1 ]; then
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
fi

if [ ${#need[@]} -eq 0 ]; then
  echo "install-local-servers: everything is already installed."
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-local-servers: need root (or sudo) to install: ${need[*]}" >&2
    exit 1
  fi
fi

echo "install-local-servers: installing ${need[*]}"
# Keep the packages' post-install scripts from starting system-wide services:
# ContentMax starts its own private instances on its own ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
# Anything else installing (unattended upgrades) is waited for, not failed on.
apt_wait=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${apt_wait[@]}" update -qq
$SUDO apt-get "${apt_wait[@]}" install -y -qq --no-install-recommends "${need[@]}"
echo "install-local-servers: done."
