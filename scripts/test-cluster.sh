#!/usr/bin/env bash
# openraft's test-cluster.sh, against Keel: five nodes started with only --id and --http-addr,
# then init, metrics, add-learner, change-membership, write and read, with curl alone, printing
# each request and reply. Run from the repository root after `npm install`:
#
#   ./scripts/test-cluster.sh
#
# KEEL_BIN overrides the executable (default: bin/keel); KEEL_BASE_PORT the first port (21001);
# KEEL_DATA the data root (a fresh temporary directory).
set -o errexit -o nounset -o pipefail

KEEL_BIN=${KEEL_BIN:-bin/keel}
BASE=${KEEL_BASE_PORT:-21001}
DATA=${KEEL_DATA:-$(mktemp -d -t keel-test-cluster-XXXXXX)}
addr() { echo "127.0.0.1:$((BASE + $1 - 1))"; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -z "${KEEL_DATA:-}" ]; then rm -rf "$DATA"; fi
}
trap cleanup EXIT

rpc() {
  local uri=$1 body=${2:-}
  echo '---'" rpc(http://$uri, $body)"
  local reply
  if [ -n "$body" ]; then
    reply=$(curl --silent --show-error --max-time 40 "http://$uri" -H 'Content-Type: application/json' -d "$body")
  else
    reply=$(curl --silent --show-error --max-time 40 "http://$uri")
  fi
  echo "$reply"
  echo
}

# Waits (up to 20 s) until `curl ARGS...` prints something containing NEEDLE. The seed's script
# sleeps a fixed second instead; waiting for the condition keeps this one reliable on a busy machine.
wait_for() {
  local needle=$1; shift
  for _ in $(seq 1 200); do
    if curl --silent --max-time 2 "$@" 2>/dev/null | grep -qF -- "$needle"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $needle from curl $*" >&2
  exit 1
}

wait_up() {
  for _ in $(seq 1 150); do
    if curl --silent --max-time 1 "http://$(addr "$1")/healthz" >/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "node $1 did not start" >&2
  exit 1
}

echo "Start 5 uninitialized keel servers..."
for id in 1 2 3 4 5; do
  "$KEEL_BIN" serve --id "$id" --http-addr "$(addr "$id")" --data-dir "$DATA/n$id" --log-level warn > "$DATA/n$id.log" 2>&1 &
  pids+=($!)
done
for id in 1 2 3 4 5; do wait_up "$id"; done
echo "Servers 1-5 started"
echo

echo "Initialize server 1,2,3 as a 3-node cluster"
rpc "$(addr 1)/init" "[[1, \"$(addr 1)\"], [2, \"$(addr 2)\"], [3, \"$(addr 3)\"]]"
wait_for '"current_leader":1' "http://$(addr 1)/metrics"
echo "Server 1 is the leader now"

echo "Get metrics from the leader"
rpc "$(addr 1)/metrics"
sleep 1

echo "Adding node 4 and node 5 as learners, to receive log from leader node 1"
rpc "$(addr 1)/add-learner" "[4, \"$(addr 4)\"]"
echo "Node 4 added as learner"
rpc "$(addr 1)/add-learner" "[5, \"$(addr 5)\"]"
echo "Node 5 added as learner"
sleep 1

echo "Get metrics from the leader, after adding 2 learners"
rpc "$(addr 1)/metrics"
sleep 1

echo "Changing membership from [1, 2, 3] to 5 nodes cluster: [1, 2, 3, 4, 5]"
rpc "$(addr 1)/change-membership" '[1, 2, 3, 4, 5]'
echo 'Membership changed to [1, 2, 3, 4, 5]'
sleep 1

echo "Get metrics from the leader again"
rpc "$(addr 1)/metrics"
sleep 1

echo "Write data on leader"
rpc "$(addr 1)/write" '{"Set":{"key":"foo","value":"bar"}}'
sleep 1
echo "Data written"

echo "Read on every node, including the leader"
for id in 1 2 3; do
  echo "Read from node $id"
  wait_for '"bar"' "http://$(addr "$id")/read" -H 'Content-Type: application/json' -d '"foo"'
  rpc "$(addr "$id")/read" '"foo"'
done

echo "Changing membership from [1,2,3,4,5] to [3]"
rpc "$(addr 1)/change-membership" '[3]'
echo 'Membership changed to [3]'
wait_for '"current_leader":3' "http://$(addr 3)/metrics"

echo "Get metrics from node 3"
rpc "$(addr 3)/metrics"
sleep 1

echo "Write foo=zoo on node 3"
rpc "$(addr 3)/write" '{"Set":{"key":"foo","value":"zoo"}}'
sleep 1
echo "Data written"

echo "Read foo=zoo from node 3"
rpc "$(addr 3)/read" '"foo"'

echo "Killing all nodes..."
