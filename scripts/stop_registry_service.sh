#!/usr/bin/env bash
# Stop the Agent Registry Service started by start_registry_service.sh: SIGTERM through the pidfile (the
# service finishes the requests in flight), SIGKILL after REGISTRY_STOP_TIMEOUT seconds (15), then the
# pidfile is removed. --docker stops the compose `registry` container instead.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/service-control.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/service-control.sh"

case "${1:-}" in
  "") ;;
  --docker)
    # Compose interpolates the whole file even to stop: the required tokens need a value, any value.
    REGISTRY_ADMIN_TOKEN=${REGISTRY_ADMIN_TOKEN:-unused-when-stopping} \
      REGISTRY_API_TOKEN=${REGISTRY_API_TOKEN:-unused-when-stopping} \
      compose stop "$COMPOSE_SERVICE"
    exit 0
    ;;
  -h | --help)
    say "Usage: scripts/stop_registry_service.sh [--docker]   (REGISTRY_PID_FILE, REGISTRY_STOP_TIMEOUT)"
    exit 0
    ;;
  *) fail 2 "unknown option: $1 (usage: scripts/stop_registry_service.sh [--docker])" ;;
esac

if [ ! -f "$PID_FILE" ]; then
  say "not running (no pidfile at $PID_FILE)"
  exit 0
fi
pid=$(own_instance)
if [ -z "$pid" ]; then
  say "not running (removed the stale pidfile $PID_FILE)"
  exit 0
fi
say "stopping the registry service (pid $pid)"
stop_process "$pid" --group
rm -f "$PID_FILE"
say "stopped"
