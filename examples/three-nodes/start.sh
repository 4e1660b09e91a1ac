#!/usr/bin/env bash
# d-engine's three-node example on Keel: three `keel serve` processes with --config, --port and
# --health-port, as the seed starts its binary. Ctrl-C stops all three.
#
#   npm run example:three-nodes            (from the repository root)
#
# KEEL_BIN overrides the executable (default bin/keel); CONFIG_DIR the config directory
# (default examples/three-nodes/config); PORT_OFFSET shifts every port (tests use it).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/../.."
KEEL_BIN=${KEEL_BIN:-bin/keel}
CONFIG_DIR=${CONFIG_DIR:-examples/three-nodes/config}
OFFSET=${PORT_OFFSET:-0}

pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap stop INT TERM

for i in 1 2 3; do
  port=$((8080 + i + OFFSET))
  health=$((10000 + i + OFFSET))
  "$KEEL_BIN" serve --config "$CONFIG_DIR/n$i.toml" --port "$port" --health-port "$health" &
  pids+=($!)
  echo "node $i: API http://127.0.0.1:$port  health http://127.0.0.1:$health/primary  raft 127.0.0.1:$((9080 + i + OFFSET))"
done
wait
