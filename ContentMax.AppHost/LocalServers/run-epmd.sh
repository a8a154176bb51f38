#!/usr/bin/env bash
# Runs the Erlang port mapper for the private RabbitMQ node, in the foreground.
#   run-epmd.sh PORT
set -euo pipefail
port=$1
source "$(dirname "$0")/lib.sh"
run_owned epmd -port "$port" -address 127.0.0.1
