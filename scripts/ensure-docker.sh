#!/usr/bin/env bash
# The docker test tier's engine and images, built here and cached (test/docker/). Idempotent: a
# second run finds the daemon answering and every image tagged by the hash of its inputs, and
# returns in a second or two.
#
#   bash scripts/ensure-docker.sh            # a Docker daemon that answers, started if need be
#   bash scripts/ensure-docker.sh --base     # and the Debian base image (the sandbox tests' image)
#   bash scripts/ensure-docker.sh --images   # and Steward's images; prints NAME=image lines on stdout
#
# No image registry is reachable where Steward is developed, so nothing is pulled: the base image
# is a Debian bookworm tree made by mmdebstrap from Debian's packages and `docker import`ed, with
# the host's Node 20 copied in (Debian bookworm ships Node 18, and nodejs.org is not reachable;
# the host's node is the one every other test runs on, and bookworm's libc and libstdc++ in the
# image are those it links against). Temporal runs from the CLI ensure-tools.sh built with Go.
#
# The daemon is started without its default bridge or iptables rules: these machines route only
# loopback, and the bridge would hand out 172.17.0.0/16 addresses nothing can reach. The tier runs
# its containers with host networking (docker-compose.host-network.yml) and sandboxes with
# --network none, so every connection stays on 127.0.0.1.
#
# Exit codes: 0 ready; 3 the engine cannot be installed or started here (the reason is the last
# line on stderr, starting "ensure-docker: unavailable:"); 1 anything else (a failed image build).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
unavailable() {
  say "unavailable: $*"
  exit 3
}
want_images=false
want_base=false
case "${1:-}" in
  --images) want_images=true want_base=true ;;
  --base) want_base=true ;;
  '') ;;
  *) say "usage: $0 [--base | --images]"; exit 2 ;;
esac
# Test files call this at once (jest runs two at a time): one builds, the others wait and find it built.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/steward-ensure-docker-$(id -u).lock"
  flock 9
fi

DOCKERD_LOG="${STEWARD_DOCKERD_LOG:-/var/log/steward-dockerd.log}"
started_at=$(date +%s)

# --- packages -----------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then need+=(docker-compose); fi
if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || unavailable "Debian's ${need[*]} not installed, and installing needs root"
  command -v apt-get >/dev/null 2>&1 || unavailable "${need[*]} not installed, and there is no apt-get to install Debian's packages"
  say "installing Debian's ${need[*]}"
  apt-get update -qq >&2 || unavailable "apt-get update failed (no Debian mirror reachable?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || unavailable "apt-get install ${need[*]} failed"
fi

