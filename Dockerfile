# Wharf's image, in two stages. The build stage fetches Node.js 24 and npm from the npm
# registry, installs every dependency, compiles src/ to dist/ and drops the development
# dependencies; the final stage gets only what runs: bin/, dist/, package.json and the
# production node_modules, which carry Node.js 24 itself (the `node` package).
#
# The base is a build argument, so no image registry is needed: any Debian 12 (bookworm) root
# filesystem will do, e.g. `debian:bookworm-slim`, or one made with debootstrap and imported
# with `docker import` (docs/deploy.md). The build stage needs curl and CA certificates and
# installs them with apt-get when the base lacks them; the final stage needs neither.
#
#   docker build --network host --build-arg BASE=debian:bookworm-slim -t wharf .
#   docker run -d -p 8080:8080 -v wharf-data:/data -e WHARF_ADMIN_PASSWORD=… wharf
#
# Only the classic builder's features are used (no BuildKit mounts), so Debian's docker.io
# builds it as it is.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ARG NPM_VERSION=11.19.1
ARG NPM_REGISTRY=https://registry.npmjs.org
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The base's trust store, so a site's own CA added to the base is honoured by npm too.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
RUN if ! command -v curl >/dev/null || [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /build
COPY package.json package-lock.json ./
# Node.js from the registry, the version the `node` dependency pins (one place to change it).
RUN node_version=$(sed -n 's/^ *"node": "\([0-9][0-9.]*\)",\{0,1\}$/\1/p' package.json) \
 && [ -n "$node_version" ] || { echo "no \"node\": \"X.Y.Z\" dependency in package.json"; exit 1; }; \
    case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "unsupported machine $(uname -m)"; exit 1 ;; esac \
 && mkdir -p /opt/node /opt/npm \
 && curl -fsSL "$NPM_REGISTRY/node-linux-$arch/-/node-linux-$arch-$node_version.tgz" | tar -xz -C /opt/node --strip-components=1 \
 && curl -fsSL "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz" | tar -xz -C /opt/npm --strip-components=1 \
 && ln -s /opt/node/bin/node /usr/local/bin/node && ln -s /opt/npm/bin/npm-cli.js /usr/local/bin/npm \
 && node --version && npm --version
RUN npm ci --registry "$NPM_REGISTRY"
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# Headers of the bundled Node.js serve only native builds, which nothing here does.
RUN npm run build \
 && npm prune --omit=dev \
 && rm -rf node_modules/node/node_modules/node-linux-*/include

FROM ${BASE}
ENV PATH=/opt/wharf/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production \
    WHARF_HOST=0.0.0.0 \
    WHARF_PORT=8080 \
    WHARF_DATA=/data \
    WHARF_LOG_FORMAT=json
# A user of its own (uid/gid 10001), owner of /data; a named volume starts as a copy of it.
RUN groupadd --system --gid 10001 wharf \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin wharf \
 && mkdir -p /data && chown 10001:10001 /data && chmod 0750 /data
COPY --from=build /build/package.json /opt/wharf/package.json
COPY --from=build /build/bin /opt/wharf/bin
COPY --from=build /build/dist /opt/wharf/dist
COPY --from=build /build/node_modules /opt/wharf/node_modules
RUN ln -s /opt/wharf/bin/wharf.js /usr/local/bin/wharf && wharf --version
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8080
# Node itself asks, so the check needs nothing from the base (no curl): plain HTTP, else
# HTTPS (WHARF_TLS_CERT or ACME make the port HTTPS only; any certificate will do here).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const get = (m, next) => require(m).get({ host: '127.0.0.1', port: process.env.WHARF_PORT || 8080, path: '/-/health', rejectUnauthorized: false, timeout: 4000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('timeout', function () { this.destroy(new Error('timeout')); }).on('error', next); get('node:http', () => get('node:https', () => process.exit(1)));"]
ENTRYPOINT ["wharf"]
CMD ["serve"]
