# The compose stack's Temporal server where no image registry is reachable (the docker test tier):
# the Temporal CLI that scripts/ensure-tools.sh builds from source, running its dev server
# (SQLite in a file, Web UI built in). It is not Temporal's production server on Postgres
# (temporalio/auto-setup, which docker-compose.temporal.yml names), and is labelled so where used.
# Build context: a folder holding the `temporal` binary alone.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY temporal /usr/local/bin/temporal
RUN mkdir -p /var/lib/temporal
ENTRYPOINT ["temporal", "server", "start-dev"]
CMD ["--ip", "0.0.0.0", "--ui-ip", "0.0.0.0", "--db-filename", "/var/lib/temporal/temporal.db"]