# --- the daemon ---------------------------------------------------------------------------------
engine_answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }
if ! engine_answers; then
  [ "$(id -u)" = 0 ] || unavailable "no Docker daemon answers, and starting one needs root"
  if [ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null 2>&1; then
    say "a dockerd is running but does not answer yet; waiting for it"
  else
    say "starting dockerd (no bridge, no iptables: only loopback is routed here); log in $DOCKERD_LOG"
    # Its own session, so that it outlives this script and the test run that called it: the
    # images and the engine are the cache the next run starts from.
    # 9>&-: the daemon outlives this script and must not keep its lock (fd 9) open, or every later
    # call waits on the lock for as long as the daemon runs: the docker tier's second test file hung.
    setsid dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false >>"$DOCKERD_LOG" 2>&1 < /dev/null 9>&- &
  fi
  for _ in $(seq 1 60); do
    engine_answers && break
    if ! pgrep -x dockerd >/dev/null 2>&1; then
      unavailable "dockerd exited at start: $(grep -E 'level=(error|fatal)|failed' "$DOCKERD_LOG" 2>/dev/null | tail -n 1 | cut -c1-300)"
    fi
    sleep 1
  done
  engine_answers || unavailable "dockerd did not answer within 60 s: $(tail -n 1 "$DOCKERD_LOG" 2>/dev/null | cut -c1-300)"
fi
say "engine $(docker info --format '{{.ServerVersion}} ({{.Driver}})') ready after $(($(date +%s) - started_at)) s"
$want_base || exit 0

# --- images -------------------------------------------------------------------------------------
hash_of() { sha256sum | cut -c1-16; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The base: everything any of Steward's images needs from Debian, in one tree, so that one
# mmdebstrap run serves them all: git and bash for workspaces, bubblewrap for the chart's sandbox
# backend, Postgres for the compose stack's database, and the host's node and docker client.
SUITE=bookworm
PACKAGES=bash,ca-certificates,git,bubblewrap,procps,postgresql,tini
NODE_BIN="$(readlink -f "$(command -v node)")"
NPM_DIR="$(dirname "$NODE_BIN")/../lib/node_modules/npm"
[ -d "$NPM_DIR" ] || NPM_DIR=/usr/lib/node_modules/npm
DOCKER_CLIENT="$(readlink -f /usr/bin/docker 2>/dev/null || readlink -f "$(command -v docker)")"
base_tag="steward-debian-base:$( { echo "$SUITE $PACKAGES v1"; sha256sum "$NODE_BIN" "$DOCKER_CLIENT"; cat "$NPM_DIR/package.json"; } | hash_of)"
if ! have_image "$base_tag"; then
  say "building $base_tag with mmdebstrap from Debian $SUITE (a few minutes, once)"
  t0=$(date +%s)
  mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="copy-in $NODE_BIN /usr/bin" \
    --customize-hook="mkdir -p \"\$1/usr/lib/node_modules\"" \
    --customize-hook="copy-in $NPM_DIR /usr/lib/node_modules" \
    --customize-hook='chroot "$1" ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm' \
    --customize-hook='chroot "$1" ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/bin/npx' \
    --customize-hook="copy-in $DOCKER_CLIENT /usr/bin" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$SUITE" - | docker import --change 'ENV LANG=C.UTF-8' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base_tag" >/dev/null
  say "built $base_tag in $(($(date +%s) - t0)) s"
fi

# This machine's own certificate authorities (/usr/local/share/ca-certificates), when it has any:
# where registries are reached through a TLS-inspecting egress proxy, npm ci in a build and the
# setup phase of a sandbox need them as the host does. A thin layer over the base, so the base
# itself stays what Debian ships; node is pointed at the system bundle, as on the host.
local_cas=(/usr/local/share/ca-certificates/*.crt)
if [ -e "${local_cas[0]}" ]; then
  trust_tag="steward-debian-trust:$( { echo "$base_tag"; sha256sum "${local_cas[@]}"; } | hash_of)"
  if ! have_image "$trust_tag"; then
    trust_context="$(mktemp -d)"
    cp "${local_cas[@]}" "$trust_context/"
    printf '%s\n' "FROM $base_tag" 'COPY *.crt /usr/local/share/ca-certificates/' 'RUN update-ca-certificates >/dev/null' \
      'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' > "$trust_context/Dockerfile"
    say "adding this machine's ${#local_cas[@]} local certificate authorities to the base ($trust_tag)"
    DOCKER_BUILDKIT=0 docker build --quiet -t "$trust_tag" "$trust_context" >/dev/null
    rm -rf "$trust_context"
  fi
  base_tag="$trust_tag"
fi
echo "STEWARD_BASE_IMAGE=$base_tag"

# A container with no network is what the sandboxes are: an engine that cannot run one is no use.
probe="$(docker run --rm --network none "$base_tag" sh -c 'echo ok' 2>&1)" || unavailable "the engine cannot run a container with --network none: $(printf '%s' "$probe" | tail -n 1 | cut -c1-300)"
$want_images || exit 0

# Builds run with the host's network (npm ci needs the registry; the default bridge is not there)
# and the legacy builder, which is what Debian's docker.io has without buildx.
build() {
  local tag="$1"
  shift
  if have_image "$tag"; then return; fi
  say "building $tag"
  local t0
  t0=$(date +%s)
  DOCKER_BUILDKIT=0 docker build --quiet --force-rm --network host --build-arg "BASE_IMAGE=$base_tag" -t "$tag" "$@" >/dev/null
  say "built $tag in $(($(date +%s) - t0)) s"
}

# Steward: tagged by its build context's files (what git tracks or would track, which is what
# .dockerignore leaves in), so a rerun on the same tree builds nothing. A change of source alone
# reuses the npm ci layer from the engine's layer cache.
context_hash="$( { echo "$base_tag"; git ls-files -z -co --exclude-standard | sort -z | xargs -0 -r sha256sum 2>/dev/null || true; } | hash_of)"
steward_tag="steward:$context_hash"
build "$steward_tag" -f infra/steward.Dockerfile .
# Earlier trees' images: each is only a thin layer over the shared npm ci one, but they pile up.
# One still in use by a container is kept (docker refuses), which is what a parallel run needs.
docker images steward --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$steward_tag" | xargs -r docker rmi >/dev/null 2>&1 || true
echo "STEWARD_IMAGE=$steward_tag"

temporal_bin=.tools/bin/temporal
[ -x "$temporal_bin" ] || { say "no $temporal_bin: run scripts/ensure-tools.sh first"; exit 1; }
temporal_tag="steward-temporal:$( { echo "$base_tag"; sha256sum "$temporal_bin" infra/docker/temporal.Dockerfile; } | hash_of)"
if ! have_image "$temporal_tag"; then
  temporal_context="$(mktemp -d)"
  cp "$temporal_bin" "$temporal_context/temporal"
  build "$temporal_tag" -f infra/docker/temporal.Dockerfile "$temporal_context"
  rm -rf "$temporal_context"
fi
echo "STEWARD_TEMPORAL_IMAGE=$temporal_tag"

postgres_tag="steward-postgres:$( { echo "$base_tag"; sha256sum infra/docker/postgres.Dockerfile infra/docker/postgres-entrypoint.sh; } | hash_of)"
build "$postgres_tag" -f infra/docker/postgres.Dockerfile infra/docker
echo "STEWARD_POSTGRES_IMAGE=$postgres_tag"

compose="docker-compose"
docker compose version >/dev/null 2>&1 && compose="docker compose"
echo "STEWARD_COMPOSE=$compose"
say "images ready after $(($(date +%s) - started_at)) s"
