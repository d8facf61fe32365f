#!/usr/bin/env bash
# Tartan BGP interop demo: two tartan-node instances peering with BIRD (a top-of-rack
# router), FRR (an iBGP neighbour) and GoBGP (an external router), each in its
# own network namespace on one lab LAN. Run as root.
#
#   bash scripts/demo-interop.sh          # bring the lab up, show it working, leave it running
#   bash scripts/demo-interop.sh status   # show sessions and routes again
#   bash scripts/demo-interop.sh down     # remove every namespace and process the demo made
#
# Topology (LAN 198.18.200.0/24, fd00:7a7a:c8::/64, inside namespaces only):
#   node-1  tartan-node  AS 64512       .1   originates 10.65.1.0/26, fd00:65:1::/64
#   node-2  tartan-node  AS 64512       .2   originates 10.65.2.0/26, fd00:65:2::/64
#   tor     BIRD 2       AS 65000       .10  eBGP with both nodes, originates 0.0.0.0/0 and 10.200.0.0/16
#   frr     FRR 8        AS 64512       .11  iBGP with node-1, originates 10.66.0.0/24
#   ext     GoBGP 3      AS 4200000099  .12  eBGP with node-2 (4-octet AS), originates 203.0.113.0/24
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

P=${TARTAN_DEMO_PREFIX:-ttdemo}          # every namespace and link name starts with this
STATE=${TARTAN_DEMO_STATE:-/run/tartan-demo}  # configs, sockets, logs, pids
V4=198.18.200
V6=fd00:7a7a:c8:
ACTION=${1:-up}
CHECK=${TARTAN_DEMO_CHECK:-0}  # 1: fail (exit 1) if any expected result is missing

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
step() { printf '[%s] %s\n' "$1" "$2"; }
ctl() { node "$REPO/dist/cli/main.js" --socket "$STATE/$1/tartan.sock" "${@:2}"; }
in_ns() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }

down() {
  say "Removing the demo"
  if [ -d "$STATE" ]; then
    for pidfile in "$STATE"/*/*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile" 2>/dev/null || true)
      # Only processes this demo started: their pid files live in $STATE.
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done
    sleep 1
    for pidfile in "$STATE"/*/*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile" 2>/dev/null || true)
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
  fi
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
    ip netns del "$ns"
    step down "deleted namespace $ns"
  done
  rm -rf "$STATE"
  echo "Demo removed."
}

status() {
  for n in node-1 node-2; do
    say "tartanctl node status   ($n)"
    ctl "$n" node status -o wide || true
  done
  say "tartanctl bgp routes --table in   (node-1, received)"
  ctl node-1 bgp routes --table in | grep -vE 'BGP\.(origin|next_hop)' || true
  say "BIRD (tor): birdc show route"
  birdc -s "$STATE/tor/bird.ctl" show route | sed 1d || true
  say "FRR (frr): show bgp ipv4 unicast"
  vtysh --vty_socket "$STATE/frr" -c 'show bgp ipv4 unicast' 2>/dev/null | sed -n '1,20p' || true
  say "GoBGP (ext): gobgp global rib"
  in_ns ext gobgp -u 127.0.0.1 -p 50099 global rib 2>/dev/null || true
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  local i
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then step ok "$what"; return 0; fi
    sleep 0.2
  done
  step FAIL "$what (gave up after ${secs}s)"
  [ "$CHECK" = 1 ] && return 1
  return 0
}

