#!/usr/bin/env bash
# Tartan live demo: a Calico-style cluster on one machine. etcd, three nodes and
# a dedicated route reflector, each in its own network namespace on one LAN,
# two pods per node, BGP through the reflector, and network policy. Run as root.
#
#   bash scripts/demo.sh          # bring the cluster up, show it working, leave it running
#   bash scripts/demo.sh status   # show sessions, kernel routes and pod traffic again
#   bash scripts/demo.sh down     # remove every namespace and process the demo made
#   scripts/demo/tartanctl ...    # tartanctl against the running cluster
#
# Ctrl-C during bring-up removes everything made so far.
#
# Topology (inside namespaces only; nothing is added to the root namespace):
#   LAN 198.18.210.0/24 on a bridge:  node-1 .1   node-2 .2   node-3 .3   rr-1 .20   etcd .10
#   node-1..3  tartan-node, cluster mode, dataplane on (workload routes + policy)
#   rr-1       tartan-node, route reflector (routeReflectorClusterID), dataplane off
#   pods       web-N (app=web) and db-N (app=db) on node-N, added by the tartan CNI plugin
#              (bin/tartan-cni), addresses from IPPool 198.19.0.0/16
#
# Environment: TARTAN_DEMO_PREFIX (namespace prefix, default ttcl), TARTAN_DEMO_STATE
# (configs, logs, pids; default /run/tartan-cluster-demo), TARTAN_DEMO_CHECK=1 (exit 1
# on the first failed check, for CI), TARTAN_DEMO_SKIP_SETUP=1 (skip scripts/setup.sh),
# TARTAN_DEMO_MESH_FIRST=0 (start with the mesh off and the route reflector from the start).
#
# Why the mesh first: the nodes start in Calico's node-to-node mesh (Tartan makes
# it unidirectional: one side connects) and are then migrated to rr-1 in Calico's
# documented order, which converts every session in place: the SINCE column shows
# that no session was reset. TARTAN_DEMO_MESH_FIRST=0 builds the route-reflector
# topology directly instead (each node and rr-1 then connect to each other at the
# same moment and the collision is resolved per RFC 4271 §6.8).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

P=${TARTAN_DEMO_PREFIX:-ttcl}                         # every namespace name starts with "$P-"
STATE=${TARTAN_DEMO_STATE:-/run/tartan-cluster-demo}  # configs, sockets, logs, pids
CHECK=${TARTAN_DEMO_CHECK:-0}
MESH_FIRST=${TARTAN_DEMO_MESH_FIRST:-1}
ACTION=${1:-up}
LAN=198.18.210
ETCD=http://$LAN.10:2379
NODES=(node-1 node-2 node-3)
ALL_NODES=(node-1 node-2 node-3 rr-1)
RR_CLUSTER_ID=244.0.0.1
export TARTAN_DEMO_STATE=$STATE

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
say() { printf '\n'; bold "==> $*"; }
step() { printf '[%s] %s\n' "$1" "$2"; }
show() { printf '  $ %s\n' "$*"; }  # a command, as the user would type it
indent() { sed 's/^/    /'; }
ctl() { scripts/demo/tartanctl "$@"; }  # tartanctl inside the etcd namespace
ns() { echo "$P-$1"; }
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

FAILED=0
fail() { # fail DESCRIPTION: a check failed
  step FAIL "$1"
  FAILED=1
  if [ "$CHECK" = 1 ]; then
    for n in "${ALL_NODES[@]}"; do
      [ -f "$STATE/$n/tartan-node.log" ] || continue
      echo "--- last lines of $STATE/$n/tartan-node.log"
      tail -n 15 "$STATE/$n/tartan-node.log"
    done
    exit 1
  fi
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: [ok] once COMMAND succeeds
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  while :; do
    if "$@" >/dev/null 2>&1; then step ok "$what"; return 0; fi
    [ $SECONDS -lt $deadline ] || break
    sleep 0.3
  done
  fail "$what (gave up after ${secs}s)"
}

