# syntax=docker/dockerfile:1
# The Agent Registry Service image: the compiled service on production dependencies only, run as the
# unprivileged `node` user with its data in the /app/data volume. Jarvis runs from the same image
# (docker-compose.yml). How it is built, checked and sized: docs/deployment.md.

# Node 20 LTS, as package.json's engines ask (better-sqlite3 12.x).
ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies exactly as the lockfile pins them. The native addons (better-sqlite3, and sqlite3
# under @google/adk) download a prebuilt binary when they can and compile otherwise, hence the compiler.
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` runs on npm ci: without Vite (a production install) it only says the UI is not built here.
COPY scripts/prepare-ui.mjs ./scripts/prepare-ui.mjs
RUN npm ci --omit=dev --no-audit --no-fund

# The build: every dependency (tsc, Vite), no install scripts (nothing native is needed to compile), then
# dist/ with the web UI in dist/ui.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jarvis_agent ./jarvis_agent
COPY scripts ./scripts
COPY ui ./ui
RUN npm run build

# The runtime: owned by root and read-only to the service; only /app/data is writable, by `node` (uid 1000).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8003 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8003
# Node's own fetch: no curl in a slim image. /health answers 503 when the database is unusable.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8003) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# HOST=0.0.0.0 needs REGISTRY_ADMIN_TOKEN and REGISTRY_API_TOKEN: without them the service refuses to start.
CMD ["node", "dist/jarvis_agent/service-cli.js", "serve"]
