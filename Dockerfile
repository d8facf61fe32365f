# Tartan node image: tartan-node (daemon) and tartanctl (CLI).
#   docker build -t tartan:dev .
#   docker run --net=host --cap-add NET_ADMIN --cap-add NET_RAW -v /etc/tartan:/etc/tartan tartan:dev

FROM node:20-bookworm-slim AS build
WORKDIR /src
# Only needed when the netlink addon has no prebuilt binary for the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# iproute2: `ip` for operators; iptables/ipset: the policy dataplane runs
# iptables-restore, ip6tables-restore and ipset restore.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iptables ipset \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tartan
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY config/tartanctl.yaml /etc/tartan/tartanctl.yaml.example
COPY config/rt_protos.d/tartan.conf /etc/iproute2/rt_protos.d/tartan.conf
RUN ln -s /opt/tartan/dist/cli/main.js /usr/local/bin/tartanctl \
 && chmod +x /opt/tartan/dist/cli/main.js /opt/tartan/dist/daemon/main.js \
 && mkdir -p /run/tartan /var/lib/tartan /etc/tartan
ENV NODE_ENV=production
# 179 BGP, 9091 Prometheus /metrics, 9099 /liveness and /readiness.
EXPOSE 179 9091 9099
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9099/liveness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=2", "/opt/tartan/dist/daemon/main.js"]
CMD ["--config", "/etc/tartan/tartan-node.yaml"]
