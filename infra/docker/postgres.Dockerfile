# Postgres from Debian's package, for the compose stack where no image registry is reachable (the
# docker test tier). It reads the same variables as the official postgres image (POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB), plus PGPORT and POSTGRES_LISTEN for host networking.
# Build context: infra/docker.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
RUN mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
 && chmod 0700 /var/lib/postgresql/data
USER postgres
ENV PGDATA=/var/lib/postgresql/data
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