# ---------------------------------------------------------------- teardown

our_pid() { # the pid is alive and is a process this demo started (its command line names $STATE)
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF "$STATE/"
}

down() {
  say "Removing the demo"
  local pids=() pidfile pid n
  if [ -d "$STATE" ]; then
    for pidfile in "$STATE"/*/*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile" 2>/dev/null || true)
      if our_pid "$pid"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
    done
    for ((n = 0; n < 30; n++)); do  # tartan-node says goodbye to its peers (up to 2 s)
      local alive=0
      for pid in "${pids[@]}"; do our_pid "$pid" && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do our_pid "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
    [ ${#pids[@]} = 0 ] || step down "stopped ${#pids[@]} processes (etcd, tartan-node)"
  fi
  local gone=()
  for n in $(ip netns list | awk '{print $1}' | grep "^$P-" | sort || true); do
    ip netns del "$n"
    gone+=("$n")
  done
  [ ${#gone[@]} = 0 ] || step down "deleted ${#gone[@]} namespaces: ${gone[*]}"
  rm -rf "$STATE"
  echo "Demo removed."
}

interrupted() {
  # A subshell (a pipeline stage) that catches the signal before it execs just
  # ends; the main shell, which gets the same Ctrl-C, cleans up.
  [ "$BASHPID" = "$$" ] || exit 130
  trap - INT TERM
  # fds 3/4: the script's own stdout/stderr (the signal may land inside a `>/dev/null`).
  { printf '\nInterrupted during bring-up.\n'; down; } >&3 2>&4
  exit 130
}

incomplete() { # on exit during bring-up (a failed check with TARTAN_DEMO_CHECK=1, or an error)
  local rc=$?
  [ $rc = 0 ] || [ $rc = 130 ] || printf '\nThe demo did not come up completely (exit %s). Logs: %s/*/*.log\nRemove it: bash scripts/demo.sh down\n' "$rc" "$STATE" >&4
}

# ---------------------------------------------------------------- checks

# node status -o json of NODE: every peer Established, and COUNT peers.
established() { # established NODE COUNT
  scripts/demo/tartanctl "$1" node status -o json | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const n = Number(process.argv[1]);
    process.exit(s.peers.length === n && s.peers.every((p) => p.state === "Established") ? 0 : 1);' "$2"
}

mesh_up() { local n; for n in "${ALL_NODES[@]}"; do established "$n" 3 || return 1; done; }

# rr-1's three sessions are Established and node specific (from the BGPPeer, no longer the mesh).
rr_ready() {
  scripts/demo/tartanctl rr-1 node status -o json | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    process.exit(s.peers.length === 3 && s.peers.every((p) => p.state === "Established" && p.peerType === "node specific") ? 0 : 1);'
}

pod_ip() { awk -v p="$1" '$1 == p {print $3}' "$STATE/pods"; }
pod_block() { awk -v p="$1" '$1 == p {print $5}' "$STATE/pods"; }

# NODE's kernel has: its own block as a blackhole (203), its pods' /32s (202),
# and every other worker node's block via that node (201).
routes_ok() { # routes_ok NODE
  local n=$1 routes o i=1
  routes=$(ip -n "$(ns "$n")" route show)
  for o in "${NODES[@]}"; do
    local blk; blk=$(pod_block "web-$i")
    if [ "$o" = "$n" ]; then
      grep -qE "^blackhole $blk proto (203|tartan-bh)" <<<"$routes" || return 1
      for pod in "web-$i" "db-$i"; do grep -qE "^$(pod_ip "$pod") dev cali.* proto (202|tartan-workload)" <<<"$routes" || return 1; done
    else
      grep -qE "^$blk (nhid [0-9]+ )?via $LAN.$i dev eth0 proto (201|tartan-bgp)" <<<"$routes" || return 1
    fi
    i=$((i + 1))
  done
}

