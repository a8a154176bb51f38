# Shared by the run-*.sh scripts: run a server in the foreground of this script,
# and make sure it never outlives the AppHost that started it.
#
#   run_owned COMMAND [ARGS...]
#
# Starts the server in the background and waits for it. SIGTERM or SIGINT to
# this script (the orchestrator stopping it, Ctrl+C) reach the server as the
# signal it stops fast on ($STOP_SIGNAL, default TERM). Once a second the
# script checks that the AppHost (CONTENTMAX_APPHOST_PID) is still alive: if it
# is gone, however it ended (kill -9 included), the server is stopped too.
# Exits with the server's status.
# Alive, and not a zombie waiting to be reaped.
owner_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

run_owned() {
  "$@" &
  local pid=$! owner=${CONTENTMAX_APPHOST_PID:-} status=0 stopping=
  local signal=${STOP_SIGNAL:-TERM}
  trap 'stopping=1; kill -'"$signal"' "$pid" 2>/dev/null' TERM INT
  while kill -0 "$pid" 2>/dev/null; do
    if [ -z "$stopping" ] && [ -n "$owner" ] && ! owner_alive "$owner"; then
      echo "The AppHost (pid $owner) is gone: stopping." >&2
      stopping=1
      kill -"$signal" "$pid" 2>/dev/null
    fi
    sleep 1 & wait $! 2>/dev/null || true
  done
  wait "$pid" 2>/dev/null || status=$?
  return "$status"
}
