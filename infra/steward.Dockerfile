# Steward's image for the compose deployment (docker-compose.temporal.yml): the API, the incident
# worker and sandbox hosts all run from it. git and bash serve the workspaces; the Docker client
# lets a sandbox host run each sandbox as a container on the engine whose socket it is given.
FROM node:20-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git bash ca-certificates docker.io \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/steward
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --loglevel=error
COPY . .
ENV STEWARD_DATA_DIR=/var/lib/steward
CMD ["npx", "tsx", "workers/service.main.ts"]
