#!/usr/bin/env bash
# Queries with and without a running `exo watch` vouching for freshness (issue 16):
# `exo status`, hybrid and bm25 `exo search`, and `git status` as the yardstick in the same
# minute, N runs each (wall clock per run), first without a watch, then with one.
#
#   benches/scripts/vouch_bench.sh VAULT [EXO] [RUNS]
#
# VAULT must be indexed and Synced; the script starts `exo watch` on it (writes only .exo/),
# waits until `exo status --json` says checked_by "watcher", and stops it with SIGTERM.
set -euo pipefail
vault=$(cd "$1" && pwd)
exo=$(readlink -f "${2:-target/release/exo}")
runs=${3:-10}
cd "$vault"

run() { # name, command...
  local name=$1; shift
  local times=()
  for _ in $(seq "$runs"); do
    local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    times+=($(( (e - s) / 1000000 )))
  done
  local sorted; sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  echo "  $name: median ${sorted[$(( runs / 2 ))]} ms, min ${sorted[0]}, max ${sorted[$(( runs - 1 ))]} (all: ${times[*]})"
}

round() {
  echo "$1 (load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%H:%M:%S) UTC; checked_by: $("$exo" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("checked_by"))'))"
  run "exo status" "$exo" status
  run "exo search (hybrid)" "$exo" search "garden rotting notes"
  run "exo search --mode bm25" "$exo" search "garden rotting notes" --mode bm25
  run "git status" git status
}

round "no watch"
"$exo" watch >/dev/null 2>&1 &
watcher=$!
trap 'kill "$watcher" 2>/dev/null || true' EXIT
for _ in $(seq 600); do
  [ "$("$exo" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("checked_by"))')" = watcher ] && break
  sleep 0.5
done
round "exo watch running"
kill "$watcher"; wait "$watcher" 2>/dev/null || true
trap - EXIT
round "no watch again"
