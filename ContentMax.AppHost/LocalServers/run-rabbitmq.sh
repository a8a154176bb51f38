#!/usr/bin/env bash
# Runs a private RabbitMQ node for ContentMax in the foreground.
#   run-rabbitmq.sh DATA_DIR AMQP_PORT DIST_PORT EPMD_PORT PASSWORD_FILE
# Everything the node owns (mnesia, logs, the Erlang cookie in HOME) lives in
# DATA_DIR. epmd runs as its own resource on EPMD_PORT (run-epmd.sh), and the
# node is told never to start one itself (-start_epmd false): an `epmd -daemon`
# would outlive the app and hold the port.
set -euo pipefail
datadir=$1 amqp_port=$2 dist_port=$3 epmd_port=$4 pwfile=$5
mkdir -p "$datadir/mnesia" "$datadir/log"
umask 077
cat > "$datadir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp_port
default_user = contentmax
default_pass = $(cat "$pwfile")
loopback_users = none
CONF
echo '[].' > "$datadir/enabled_plugins"

export HOME="$datadir"
export RABBITMQ_NODENAME="contentmax@localhost"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$amqp_port"
export RABBITMQ_DIST_PORT="$dist_port"
export ERL_EPMD_PORT="$epmd_port"
export RABBITMQ_MNESIA_BASE="$datadir/mnesia"
export RABBITMQ_LOG_BASE="$datadir/log"
export RABBITMQ_LOGS=-
export RABBITMQ_ENABLED_PLUGINS_FILE="$datadir/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$datadir/rabbitmq.conf"
export RABBITMQ_PID_FILE="$datadir/rabbitmq.pid"
export ERL_FLAGS="-start_epmd false"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false"

# The node registers with epmd as it boots: wait until epmd listens.
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$epmd_port") 2>/dev/null && break
  sleep 0.1
done

source "$(dirname "$0")/lib.sh"
run_owned /usr/lib/rabbitmq/bin/rabbitmq-server