rr_routes_ok() { # the reflector's kernel has every worker's block via that worker
  local routes i; routes=$(ip -n "$(ns rr-1)" route show)
  for i in 1 2 3; do grep -qE "^$(pod_block "web-$i") (nhid [0-9]+ )?via $LAN.$i dev eth0 proto (201|tartan-bgp)" <<<"$routes" || return 1; done
}

ping_once() { in_ns "$1" ping -n -c 1 -W 1 "$(pod_ip "$2")" >/dev/null 2>&1; }
# ping 3 times (1 s timeout each); prints ping's summary line; succeeds iff any reply came back.
ping3() { # ping3 FROM TO
  local out rc=0
  out=$(in_ns "$1" ping -n -c 3 -i 0.3 -W 1 "$(pod_ip "$2")" 2>&1) || rc=$?
  grep -E 'packets transmitted' <<<"$out" | sed 's/, time [0-9]*ms//'
  return $rc
}

# FROM → TO must work: retry single pings for up to SECS (routes, policy settling), then 3 pings.
expect_works() { # expect_works SECS FROM TO NOTE
  local secs=$1 from=$2 to=$3 note=$4 deadline=$((SECONDS + $1)) summary
  until ping_once "$from" "$to"; do
    [ $SECONDS -lt $deadline ] || break
    sleep 0.3
  done
  if summary=$(ping3 "$from" "$to"); then
    step ok "$from → $to ($(pod_ip "$to")) works: $summary${note:+ — $note}"
  else
    fail "$from → $to ($(pod_ip "$to")) should work: $summary${note:+ — $note}"
  fi
}

# FROM → TO must be blocked: wait up to SECS for a single ping to go unanswered, then 3 pings, none answered.
expect_blocked() { # expect_blocked SECS FROM TO NOTE
  local secs=$1 from=$2 to=$3 note=$4 deadline=$((SECONDS + $1)) summary
  while ping_once "$from" "$to"; do
    [ $SECONDS -lt $deadline ] || break
    sleep 0.3
  done
  if summary=$(ping3 "$from" "$to"); then
    fail "$from → $to ($(pod_ip "$to")) should be blocked: $summary${note:+ — $note}"
  else
    step ok "$from → $to ($(pod_ip "$to")) blocked: $summary${note:+ — $note}"
  fi
}

# ---------------------------------------------------------------- status

show_node_status() {
  local n
  for n in "${ALL_NODES[@]}"; do
    show "scripts/demo/tartanctl $n node status"
    # The IPv4 table (no IPv6 in this demo).
    ctl "$n" node status 2>&1 | sed -n '/^+/,/^$/p' | sed '/^$/d' | indent || true
  done
}

show_routes() {
  echo "  (proto 201 tartan-bgp: learned over BGP; 202 tartan-workload: a local pod;"
  echo "   203 tartan-bh: this node's own IPAM block, a blackhole for unused addresses)"
  local n
  for n in "${ALL_NODES[@]}"; do
    show "ip -n $(ns "$n") route show proto 201   (then proto 202, proto 203)"
    {
      ip -n "$(ns "$n")" route show proto 201 | sed 's/$/   proto 201/'
      ip -n "$(ns "$n")" route show proto 202 | sed 's/$/   proto 202/'
      ip -n "$(ns "$n")" route show proto 203 | sed 's/$/   proto 203/'
    } | sed 's/  */ /g' | indent
  done
}

show_pods() {
  printf '    %-7s %-7s %-14s %-16s %s\n' POD NODE ADDRESS HOST-VETH "BLOCK (node's IPAM block)"
  while read -r pod node ip iface block _; do
    printf '    %-7s %-7s %-14s %-16s %s\n' "$pod" "$node" "$ip" "$iface" "$block"
  done < "$STATE/pods"
}

