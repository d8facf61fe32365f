#!/usr/bin/env bash
# Installs everything Tartan's tests and demo need on a Debian machine, as root.
# Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(nodejs npm python3 systemd iproute2 iputils-ping iptables ipset tcpdump bird2 gobgpd frr etcd-server etcd-client procps)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # A Node.js that did not come from Debian (nvm, nodesource, the image) is fine as it is.
  if { [ "$p" = nodejs ] || [ "$p" = npm ]; } && command -v "${p/nodejs/node}" >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # A policy-rc.d that says 101 keeps package scripts from starting the
  # system-wide bird/frr/etcd services: tests run their own instances.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# npm ci only when package-lock.json changed since the last install.
stamp=node_modules/.tartan-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

echo "setup: building"
npx tsc -p tsconfig.json
