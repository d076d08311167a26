# shellcheck shell=bash
# Shared by start_registry_service.sh and stop_registry_service.sh (sourced, not run): where the pidfile
# lives, how to tell our service from other processes, who listens on a port, and how to stop a process
# (SIGTERM, then SIGKILL after a timeout). Linux: processes are read from /proc.

REGISTRY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COMPOSE_FILE="$REGISTRY_ROOT/docker-compose.yml"
# shellcheck disable=SC2034 # used by the scripts that source this file
COMPOSE_SERVICE=registry

say() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
# fail CODE MESSAGE: print the message and exit with CODE.
fail() {
  local code=$1
  shift
  printf 'error: %s\n' "$*" >&2
  exit "$code"
}

# $1 as an absolute path; a relative one is taken from the caller's working directory.
abs_path() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

# require_count NAME VALUE MIN: VALUE must be a whole number >= MIN.
require_count() {
  if ! [[ "$2" =~ ^[0-9]+$ ]] || ((10#$2 < $3)); then fail 2 "$1=\"$2\" must be a whole number >= $3"; fi
}

PID_FILE="$(abs_path "${REGISTRY_PID_FILE:-$REGISTRY_ROOT/run/registry.pid}")"
STOP_TIMEOUT="${REGISTRY_STOP_TIMEOUT:-15}"
require_count REGISTRY_STOP_TIMEOUT "$STOP_TIMEOUT" 1

# The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...); fails when PID is gone.
proc_stat() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  printf '%s\n' "${stat##*) }"
}

# True while process $1 exists and is not a zombie.
process_alive() {
  local fields
  if [ -d /proc/self ]; then
    fields=$(proc_stat "$1") || return 1
    [ "${fields%% *}" != Z ]
  else
    kill -0 "$1" 2>/dev/null
  fi
}

# The command line of process $1 on one line (empty when it is gone).
process_command() {
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0\n\t' '   ' <"/proc/$1/cmdline" 2>/dev/null | tr -s ' ' | sed 's/ $//' || true
  else
    ps -o args= -p "$1" 2>/dev/null || true
  fi
}

# stat_field PID N: field N of /proc/PID/stat counted after the command name (0 state, 1 ppid, 2 pgrp).
stat_field() {
  local fields
  fields=$(proc_stat "$1") || return 1
  read -r -a fields <<<"$fields"
  printf '%s\n' "${fields[$2]}"
}

# True when process $1 is $2 or one of its descendants.
descends_from() {
  local pid=$1
  while [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ]; do
    [ "$pid" = "$2" ] && return 0
    pid=$(stat_field "$pid" 1) || return 1
  done
  return 1
}

# A registry service started by these scripts: `node dist/jarvis_agent/service-cli.js serve`, or `tsx watch jarvis_agent/service-cli.ts serve`.
looks_like_service() {
  [[ "$(process_command "$1")" =~ cli\.(js|ts)\ serve ]]
}

# The pid in the pidfile when that process is alive and is our service; removes a stale pidfile.
own_instance() {
  local pid
  [ -f "$PID_FILE" ] || return 0
  pid=$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)
  if [ -n "$pid" ] && process_alive "$pid" && looks_like_service "$pid"; then
    printf '%s\n' "$pid"
    return 0
  fi
  if [ -n "$pid" ] && process_alive "$pid"; then
    warn "$PID_FILE names process $pid, which is not the registry service ($(process_command "$pid")): leaving it alone"
  fi
  rm -f "$PID_FILE"
}

# The pids listening on TCP port $1, one per line; "?" for a listener whose process this user cannot see.
port_listeners() {
  local port=$1 out pids
  if command -v ss >/dev/null 2>&1; then
    out=$(ss -Hltnp "sport = :$port" 2>/dev/null || true)
    [ -n "$out" ] || return 0
    pids=$(grep -o 'pid=[0-9]*' <<<"$out" | cut -d= -f2 | sort -un || true)
    if [ -n "$pids" ]; then printf '%s\n' "$pids"; else say '?'; fi
  elif command -v lsof >/dev/null 2>&1; then
    lsof -nP -t -iTCP:"$port" -sTCP:LISTEN 2>/dev/null | sort -un || true
  elif (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say '?'
  fi
}

# The live members of process group $1 (its leader included).
group_members() {
  local stat pid fields
  for stat in /proc/[0-9]*/stat; do
    pid=${stat#/proc/}
    pid=${pid%/stat}
    fields=$(proc_stat "$pid") || continue
    read -r -a fields <<<"$fields"
    [ "${fields[2]}" = "$1" ] && [ "${fields[0]}" != Z ] && printf '%s\n' "$pid"
  done
  return 0
}

# True while anything of process $1 is left: itself or, when it leads a process group ($2), a member.
remains() {
  process_alive "$1" && return 0
  [ -n "$2" ] && [ -n "$(group_members "$2")" ]
}

# wait_gone PID GROUP SECONDS: true once nothing of PID is left, false after SECONDS.
wait_gone() {
  local deadline=$((SECONDS + $3))
  while remains "$1" "$2"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# stop_process PID [--group]: SIGTERM, up to STOP_TIMEOUT seconds for it to go, then SIGKILL. With
# --group and PID leading its own process group (the start script puts the service in one, so that
# `tsx watch` and its child go together), the whole group is signalled and waited for.
stop_process() {
  local pid=$1 group="" target=$1
  if [ "${2:-}" = --group ] && [ "$(stat_field "$pid" 2 2>/dev/null || true)" = "$pid" ]; then
    group=$pid
    target=-$pid
  fi
  kill -TERM -- "$target" 2>/dev/null || true
  wait_gone "$pid" "$group" "$STOP_TIMEOUT" && return 0
  warn "process $pid did not stop within ${STOP_TIMEOUT}s of SIGTERM: sending SIGKILL"
  kill -KILL -- "$target" 2>/dev/null || true
  wait_gone "$pid" "$group" 10 || fail 1 "process $pid is still running after SIGKILL"
}

# docker compose on this project's compose file, or a clear failure when it cannot work here.
compose() {
  command -v docker >/dev/null 2>&1 || fail 1 "--docker needs the docker command (Docker Engine with the compose plugin)"
  docker compose version >/dev/null 2>&1 ||
    fail 1 "--docker needs Docker Compose v2 ('docker compose'): install the docker-compose-plugin"
  docker compose -f "$COMPOSE_FILE" "$@"
}