status() {
  say "Pods"
  show_pods
  say "tartanctl node status, on every node"
  show_node_status
  say "Kernel routes of every node"
  show_routes
  say "Policies"
  show "scripts/demo/tartanctl get globalnetworkpolicies -o wide"
  ctl get globalnetworkpolicies -o wide 2>&1 | indent || true
  say "Traffic now (one ping each)"
  local f
  for f in "web-1 db-3" "db-1 db-3" "web-2 web-3" "db-3 web-1"; do
    set -- $f
    if ping_once "$1" "$2"; then echo "    $1 → $2 ($(pod_ip "$2")): works"; else echo "    $1 → $2 ($(pod_ip "$2")): blocked"; fi
  done
}

explore() {
  cat <<EOF

The demo is running. Explore it:
  scripts/demo/tartanctl node-1 node status          # a node's BGP sessions (also node-2, node-3, rr-1)
  scripts/demo/tartanctl rr-1 bgp routes             # what the route reflector holds
  scripts/demo/tartanctl get nodes -o wide           # any resource: bgppeers, ippools, workloadendpoints -n demo, ...
  scripts/demo/tartanctl ipam show --show-blocks
  scripts/demo/tartanctl delete globalnetworkpolicy allow-web-to-db-icmp   # and web-1 → db-3 is blocked again
  ip netns exec $P-web-1 ping $(pod_ip db-3)               # pod web-1 → pod db-3
  ip -n $P-node-1 route; ip netns exec $P-node-1 iptables-save | grep cali
  tail -f $STATE/node-1/tartan-node.log
  cat $STATE/node-1/cni.log                          # what the CNI plugin did for node-1's pods
  (scripts/demo/tartanctl runs tartanctl in the etcd namespace:
   ip netns exec $P-etcd node dist/cli/main.js --etcd-endpoints $ETCD [--socket $STATE/NODE/tartan.sock] ...)
Show it again:  bash scripts/demo.sh status
Remove it:      bash scripts/demo.sh down
EOF
}

# ---------------------------------------------------------------- bring-up

host() { # host NAME OCTET: a namespace with eth0 on the LAN bridge
  local n=$1 octet=$2
  ip netns add "$(ns "$n")"
  ip -n "$P-sw" link add "v$octet" type veth peer name eth0 netns "$(ns "$n")"
  ip -n "$P-sw" link set "v$octet" master br0 up
  ip -n "$(ns "$n")" link set lo up
  ip -n "$(ns "$n")" link set eth0 up
  ip -n "$(ns "$n")" addr add "$LAN.$octet/24" dev eth0
  mkdir -p "$STATE/$n"
}

start_bg() { # start_bg PIDFILE LOGFILE COMMAND...: detached (own session), pid recorded for `down`
  local pidfile=$1 log=$2; shift 2
  setsid "$@" >>"$log" 2>&1 </dev/null 3>&- 4>&- &
  echo $! > "$pidfile"
}

etcd_healthy() {
  in_ns etcd node -e 'fetch(process.argv[1] + "/health").then((r) => r.json()).then((j) => process.exit(j.health === "true" ? 0 : 1), () => process.exit(1))' "$ETCD"
}

