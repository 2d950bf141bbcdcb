# syntax=docker/dockerfile:1
# edge-agent container image. Two stages: the build stage compiles TypeScript and the native
# modules (better-sqlite3, serialport) for the target architecture; the runtime stage carries only
# node, the compiled agent and production node_modules, and runs as a non-root user in `dialout`.
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t edge-agent .

ARG NODE_VERSION=20

# ---- build ---------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
# Toolchain for node-gyp, used when no prebuilt binary matches this platform (e.g. arm64 + new node).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# npm ci runs the install scripts of the native modules (package.json "allowScripts" lists them for
# npm 11) and the `prepare` script, which compiles src/ into dist/.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund \
 && node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()" \
 && node -e "require('@serialport/bindings-cpp')" \
 && npm prune --omit=dev --no-audit --no-fund
COPY config ./config
COPY rules ./rules
COPY hooks ./hooks
COPY tasks ./tasks
# The image's default configuration: the bundled demo with container paths, API on all interfaces
# (it refuses to start until API_TOKEN is set, because the API is then reachable from outside).
RUN node -e " \
  const fs = require('fs'); \
  const c = JSON.parse(fs.readFileSync('config/agent.json', 'utf8')); \
  c.dataDir = '/data'; c.rulesDir = '/etc/edge-agent/rules'; c.hooksDir = '/etc/edge-agent/hooks'; \
  c.tasksDir = '/etc/edge-agent/tasks'; \
  c.notify = { ...(c.notify || {}), recipientsFile: '/etc/edge-agent/notify/recipients.json' }; \
  c.http = { ...(c.http || {}), host: '0.0.0.0', port: 8080, token: '\${API_TOKEN:-}' }; \
  fs.writeFileSync('config/container.json', JSON.stringify(c, null, 2) + '\n');"

# ---- runtime -------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system edge-agent \
 && useradd --system --gid edge-agent --groups dialout --home-dir /data --shell /usr/sbin/nologin edge-agent \
 && mkdir -p /data /etc/edge-agent/rules /etc/edge-agent/hooks /etc/edge-agent/tasks /etc/edge-agent/notify \
 && chown -R edge-agent:edge-agent /data /etc/edge-agent/rules /etc/edge-agent/tasks /etc/edge-agent/notify
WORKDIR /opt/edge-agent
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build --chown=root:root /src/config/container.json /etc/edge-agent/agent.json
COPY --from=build --chown=edge-agent:edge-agent /src/rules/ /etc/edge-agent/rules/
COPY --from=build /src/hooks/ /etc/edge-agent/hooks/
COPY --from=build --chown=edge-agent:edge-agent /src/tasks/ /etc/edge-agent/tasks/
COPY --from=build --chown=edge-agent:edge-agent /src/config/recipients.json /etc/edge-agent/notify/recipients.json
RUN ln -s /opt/edge-agent/dist/main.js /usr/local/bin/edge-agent && chmod +x dist/main.js

USER edge-agent
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HEALTH_PORT || 8080) + '/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/edge-agent/dist/main.js"]
CMD ["run", "-c", "/etc/edge-agent/agent.json"]