established() { ctl "$1" node status -o json | node -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
  process.exit(s.peers.length > 0 && s.peers.every((p) => p.state === "Established") ? 0 : 1);'; }
has_route() { ctl "$1" bgp routes "$2" --table in -o json | grep -q '"prefix"'; }
bird_has() { birdc -s "$STATE/tor/bird.ctl" show route for "$1" | grep -q "$1"; }

host() { # host NAME OCTET
  local ns="$P-$1" veth="${P}$2"
  ip netns add "$ns"
  ip link add "$veth" netns "$P-sw" type veth peer name eth0 netns "$ns"
  ip -n "$P-sw" link set "$veth" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "$V4.$2/24" dev eth0
  ip -n "$ns" addr add "${V6}:$(printf '%x' "$2")/64" dev eth0 nodad
  mkdir -p "$STATE/$1"
  step lab "host $1: $V4.$2, ${V6}:$(printf '%x' "$2")"
}

start_bg() { # start_bg NAME LOGFILE COMMAND... (records the pid for `down`)
  local name=$1 log=$2; shift 2
  setsid "$@" >>"$log" 2>&1 < /dev/null &
  echo $! > "$STATE/$name"
}

tartan_config() { # tartan_config NAME OCTET PEERS...
  local name=$1 octet=$2; shift 2
  cat > "$STATE/$name/tartan-node.yaml" <<EOF
nodeName: $name
asNumber: 64512
ipv4Address: $V4.$octet
ipv6Address: ${V6}:$(printf '%x' "$octet")
controlSocket: $STATE/$name/tartan.sock
log: {level: info, format: text}
bgp: {holdTime: 30}
peers:
$(for p in "$@"; do echo "  - $p"; done)
originate:
  - {prefix: 10.65.$octet.0/26, communities: ["64512:$octet"]}
  - fd00:65:$octet::/64
EOF
}

up() {
  [ "$(id -u)" = 0 ] || { echo "demo-interop.sh needs root (network namespaces)"; exit 1; }
  if ip netns list | grep -q "^$P-"; then
    echo "The demo is already running; showing its state (bash scripts/demo-interop.sh down to remove it)."
    status
    return
  fi
  say "[1/6] Installing and building (idempotent)"
  [ "${TARTAN_DEMO_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh

  say "[2/6] Creating the lab: namespaces, veth pairs, a bridge"
  mkdir -p "$STATE"
  ip netns add "$P-sw"
  ip -n "$P-sw" link add br0 type bridge
  ip -n "$P-sw" link set br0 up
  host node-1 1; host node-2 2; host tor 10; host frr 11; host ext 12

  say "[3/6] Starting BIRD (tor), FRR (frr) and GoBGP (ext)"
  cat > "$STATE/tor/bird.conf" <<EOF
router id $V4.10;
log "$STATE/tor/bird.log" all;
protocol device {}
protocol static s4 { ipv4; route 0.0.0.0/0 blackhole; route 10.200.0.0/16 blackhole; }
protocol static s6 { ipv6; route fd00:200::/48 blackhole; }
template bgp node {
  local as 65000; connect delay time 1; connect retry time 3; hold time 30;
  ipv4 { import all; export all; };
  ipv6 { import all; export all; next hop self; };
}
protocol bgp node_1 from node { neighbor $V4.1 as 64512; }
protocol bgp node_2 from node { neighbor $V4.2 as 64512; }
EOF
  start_bg tor/bird.pid "$STATE/tor/stderr.log" ip netns exec "$P-tor" bird -f -c "$STATE/tor/bird.conf" -s "$STATE/tor/bird.ctl" -P "$STATE/tor/bird.pidfile"
  step start "BIRD 2 as the ToR router, AS 65000"

  cat > "$STATE/frr/zebra.conf" <<EOF
hostname frr
log file $STATE/frr/zebra.log
EOF
  cat > "$STATE/frr/bgpd.conf" <<EOF
frr defaults traditional
hostname frr
log file $STATE/frr/bgpd.log
router bgp 64512
 bgp router-id $V4.11
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor $V4.1 remote-as 64512
 neighbor $V4.1 timers 10 30
 neighbor $V4.1 timers connect 1
 address-family ipv4 unicast
  network 10.66.0.0/24
 exit-address-family
exit
EOF
  chown -R frr:frr "$STATE/frr"
  start_bg frr/zebra.pid "$STATE/frr/zebra.stderr.log" ip netns exec "$P-frr" /usr/lib/frr/zebra -f "$STATE/frr/zebra.conf" -i "$STATE/frr/zebra.pidfile" -z "$STATE/frr/zserv.api" --vty_socket "$STATE/frr" -P 0
  for _ in $(seq 50); do [ -S "$STATE/frr/zserv.api" ] && break; sleep 0.1; done
  start_bg frr/bgpd.pid "$STATE/frr/bgpd.stderr.log" ip netns exec "$P-frr" /usr/lib/frr/bgpd -S -f "$STATE/frr/bgpd.conf" -i "$STATE/frr/bgpd.pidfile" -z "$STATE/frr/zserv.api" --vty_socket "$STATE/frr" -P 0
  step start "FRR 8 (zebra + bgpd), iBGP AS 64512"

  cat > "$STATE/ext/gobgpd.toml" <<EOF
[global.config]
  as = 4200000099
  router-id = "$V4.12"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$V4.2"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 30
    keepalive-interval = 10
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
EOF
  start_bg ext/gobgpd.pid "$STATE/ext/gobgpd.log" ip netns exec "$P-ext" gobgpd -f "$STATE/ext/gobgpd.toml" -t toml -p --pprof-disable --api-hosts=127.0.0.1:50099
  wait_for 10 "GoBGP API up" in_ns ext gobgp -u 127.0.0.1 -p 50099 global
  in_ns ext gobgp -u 127.0.0.1 -p 50099 global rib add 203.0.113.0/24 community 4200:99 >/dev/null 2>&1 || true
  step start "GoBGP 3, eBGP AS 4200000099 (4-octet)"

  say "[4/6] Starting two tartan-node instances"
  tartan_config node-1 1 "{peerIP: $V4.10, asNumber: 65000, name: tor}" "{peerIP: $V4.11, asNumber: 64512, name: frr, families: [ipv4-unicast]}" "{peerIP: $V4.2, asNumber: 64512, name: node-2}"
  tartan_config node-2 2 "{peerIP: $V4.10, asNumber: 65000, name: tor}" "{peerIP: $V4.12, asNumber: 4200000099, name: ext, families: [ipv4-unicast]}" "{peerIP: $V4.1, asNumber: 64512, name: node-1}"
  for n in node-1 node-2; do
    start_bg "$n/tartan-node.pid" "$STATE/$n/tartan-node.log" ip netns exec "$P-$n" node --max-semi-space-size=2 "$REPO/dist/daemon/main.js" --config "$STATE/$n/tartan-node.yaml"
    step start "tartan-node $n (log: $STATE/$n/tartan-node.log)"
  done

  say "[5/6] Waiting for sessions and routes"
  wait_for 30 "node-1: every session Established (tor, frr, node-2)" established node-1
  wait_for 30 "node-2: every session Established (tor, ext, node-1)" established node-2
  wait_for 15 "node-1 learned FRR's 10.66.0.0/24" has_route node-1 10.66.0.0/24
  wait_for 15 "node-1 learned node-2's 10.65.2.0/26 (iBGP between Tartans)" has_route node-1 10.65.2.0/26
  wait_for 15 "node-2 learned GoBGP's 203.0.113.0/24" has_route node-2 203.0.113.0/24
  wait_for 15 "BIRD learned node-1's 10.65.1.0/26 and node-2's 10.65.2.0/26" bash -c "$(declare -f bird_has); STATE=$STATE; bird_has 10.65.1.0/26 && bird_has 10.65.2.0/26"

  say "[6/6] What it looks like"
  status

  say "Change without a restart: node-1 stops originating 10.65.1.0/26 (config edit + SIGHUP)"
  sed -i '/10.65.1.0\/26/d' "$STATE/node-1/tartan-node.yaml"
  kill -HUP "$(cat "$STATE/node-1/tartan-node.pid")"
  wait_for 15 "BIRD withdrew 10.65.1.0/26, sessions untouched" bash -c "$(declare -f bird_has); STATE=$STATE; ! bird_has 10.65.1.0/26"
  ctl node-1 node status

  say "The demo is running"
  cat <<EOF
Explore it:
  node dist/cli/main.js --socket $STATE/node-1/tartan.sock node status -o wide
  node dist/cli/main.js --socket $STATE/node-1/tartan.sock bgp routes
  birdc -s $STATE/tor/bird.ctl show protocols
  vtysh --vty_socket $STATE/frr -c 'show bgp summary'
  ip netns exec $P-ext gobgp -u 127.0.0.1 -p 50099 neighbor
  tail -f $STATE/node-1/tartan-node.log
Show it again:  bash scripts/demo-interop.sh status
Remove it:      bash scripts/demo-interop.sh down
EOF
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  status) status ;;
  -h|--help|help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "usage: bash scripts/demo-interop.sh [up|status|down]"; exit 2 ;;
esac
