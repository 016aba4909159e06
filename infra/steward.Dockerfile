# Steward's image for the compose deployment (docker-compose.temporal.yml) and the Helm chart
# (infra/helm/steward): the API, the incident worker and sandbox hosts all run from it. git and bash
# serve the workspaces; the Docker client lets a compose sandbox host run each sandbox as a container
# on the engine whose socket it is given; bubblewrap (with util-linux's prlimit and setpriv) is the
# chart's sandbox backend.
#
# BASE_IMAGE is any Debian bookworm image with Node 20. Where no registry is reachable,
# scripts/ensure-docker.sh builds one from Debian's packages (mmdebstrap, `docker import`) with
# git, bubblewrap and the Docker client already in it, and passes it here; the apt step then has
# nothing to do. `npm ci` needs the npm registry: build with `docker build --network host`.
ARG BASE_IMAGE=node:20-bookworm
FROM ${BASE_IMAGE}
RUN if ! command -v git >/dev/null || ! command -v bwrap >/dev/null || ! command -v docker >/dev/null; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git bash ca-certificates docker.io bubblewrap \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && node -e 'if (Number(process.versions.node.split(".")[0]) < 20) { console.error(`Node 20 or later is needed, the base image has ${process.version}`); process.exit(1); }'
WORKDIR /opt/steward
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
ENV STEWARD_DATA_DIR=/var/lib/steward
CMD ["npx", "tsx", "workers/service.main.ts"]
