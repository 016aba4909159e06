#!/usr/bin/env bash
# Installs what Steward's local stack and tests need, and nothing that is already there:
# npm dependencies, the Temporal CLI and helm (built from source with Go: prebuilt downloads are
# not reachable from every machine), and a Postgres server unless DATABASE_URL points at one.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_CLI_VERSION=v1.5.1 # newest tag whose go.mod has no replace directive, so `go install` works
HELM_VERSION=v3.21.4 # the chart's lint and template test (infra/helm.test.ts); its go.mod has no replace directive either
say() { printf 'ensure-tools: %s\n' "$*" >&2; }

# Installed once per lock: node_modules remembers the lock's hash it was installed from (file times
# say nothing after a clone, a checkout or a shared node_modules).
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.steward-lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  say "installing npm dependencies (the versions locked in package-lock.json)"
  # `npm ci`, as CI systems and Dockerfiles run it: exactly the lock, which must hold every platform's
  # optional binaries (scripts/package-lock.test.ts checks that it does).
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.steward-lock-sha256
fi

if [ ! -x .tools/bin/temporal ] || [ "$(cat .tools/temporal.version 2>/dev/null)" != "$TEMPORAL_CLI_VERSION" ]; then
  if ! command -v go >/dev/null 2>&1; then
    say "Go is needed to build the Temporal CLI; installing golang-go"
    apt-get update -qq && apt-get install -y -qq golang-go >/dev/null
  fi
  say "building the Temporal CLI $TEMPORAL_CLI_VERSION with go install (several minutes the first time)"
  mkdir -p .tools/bin
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  echo "$TEMPORAL_CLI_VERSION" > .tools/temporal.version
fi

if [ ! -x .tools/bin/helm ] || [ "$(cat .tools/helm.version 2>/dev/null)" != "$HELM_VERSION" ]; then
  if ! command -v go >/dev/null 2>&1; then
    say "Go is needed to build helm; installing golang-go"
    apt-get update -qq && apt-get install -y -qq golang-go >/dev/null
  fi
  say "building helm $HELM_VERSION with go install (a few minutes the first time)"
  mkdir -p .tools/bin
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" > .tools/helm.version
fi

has_postgres_server() {
  command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1
}
if [ -z "${DATABASE_URL:-}" ] && ! has_postgres_server; then
  if [ "$(id -u)" != 0 ]; then
    say "no Postgres server found: install Debian's postgresql package, or set DATABASE_URL"
    exit 1
  fi
  say "installing Debian's postgresql package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if [ -z "${DATABASE_URL:-}" ] && [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  # Postgres will not run as root; the cluster is owned by this system user.
  useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi

# The bubblewrap sandbox backend (STEWARD_SANDBOX_BACKEND=auto picks it where it can run): bwrap,
# with util-linux's prlimit and setpriv. Without it, sandboxes fall back to the process level,
# which isolates nothing and says so at start; STEWARD_SANDBOX_BACKEND=process skips this.
if [ "$(uname -s)" = Linux ] && [ "${STEWARD_SANDBOX_BACKEND:-auto}" != process ] && ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's bubblewrap package, for the isolated sandbox backend"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    say "bubblewrap is not installed: sandboxes will run at the process level, without isolation (install Debian's bubblewrap)"
  fi
fi
