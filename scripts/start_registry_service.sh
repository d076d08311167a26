#!/usr/bin/env bash
# Start the Agent Registry Service in the background and wait until /health answers.
#   local (default)  build if the sources changed, then run the compiled service (node dist/jarvis_agent/service-cli.js serve)
#   --reload         run from source and restart on every change (tsx watch, as `npm run dev`)
#   --docker         build and start the `registry` service of docker-compose.yml
# The earlier instance of this pidfile is stopped first; another process on the port is left alone and the
# start refused, unless --force. Details and variables: docs/deployment.md.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/service-control.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/service-control.sh"

usage() {
  cat <<EOF
Usage: scripts/start_registry_service.sh [--reload | --docker] [--force]

  --reload   run from source and restart on change (development)
  --docker   start the service with docker compose (needs a Docker engine)
  --force    stop whatever other process holds the port (after saying which)

Environment: PORT (8003), HOST (127.0.0.1), DATA_DIR (./data), GOOGLE_API_KEY, REGISTRY_PID_FILE
(run/registry.pid), REGISTRY_LOG_FILE (logs/registry.log), REGISTRY_LOG_MAX_BYTES (10485760),
REGISTRY_LOG_FILES (5), REGISTRY_START_TIMEOUT (60 s), REGISTRY_STOP_TIMEOUT (15 s); the service's own
variables (REGISTRY_ADMIN_TOKEN, ...) are passed through.
EOF
}

MODE=local
FORCE=0
while (($# > 0)); do
  case "$1" in
    --reload | --docker)
      [ "$MODE" = local ] || fail 2 "--reload and --docker cannot be combined"
      MODE=${1#--}
      ;;
    --force) FORCE=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      fail 2 "unknown option: $1"
      ;;
  esac
  shift
done

PORT=${PORT:-8003}
HOST=${HOST:-127.0.0.1}
DATA_DIR=$(abs_path "${DATA_DIR:-$REGISTRY_ROOT/data}")
LOG_FILE=$(abs_path "${REGISTRY_LOG_FILE:-$REGISTRY_ROOT/logs/registry.log}")
LOG_MAX_BYTES=${REGISTRY_LOG_MAX_BYTES:-10485760}
LOG_FILES=${REGISTRY_LOG_FILES:-5}
START_TIMEOUT=${REGISTRY_START_TIMEOUT:-60}
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
  fail 2 "PORT=\"$PORT\" must be a port number between 1 and 65535"
fi
require_count REGISTRY_LOG_MAX_BYTES "$LOG_MAX_BYTES" 1
require_count REGISTRY_LOG_FILES "$LOG_FILES" 1
require_count REGISTRY_START_TIMEOUT "$START_TIMEOUT" 1
export PORT HOST DATA_DIR

# Where /health can be reached: a wildcard bind answers on loopback.
case "$HOST" in
  0.0.0.0) PROBE_HOST=127.0.0.1 ;;
  :: | "[::]") PROBE_HOST="[::1]" ;;
  \[*) PROBE_HOST=$HOST ;;
  *:*) PROBE_HOST="[$HOST]" ;;
  *) PROBE_HOST=$HOST ;;
esac
BASE_URL="http://$PROBE_HOST:$PORT"

# Append a line to the console and to the log file.
note() {
  say "$*"
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "start_registry_service: $*" >>"$LOG_FILE"
}

# The HTTP status of GET /health ("000" when nothing answers).
health_status() {
  node -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then(
      (response) => console.log(response.status),
      () => console.log("000"),
    );' "$BASE_URL/health"
}

# Refuse (or, with --force, stop) any process on the port that is not the instance $1 of this pidfile.
check_port() {
  local own=$1 pid command
  for pid in $(port_listeners "$PORT"); do
    if [ "$pid" = '?' ]; then
      fail 1 "port $PORT is in use by a process this user cannot see (try: sudo ss -ltnp 'sport = :$PORT'); set PORT to a free port"
    fi
    if [ -n "$own" ] && descends_from "$pid" "$own"; then continue; fi
    command=$(process_command "$pid")
    if ((FORCE)); then
      note "--force: stopping process $pid ($command), which holds port $PORT"
      stop_process "$pid"
    else
      fail 1 "port $PORT is in use by process $pid ($command). Stop it, set PORT to a free port, or pass --force to stop it."
    fi
  done
}

# Build when dist/ is missing or older than any source (the stamp is written after each build here).
build_if_needed() {
  local stamp=dist/.build-stamp changed
  [ -x node_modules/.bin/tsc ] || fail 1 "node_modules is missing or incomplete in $REGISTRY_ROOT: run npm ci first"
  mkdir -p dist
  exec 9>dist/.build-lock
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if [ -f dist/jarvis_agent/service-cli.js ] && [ -f "$stamp" ]; then
    changed=$(find src jarvis_agent scripts package.json package-lock.json tsconfig.json tsconfig.build.json \
      -newer "$stamp" \( -name '*.ts' -o -name '*.sql' -o -name '*.json' -o -name '*.mjs' \) -print -quit)
    if [ -z "$changed" ]; then
      exec 9>&-
      return 0
    fi
  fi
  note "building (npm run build)"
  touch "$stamp.next"
  npm run --silent build || fail 1 "the build failed (see above)"
  mv "$stamp.next" "$stamp"
  exec 9>&-
}