nodes_registered() { # all four Node resources exist
  [ "$(ctl get nodes -o json | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const items = Array.isArray(j) ? j : (j.items ?? [j]);
    console.log(items.length);')" = 4 ]
}

node_env() { # node_env NAME OCTET DATAPLANE: the environment deploy/demo/tartan-node.yaml reads
  printf 'NODENAME=%s\nIP=%s\nETCD_ENDPOINTS=%s\nTARTAN_DATAPLANE=%s\nTARTAN_CONTROL_SOCKET=%s\nTARTAN_LOG_FORMAT=text\n' \
    "$1" "$LAN.$2" "$ETCD" "$3" "$STATE/$1/tartan.sock" > "$STATE/$1/tartan-node.env"
}

# The network configuration the CNI plugin gets on stdin, as a runtime derives it from
# /etc/cni/net.d/10-tartan.conflist on NODE (README, "CNI plugin"), plus the pod's labels
# in args.cni.labels (the CNI conventions' way; Calico would read them from Kubernetes).
cni_config() { # cni_config NODE APP
  printf '{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"tartan","etcd_endpoints":"%s","nodename":"%s","mtu":1500,"log_level":"info","ipam":{"type":"tartan-ipam"},"args":{"cni":{"labels":[{"key":"app","value":"%s"}]}}}' "$ETCD" "$1" "$2"
}

add_pod() { # add_pod POD NODE APP: the pod's namespace, then the tartan CNI plugin, run on NODE as a runtime runs it
  local pod=$1 node=$2 app=$3 cid result ip iface block
  cid=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')  # a container ID, as the runtime makes one
  ip netns add "$(ns "$pod")"
  ip -n "$(ns "$pod")" link set lo up  # the runtime's loopback plugin
  [ "$pod" != web-1 ] || show "cni_config $node $app | ip netns exec $(ns "$node") env CNI_COMMAND=ADD CNI_CONTAINERID=$cid CNI_NETNS=/var/run/netns/$(ns "$pod") CNI_IFNAME=eth0 CNI_ARGS='K8S_POD_NAMESPACE=demo;K8S_POD_NAME=$pod' CNI_PATH=bin bin/tartan-cni"
  # The plugin: an address from IPAM (the node's block), the veth cali… ↔ eth0 with Calico's
  # in-pod routes via 169.254.1.1, and the WorkloadEndpoint. Its log: $STATE/NODE/cni.log.
  if ! result=$(cni_config "$node" "$app" | ip netns exec "$(ns "$node")" env -i PATH="$PATH" CNI_COMMAND=ADD CNI_CONTAINERID="$cid" \
    CNI_NETNS="/var/run/netns/$(ns "$pod")" CNI_IFNAME=eth0 CNI_ARGS="K8S_POD_NAMESPACE=demo;K8S_POD_NAME=$pod" CNI_PATH="$REPO/bin" \
    "$REPO/bin/tartan-cni" 2>>"$STATE/$node/cni.log"); then
    fail "CNI ADD of $pod on $node: $result (log: $STATE/$node/cni.log)"
    return 1
  fi
  # The CNI result: interfaces[0] is the host veth, ips[0] the pod's /32.
  read -r ip iface < <(node -e 'const r = JSON.parse(process.argv[1]); console.log(r.ips[0].address.split("/")[0], r.interfaces[0].name)' "$result")
  block=${ip%.*}.$(( ${ip##*.} & ~63 ))/26  # the pool's blockSize is 26
  local escaped_node=${node//-/--} escaped_pod=${pod//-/--}
  echo "$pod $node $ip $iface $block $cid" >> "$STATE/pods"
  step pod "$pod on $node: $ip (app=$app), host veth $iface, WorkloadEndpoint $escaped_node-k8s-$escaped_pod-eth0"
}

up() {
  [ "$(id -u)" = 0 ] || { echo "demo.sh needs root (network namespaces)"; exit 1; }
  if ip netns list | grep -q "^$P-"; then
    echo "The demo is already running; showing its state (bash scripts/demo.sh down to remove it)."
    status
    explore
    return
  fi
  exec 3>&1 4>&2
  trap interrupted INT TERM
  trap incomplete EXIT
  set -E  # the ERR trap in functions too: name the command that stopped the bring-up
  trap '[ "$BASHPID" != "$$" ] || step FAIL "bring-up stopped: \`$BASH_COMMAND\` failed (exit $?, scripts/demo.sh line $LINENO)" >&4' ERR
  local t0=$SECONDS

  say "[1/9] Installing and building (idempotent)"
  if [ "${TARTAN_DEMO_SKIP_SETUP:-0}" = 1 ]; then echo "skipped (TARTAN_DEMO_SKIP_SETUP=1)"; else bash scripts/setup.sh; fi

  say "[2/9] The lab: namespaces etcd, node-1..3, rr-1 on one LAN bridge ($LAN.0/24)"
  mkdir -p "$STATE"
  printf 'P=%q\nETCD=%q\n' "$P" "$ETCD" > "$STATE/demo.env"
  : > "$STATE/pods"
  ip netns add "$P-sw"
  ip -n "$P-sw" link add br0 type bridge
  ip -n "$P-sw" link set br0 up
  host etcd 10; host node-1 1; host node-2 2; host node-3 3; host rr-1 20
  for n in "${NODES[@]}"; do ip netns exec "$(ns "$n")" sysctl -qw net.ipv4.ip_forward=1; done
  step lab "namespaces $(ns etcd) ($LAN.10), $(ns node-1) (.1), $(ns node-2) (.2), $(ns node-3) (.3), $(ns rr-1) (.20), bridge in $P-sw"

  say "[3/9] etcd, and the cluster resources (deploy/demo/cluster.yaml)"
  mkdir -p "$STATE/etcd/data"
  start_bg "$STATE/etcd/etcd.pid" "$STATE/etcd/etcd.log" ip netns exec "$(ns etcd)" etcd --name demo \
    --data-dir "$STATE/etcd/data" --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
    --listen-peer-urls "http://$LAN.10:2380" --initial-advertise-peer-urls "http://$LAN.10:2380" \
    --initial-cluster "demo=http://$LAN.10:2380" --log-level warn --logger zap
  wait_for 20 "etcd healthy at $ETCD (in $(ns etcd))" etcd_healthy
  show "scripts/demo/tartanctl apply -f deploy/demo/cluster.yaml"
  ctl apply -f deploy/demo/cluster.yaml 2>&1 | indent
  echo "    (BGPConfiguration default: AS 64512, node-to-node mesh on for now; BGPPeer peer-to-rrs: all() → route-reflector == 'true';"
  echo "     IPPool demo-pool: 198.19.0.0/16 in /26 blocks; Profile kns.demo: allow all, as Calico makes for a Kubernetes namespace)"
  if [ "$MESH_FIRST" != 1 ]; then
    show "scripts/demo/tartanctl patch bgpconfiguration default -p '{\"spec\":{\"nodeToNodeMeshEnabled\":false}}'   (TARTAN_DEMO_MESH_FIRST=0)"
    ctl patch bgpconfiguration default -p '{"spec":{"nodeToNodeMeshEnabled":false}}' 2>&1 | indent
  fi

  say "[4/9] Four tartan-nodes in the node-to-node mesh, then rr-1 becomes the route reflector"
  for n in "${ALL_NODES[@]}"; do
    local octet=20 dp=false
    [ "$n" = rr-1 ] || { octet=${n#node-}; dp=true; }
    node_env "$n" "$octet" "$dp"
    # One config file for every node, as docker-compose.yml uses it; the node's own values come
    # from its environment. Linked into the node's state directory so that the command line
    # names the demo's state (how `down` knows a pid is still the demo's).
    ln -sfn "$REPO/deploy/demo/tartan-node.yaml" "$STATE/$n/tartan-node.yaml"
    start_bg "$STATE/$n/tartan-node.pid" "$STATE/$n/tartan-node.log" ip netns exec "$(ns "$n")" \
      env $(cat "$STATE/$n/tartan-node.env") node --max-semi-space-size=2 "$REPO/dist/daemon/main.js" --config "$STATE/$n/tartan-node.yaml"
    step start "tartan-node $n ($LAN.$octet, dataplane $dp), log $STATE/$n/tartan-node.log"
  done
  wait_for 20 "every node registered its Node resource" nodes_registered
  if [ "$MESH_FIRST" = 1 ]; then
    wait_for 30 "node-to-node mesh: all 6 sessions Established" mesh_up
    # Calico's documented migration from the mesh to route reflectors: the BGPPeer
    # (applied above), then the reflector's label and cluster ID, then the mesh
    # off. Every step converts the existing sessions in place; none is re-opened.
    echo "  Calico's migration to a route reflector (the BGPPeer peer-to-rrs is already applied):"
  fi
  show "scripts/demo/tartanctl label node rr-1 route-reflector=true"
  ctl label node rr-1 route-reflector=true 2>&1 | indent
  show "scripts/demo/tartanctl patch node rr-1 -p '{\"spec\":{\"bgp\":{\"routeReflectorClusterID\":\"$RR_CLUSTER_ID\"}}}'"
  ctl patch node rr-1 -p "{\"spec\":{\"bgp\":{\"routeReflectorClusterID\":\"$RR_CLUSTER_ID\"}}}" 2>&1 | indent
  if [ "$MESH_FIRST" = 1 ]; then
    wait_for 30 "rr-1 is a route reflector: its 3 sessions, now node specific, stayed Established" rr_ready
    show "scripts/demo/tartanctl patch bgpconfiguration default -p '{\"spec\":{\"nodeToNodeMeshEnabled\":false}}'"
    ctl patch bgpconfiguration default -p '{"spec":{"nodeToNodeMeshEnabled":false}}' 2>&1 | indent
  fi

  say "[5/9] Two pods per node, each added by the tartan CNI plugin (bin/tartan-cni): IPAM address, veth, WorkloadEndpoint"
  for i in 1 2 3; do
    add_pod "web-$i" "node-$i" web
    add_pod "db-$i" "node-$i" db
  done

  say "[6/9] BGP sessions through rr-1, and the routes in every kernel"
  for n in "${NODES[@]}"; do wait_for 30 "$n: its one session, to rr-1, is Established" established "$n" 1; done
  wait_for 30 "rr-1: three sessions Established (node-1, node-2, node-3, its route-reflector clients)" established rr-1 3
  for n in "${NODES[@]}"; do wait_for 30 "$n kernel: own block blackholed (203), its 2 pods (202), the 2 other blocks via their nodes (201)" routes_ok "$n"; done
  wait_for 30 "rr-1 kernel: the 3 node blocks via their nodes (201)" rr_routes_ok
  [ "$MESH_FIRST" != 1 ] || echo "  (SINCE: each session dates from the mesh; the migration to rr-1 kept it open)"
  show_node_status
  show_routes

  say "[7/9] Pod to pod across nodes (ping -c 3 -W 1)"
  expect_works 15 web-1 db-3 "node-1 → node-3"
  expect_works 15 db-2 web-1 "node-2 → node-1"

  say "[8/9] A GlobalNetworkPolicy that denies web → db (deploy/demo/deny-web-to-db.yaml)"
  show "scripts/demo/tartanctl apply -f deploy/demo/deny-web-to-db.yaml"
  ctl apply -f deploy/demo/deny-web-to-db.yaml 2>&1 | indent
  expect_blocked 10 web-1 db-3 "denied by deny-web-to-db"
  expect_works 5 db-1 db-3 "same db pod, other source: passed to profile kns.demo"
  expect_works 5 web-1 web-3 "web pods are not selected by the policy"

  say "[9/9] A lower-order policy that allows ICMP from web to db (deploy/demo/allow-web-to-db.yaml)"
  show "scripts/demo/tartanctl apply -f deploy/demo/allow-web-to-db.yaml"
  ctl apply -f deploy/demo/allow-web-to-db.yaml 2>&1 | indent
  expect_works 10 web-1 db-3 "allowed by allow-web-to-db-icmp (order 10, before deny-web-to-db at 100)"

  trap - INT TERM EXIT ERR
  say "Done in $((SECONDS - t0)) s$([ $FAILED = 0 ] || echo ', with failed checks (see [FAIL] above)')"
  explore
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  status)
    if ip netns list | grep -q "^$P-" && [ -f "$STATE/pods" ]; then status; explore; else echo "The demo is not running (bash scripts/demo.sh to start it)."; fi ;;
  -h|--help|help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "usage: bash scripts/demo.sh [up|status|down]"; exit 2 ;;
esac
