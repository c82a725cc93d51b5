# syntax=docker/dockerfile:1

# One image for every Keel process: the API (default CMD) and the one-shot migration step
# (`node node_modules/typeorm/cli.js migration:run -d dist/src/database/data-source.js`).
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: all dependencies, TypeScript compiled to dist/ (dist/src, dist/migrations, dist/package.json).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Every entry in package.json "allowScripts" is denied, but the image's npm 10 does not read that
# policy; --ignore-scripts applies the same decision.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# Runtime: production dependencies and the compiled output only, owned by root and run as `node`.
FROM ${NODE_IMAGE} AS runtime
ENV APP_ENV=production \
    NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; the graceful drain is in-process.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
