# Curfew: an OpenID Connect provider whose sessions end on time.
# Node 24 strips TypeScript types natively, so the image runs the sources as they are.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` devDependency is not needed on a Node 24 image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY views ./views
COPY config ./config
USER node
EXPOSE 3000
# Liveness only: a store outage makes the instance not ready (/readyz, for the load balancer),
# never unhealthy, so the orchestrator does not restart every instance during a Redis blip.
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# One container per host core, or one container using them all: CURFEW_WORKERS=auto (needs
# REDIS_URL) forks a worker per core the container may use; signals go to this process, which
# forwards them and exits when every worker has shut down.
CMD ["node", "src/main.ts"]