# Start the service detached from this terminal, in a session and process group of its own that also holds
# its log writer (so stopping the group waits until the last line is written). Sets SERVICE_PID, and
# SERVICE_GROUP when the service leads that group.
launch() {
  local detach=() command=(node dist/jarvis_agent/service-cli.js serve)
  [ "$MODE" = reload ] && command=(node_modules/.bin/tsx watch --clear-screen=false jarvis_agent/service-cli.ts serve)
  SERVICE_GROUP=""
  if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi
  # shellcheck disable=SC2016 # expanded by the inner bash
  ${detach[@]+"${detach[@]}"} bash -c '
    log=$1 max=$2 keep=$3
    shift 3
    exec "$@" </dev/null > >(exec node scripts/rotate-log.mjs "$log" "$max" "$keep" >/dev/null 2>&1) 2>&1
  ' launch "$LOG_FILE" "$LOG_MAX_BYTES" "$LOG_FILES" "${command[@]}" &
  SERVICE_PID=$!
  ((${#detach[@]} == 0)) || SERVICE_GROUP=$SERVICE_PID
  printf '%s\n' "$SERVICE_PID" >"$PID_FILE.tmp"
  mv "$PID_FILE.tmp" "$PID_FILE"
}

# The service is gone: give its log writer a moment to write the last lines, then show what it logged
# since offset $1.
show_log_since() {
  [ -z "$SERVICE_GROUP" ] || wait_gone "$SERVICE_PID" "$SERVICE_GROUP" 5 || true
  tail -c +"$(($1 + 1))" "$LOG_FILE" >&2 || true
}

# Wait until /health answers 200, the service exits, or START_TIMEOUT passes; $1 is the log offset at launch.
wait_until_healthy() {
  local offset=$1 deadline=$((SECONDS + START_TIMEOUT)) status
  while :; do
    if ! process_alive "$SERVICE_PID"; then
      show_log_since "$offset"
      rm -f "$PID_FILE"
      fail 1 "the service exited during start-up (output above; log: $LOG_FILE)"
    fi
    status=$(health_status)
    [ "$status" = 200 ] && return 0
    if ((SECONDS >= deadline)); then
      stop_process "$SERVICE_PID" --group
      show_log_since "$offset"
      rm -f "$PID_FILE"
      fail 1 "no healthy answer from $BASE_URL/health within ${START_TIMEOUT}s (last status $status); stopped it"
    fi
    sleep 0.2
  done
}

print_urls() {
  say "Agent Registry Service is up ($1)"
  say "  service: $BASE_URL"
  say "  docs:    $BASE_URL/docs"
  say "  health:  $BASE_URL/health"
}

start_local() {
  local own offset
  mkdir -p "$(dirname "$PID_FILE")"
  own=$(own_instance)
  check_port "$own"
  if [ -n "$own" ]; then
    note "stopping the earlier instance (pid $own, $PID_FILE)"
    stop_process "$own" --group
    rm -f "$PID_FILE"
  fi
  cd "$REGISTRY_ROOT"
  if [ "$MODE" = local ]; then
    build_if_needed
  else
    [ -x node_modules/.bin/tsx ] || fail 1 "node_modules is missing or incomplete in $REGISTRY_ROOT: run npm ci first"
  fi
  offset=$(wc -c <"$LOG_FILE")
  note "starting ($MODE mode) on $HOST:$PORT, data in $DATA_DIR"
  launch
  wait_until_healthy "$offset"
  # What the service logged while starting.
  tail -c +"$((offset + 1))" "$LOG_FILE" | grep -v '^[0-9TZ:-]* start_registry_service: ' || true
  print_urls "pid $SERVICE_PID"
  say "  log:     $LOG_FILE (follow: tail -F $LOG_FILE)"
  say "  stop:    scripts/stop_registry_service.sh"
}

start_docker() {
  local own running owner deadline=$((SECONDS + START_TIMEOUT))
  compose version >/dev/null
  docker info >/dev/null 2>&1 || fail 1 "--docker: no Docker engine answers (docker info failed); start Docker or run without --docker"
  own=$(own_instance)
  if [ -n "$own" ]; then
    note "stopping the local instance (pid $own) first: the container publishes the same port"
    stop_process "$own" --group
    rm -f "$PID_FILE"
  fi
  running=$(compose ps --quiet --status running "$COMPOSE_SERVICE" 2>/dev/null || true)
  [ -n "$running" ] || check_port ""
  owner=$(stat -c %u "$DATA_DIR")
  [ "$owner" = 1000 ] ||
    warn "the container runs as uid 1000 (node) and $DATA_DIR belongs to uid $owner: if the service cannot write, run: chown 1000:1000 $DATA_DIR"
  note "starting ($MODE mode): docker compose up --build $COMPOSE_SERVICE, published on $HOST:$PORT, data in $DATA_DIR"
  compose up --detach --build "$COMPOSE_SERVICE"
  until [ "$(health_status)" = 200 ]; do
    if ((SECONDS >= deadline)); then
      compose logs --tail 50 "$COMPOSE_SERVICE" >&2 || true
      fail 1 "no healthy answer from $BASE_URL/health within ${START_TIMEOUT}s (container log above)"
    fi
    sleep 0.2
  done
  print_urls "container"
  say "  log:     docker compose logs -f $COMPOSE_SERVICE"
  say "  stop:    scripts/stop_registry_service.sh --docker"
}

mkdir -p "$DATA_DIR" "$(dirname "$LOG_FILE")"
touch "$LOG_FILE"
if [ -z "${GOOGLE_API_KEY:-}" ]; then
  warn "GOOGLE_API_KEY is not set: the agents and the router run offline (set it to use Gemini)"
fi
if [ "$MODE" = docker ]; then start_docker; else start_local; fi
