# Steward's image for the compose deployment (docker-compose.temporal.yml) and the Helm chart
# (infra/helm/steward): the API, the incident worker and sandbox hosts all run from it. git and bash
# serve the workspaces; the Docker client lets a compose sandbox host run each sandbox as a container
# on the engine whose socket it is given; bubblewrap (with util-linux's prlimit and setpriv, already
# in the base image) is the chart's sandbox backend.
FROM node:20-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git bash ca-certificates docker.io bubblewrap \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/steward
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --loglevel=error
COPY . .
ENV STEWARD_DATA_DIR=/var/lib/steward
CMD ["npx", "tsx", "workers/service.main.ts"]
