#!/usr/bin/env bash
# Runs a private Redis server for ContentMax in the foreground.
#   run-redis.sh DATA_DIR PORT PASSWORD_FILE
# The password goes into a config file readable only by its owner, never onto
# the command line where `ps` would show it.
set -euo pipefail
datadir=$1 port=$2 pwfile=$3
mkdir -p "$datadir"
conf="$datadir/redis.conf"
umask 077
cat > "$conf" <<CONF
port $port
bind 127.0.0.1
dir $datadir
daemonize no
appendonly yes
save ""
requirepass $(cat "$pwfile")
CONF
source "$(dirname "$0")/lib.sh"
run_owned redis-server "$conf"
