#!/usr/bin/env bash
# Bootstrap the local toolchain, idempotently, into the git-ignored .tools/:
#   1. a Docker engine that answers `docker info` (starts dockerd if needed)
#   2. an engine: $TERRAFORM_BINARY_NAME, else tofu or terraform on PATH, else
#      OpenTofu built from Go modules          -> .tools/bin/tofu
#   3. the kreuzwerker/docker provider 3.6.2, built from its source archive, and
#      hashicorp/tls 4.1.0 (the environment's CA), built from its Go module, in a
#      filesystem mirror + CLI config so `init` never goes to the network
#   4. promtool and amtool of the catalog's Prometheus and Alertmanager, built
#      from Go modules (Debian's older .debs if that fails), actionlint, and
#      OpenTofu even where another engine is used (the encryption tests)
#   5./6. engine choice, written with the rest to .tools/env.sh
# Then: source .tools/env.sh
#
# Environment:
#   TERRAFORM_BINARY_NAME  engine to use (name or path); default: see step 2
#   SKIP_TOOL_BUILD=1      skip steps 2-3: bring your own engine and provider
#   PM_PROVIDER_SOURCE     path of the provider's v3.6.2 source archive (default
#                          ../shared/vendor/terraform-provider-docker-3.6.2.tar.gz)
#   PROVIDER_SOURCE_VERSION  Go module version built when there is no archive (see below)
# Option:
#   --deploy               only what deploy/plan need (skips step 4, the test tools)
#   --docker-only          only step 1 (deploy checks its images before anything slow)
#   BOOTSTRAP_CHECK=1      re-run the self-tests (docker networking, offline
#                          init+plan) even when nothing had to be built
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin

# OpenTofu: newest 1.x the Go proxy serves here; needs Go >= 1.26.6.
TOFU_VERSION=1.12.6
# The replace lines of opentofu's own go.mod at that tag: a wrapper module
# must repeat them, since replaces of a dependency are ignored.
TOFU_REPLACES=(
  "github.com/hashicorp/hcl/v2 v2.20.1 => github.com/opentofu/hcl/v2 v2.20.2-0.20251021132045-587d123c2828"
)

# kreuzwerker/docker: the version the cdktf bindings (@cdktf/provider-docker
# 12.0.3) pin, and under which the binary is put into the mirror.
PROVIDER_VERSION=3.6.2
# Its real source: an archive of tag v3.6.2 (commit 2f20f8c3ce82), because the
# Go module proxy reachable here does not serve that commit. Taken from
# $PM_PROVIDER_SOURCE when set (a clone or worktree away from shared/), else
# from the shared vendor folder next to the project root. Only this archive is
# accepted: it is filed as 3.6.2, so it must be 3.6.2.
PROVIDER_ARCHIVE_SHA256=1fe95b7ea6fda52a33131e67ffc2dc4aff89633b81ef3f0bea7c930161e6d028
PROVIDER_VENDOR_ARCHIVE=$ROOT/../shared/vendor/terraform-provider-docker-$PROVIDER_VERSION.tar.gz
# Fallback without the archive: a Go module version of newer source. Its
# go.mod still declares the old path github.com/terraform-providers/terraform-
# provider-docker and its tags lack /v3, so only pseudo-versions of the
# kreuzwerker path work; the only one the proxy serves is this commit two weeks
# after v4.6.0 (2026-09-16). The JSON that the 3.6.2 bindings synthesize plans
# and applies with it unchanged (v3->v4 mainly dropped
# docker_network.check_duplicate), so it is mirrored under 3.6.2, with a
# warning on every run.
PROVIDER_SOURCE_VERSION=${PROVIDER_SOURCE_VERSION:-v0.0.0-20260916201441-96d331c98ff4}

# hashicorp/tls: the version the cdktf bindings (@cdktf/provider-tls 11.0.1)
# pin. Its tags lack the /v4 its go.mod would need, so the Go proxy serves its
# commits only as pseudo-versions: this one is the v4.1.0 release commit
# (eefba144662d, 2025-04-23; its CHANGELOG opens with 4.1.0).
TLS_PROVIDER_VERSION=4.1.0
TLS_PROVIDER_MODULE_VERSION=v1.2.1-0.20250423195406-eefba144662d

PROVIDERS=$TOOLS/providers
RC=$TOOLS/tofu.rc
# One mirror entry per registry host: tofu resolves "kreuzwerker/docker" to
# registry.opentofu.org, terraform (and cdktf's lock handling) to registry.terraform.io.
REGISTRIES=(registry.opentofu.org registry.terraform.io)

# TF_INPUT=0: an engine never prompts; a missing value is an error naming it.
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
unset TF_PLUGIN_CACHE_DIR

# Each line ends with the time its step took (set by step()).
STEP_T0=$(date +%s%N)
say() { printf 'bootstrap: %-28s ... %s [%s s]\n' "$1" "$2" "$(elapsed)"; }
elapsed() { local ms=$((($(date +%s%N) - STEP_T0) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
step() { STEP_T0=$(date +%s%N); "$@"; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }
os_arch() {
  case "$(uname -m)" in x86_64) echo linux_amd64 ;; aarch64 | arm64) echo linux_arm64 ;; *) die "unsupported arch $(uname -m)" ;; esac
}
provider_bin() { echo "$PROVIDERS/$1/kreuzwerker/docker/$PROVIDER_VERSION/$(os_arch)/terraform-provider-docker_v$PROVIDER_VERSION"; }
tls_provider_bin() { echo "$PROVIDERS/$1/hashicorp/tls/$TLS_PROVIDER_VERSION/$(os_arch)/terraform-provider-tls_v$TLS_PROVIDER_VERSION"; }
docker_ok() { timeout 20 docker info >/dev/null 2>&1; }
need_go() {
  find_go || die "go is needed to build OpenTofu and the provider (or set SKIP_TOOL_BUILD=1 and TERRAFORM_BINARY_NAME)"
}
# go build in a wrapper module dir; -mod=mod lets it fill go.sum with only
# what the build needs. Its chatter goes to build.log, shown on failure.
go_build() {
  local dir=$1
  shift
  if ! (cd "$dir" && GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0 go build -trimpath "$@") >"$dir/build.log" 2>&1; then
    tail -n 40 "$dir/build.log" >&2
    die "go build failed in $dir (full log: $dir/build.log)"
  fi
}

# shellcheck source-path=SCRIPTDIR source=lib/debs.sh
source "$ROOT/scripts/lib/debs.sh"
# shellcheck source-path=SCRIPTDIR source=lib/programs.sh
source "$ROOT/scripts/lib/programs.sh" # ensure_program: Prometheus, Alertmanager from Go modules
PROGRAMS_SAY=say

# ---------------------------------------------------------------- 1. docker
ensure_docker() {
  if docker_ok; then
    [[ -z ${BOOTSTRAP_CHECK:-} ]] || docker_selftest
    say "docker engine" "ok (already running${BOOTSTRAP_CHECK:+, self-test passed})"
    return
  fi
  local t0 started=""
  t0=$(now)
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    apt-get update -qq
    # 9>&-: its init script may start dockerd, which must not hold our lock
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null 9>&-
  fi
  # The package's init script may have started it; a dockerd may be starting up.
  if ! docker_ok && ! pgrep -x dockerd >/dev/null; then
    # A pid file left by a daemon that died stops a new one from starting.
    local pidfile=/var/run/docker.pid
    if [[ -f $pidfile ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
    mkdir -p "$TOOLS"
    # No flags needed here: overlay2 works on the ext4 root, iptables
    # (nf_tables) works, docker-proxy serves 127.0.0.1 publishing.
    # setsid+nohup: the daemon must outlive this script and its session;
    # 9>&-: it must not inherit (and so hold forever) the bootstrap lock.
    setsid nohup dockerd >>"$TOOLS/dockerd.log" 2>&1 </dev/null 9>&- &
    started=1
  fi
  for _ in $(seq 60); do docker_ok && break; sleep 1; done
  docker_ok || die "dockerd did not answer within 60 s; see $TOOLS/dockerd.log"
  docker_selftest
  say "docker engine" "ok (${started:+started dockerd, }$(($(now) - t0)) s, self-test passed)"
}

# Containers reach each other by name on a user-defined bridge, a port
# published on 127.0.0.1 answers, host.docker.internal:host-gateway reaches
# the host. Uses an image imported from busybox-static (no registry here).
# A subshell, so that its EXIT trap cleans up after a failure too.
docker_selftest() (
  label=bootstrap-selftest=1 img=bootstrap-selftest:local net=bootstrap-selftest-net hpid="" tmp=""
  # shellcheck disable=SC2317 # run by the EXIT trap, and first to clear leftovers of a killed run
  cleanup() {
    [[ -z $hpid ]] || kill "$hpid" 2>/dev/null || true
    ids=$(docker ps -aq --filter "label=$label")
    # shellcheck disable=SC2086 # one id per word
    [[ -z $ids ]] || docker rm -f $ids >/dev/null 2>&1 || true
    docker network rm "$net" >/dev/null 2>&1 || true
    docker rmi "$img" >/dev/null 2>&1 || true
    [[ -z $tmp ]] || rm -rf "$tmp"
  }
  cleanup
  trap cleanup EXIT
  tmp=$(mktemp -d)
  dpkg-deb -x "$(fetch_debs busybox-static | tail -n1)" "$tmp/deb"
  mkdir -p "$tmp/root/bin" "$tmp/root/www" "$tmp/hostwww"
  cp "$tmp/deb/bin/busybox" "$tmp/root/bin/"
  for a in sh httpd wget; do ln -s busybox "$tmp/root/bin/$a"; done
  echo from-container >"$tmp/root/www/index.html"
  echo from-host >"$tmp/hostwww/index.html"
  bb=$tmp/root/bin/busybox
  tar -C "$tmp/root" -c . | docker import - "$img" >/dev/null
  docker network create --label "$label" "$net" >/dev/null

  docker run -d --label "$label" --name bootstrap-selftest-web --network "$net" \
    -p 127.0.0.1::8080 "$img" httpd -f -p 8080 -h /www >/dev/null
  # busybox-static 1.35's wget segfaults with -T, hence timeout(1) around it
  out=$(timeout 20 docker run --rm --label "$label" --network "$net" "$img" \
    sh -c 'for i in 1 2 3 4 5; do wget -qO- http://bootstrap-selftest-web:8080/ && exit; sleep 1; done') || true
  [[ $out == from-container ]] || die "docker self-test: containers cannot reach each other on a bridge network"
  port=$(docker port bootstrap-selftest-web 8080/tcp | head -n1)
  out=$(timeout 10 "$bb" wget -qO- "http://$port/") || true
  [[ $out == from-container ]] || die "docker self-test: published port $port does not answer"

  gw=$(docker run --rm --label "$label" --add-host host.docker.internal:host-gateway "$img" \
    sh -c 'while read -r ip name; do [ "$name" = host.docker.internal ] && echo "$ip"; done </etc/hosts; true')
  [[ -n $gw ]] || die "docker self-test: host-gateway did not resolve"
  # A port below the ephemeral range (outgoing connections take theirs there); another if taken.
  for _ in 1 2 3 4 5; do
    hport=$((20000 + RANDOM % 12000))
    "$bb" httpd -f -p "$gw:$hport" -h "$tmp/hostwww" &
    hpid=$!
    sleep 0.3
    kill -0 "$hpid" 2>/dev/null && break
    hpid=""
  done
  [[ -n $hpid ]] || die "docker self-test: no free port on $gw for a host server"
  out=$(timeout 20 docker run --rm --label "$label" --network "$net" --add-host host.docker.internal:host-gateway "$img" \
    sh -c "for i in 1 2 3 4 5; do wget -qO- http://host.docker.internal:$hport/ && exit; sleep 1; done") || true
  [[ $out == from-host ]] || die "docker self-test: host.docker.internal ($gw) not reachable from a container"
)

# ---------------------------------------------------------------- 2. tofu
tofu_version_ok() {
  [[ -x $BIN/tofu ]] && [[ "$(TF_CLI_CONFIG_FILE=/dev/null "$BIN/tofu" version 2>/dev/null | head -n1)" == "OpenTofu v$TOFU_VERSION" ]]
}
ensure_tofu() {
  if tofu_version_ok; then say "opentofu $TOFU_VERSION" "ok (already built)"; return; fi
  need_go
  local t0 dir=$TOOLS/build/tofu r
  t0=$(now)
  mkdir -p "$dir" "$BIN"
  {
    printf 'module bootstrap/tofu\n\ngo 1.26.6\n\n'
    # opentofu sets this godebug in its go.mod (ML-KEM TLS breaks some endpoints)
    printf 'godebug tlsmlkem=0\n\n'
    printf 'require github.com/opentofu/opentofu v%s\n\n' "$TOFU_VERSION"
    for r in "${TOFU_REPLACES[@]}"; do printf 'replace %s\n' "$r"; done
  } >"$dir/go.mod"
  say "opentofu $TOFU_VERSION" "building (minutes when the Go caches are cold)"
  # version.dev=no: as in opentofu's release build, else it says v1.12.6-dev
  go_build "$dir" -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
    -o "$BIN/tofu.new" github.com/opentofu/opentofu/cmd/tofu
  mv -f "$BIN/tofu.new" "$BIN/tofu"
  tofu_version_ok || die "built tofu does not report v$TOFU_VERSION"
  say "opentofu $TOFU_VERSION" "ok (built in $(($(now) - t0)) s)"
}

# ---------------------------------------------------------------- 3. provider
write_rc() {
  local inc="" r
  for r in "${REGISTRIES[@]}"; do inc+="\"$r/kreuzwerker/docker\", \"$r/hashicorp/tls\", "; done
  inc=${inc%, }
  cat >"$RC.new" <<EOF
# Written by scripts/bootstrap.sh. kreuzwerker/docker and hashicorp/tls come
# only from the local mirror, never from the network; anything else as usual.
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "$PROVIDERS"
    include = [$inc]
  }
  direct {
    exclude = [$inc]
  }
}
EOF
  mv -f "$RC.new" "$RC"
}
# Decides what the provider is built from: PROVIDER_FROM (the stamp: a change
# rebuilds) and PROVIDER_FROM_SAYS (for people).
PROVIDER_ARCHIVE="" PROVIDER_FROM="" PROVIDER_FROM_SAYS=""
provider_source() {
  local archive=${PM_PROVIDER_SOURCE:-} sum
  if [[ -n $archive ]]; then
    [[ -f $archive ]] || die "PM_PROVIDER_SOURCE=$archive: no such file"
  elif [[ -f $PROVIDER_VENDOR_ARCHIVE ]]; then
    archive=$PROVIDER_VENDOR_ARCHIVE
  fi
  if [[ -n $archive ]]; then
    archive=$(realpath "$archive")
    sum=$(sha256sum <"$archive" | cut -d' ' -f1)
    [[ $sum == "$PROVIDER_ARCHIVE_SHA256" ]] ||
      die "$archive: sha256 $sum, expected $PROVIDER_ARCHIVE_SHA256 (the v$PROVIDER_VERSION source)"
    PROVIDER_ARCHIVE=$archive
    PROVIDER_FROM="archive sha256:$sum"
    PROVIDER_FROM_SAYS="v$PROVIDER_VERSION source archive"
  else
    PROVIDER_FROM="module $PROVIDER_SOURCE_VERSION"
    case $PROVIDER_SOURCE_VERSION in
      *-96d331c98ff4) PROVIDER_FROM_SAYS=v4.6.0+96d331c98ff4 ;;
      *) PROVIDER_FROM_SAYS=$PROVIDER_SOURCE_VERSION ;;
    esac
    say "provider docker $PROVIDER_VERSION" "WARNING: no v$PROVIDER_VERSION source archive (PM_PROVIDER_SOURCE, or $(realpath -m "$PROVIDER_VENDOR_ARCHIVE")): Go module source $PROVIDER_FROM_SAYS is filed as $PROVIDER_VERSION"
  fi
}
# in_mirror BIN_OF STAMP FROM: the mirror holds a binary for every registry host (BIN_OF names
# each), built from FROM (what STAMP says).
in_mirror() {
  local bin_of=$1 stamp=$2 from=$3 r
  [[ -f $stamp && "$(cat "$stamp")" == "$from" ]] || return 1
  for r in "${REGISTRIES[@]}"; do [[ -x $("$bin_of" "$r") ]] || return 1; done
}
# file_in_mirror BIN_OF STAMP FROM: the build at the first host's path + ".new" becomes every
# registry host's binary (hard links), stamped as built from FROM.
file_in_mirror() {
  local bin_of=$1 stamp=$2 from=$3 r first
  first=$("$bin_of" "${REGISTRIES[0]}")
  mv -f "$first.new" "$first"
  for r in "${REGISTRIES[@]:1}"; do
    mkdir -p "$(dirname "$("$bin_of" "$r")")"
    ln -f "$first" "$("$bin_of" "$r")"
  done
  echo "$from" >"$stamp"
}
ensure_provider() {
  local stamp=$TOOLS/build/docker-provider/built-from first
  first=$(provider_bin "${REGISTRIES[0]}")
  write_rc
  provider_source
  if in_mirror provider_bin "$stamp" "$PROVIDER_FROM"; then
    say "provider docker $PROVIDER_VERSION" "ok (already built, from $PROVIDER_FROM_SAYS)"
    [[ -z ${BOOTSTRAP_CHECK:-} ]] || verify_engines
    return
  fi
  need_go
  local t0 dir=$TOOLS/build/docker-provider
  t0=$(now)
  rm -f "$stamp"
  mkdir -p "$dir" "$(dirname "$first")"
  say "provider docker $PROVIDER_VERSION" "building from $PROVIDER_FROM_SAYS (minutes when cold)"
  if [[ -n $PROVIDER_ARCHIVE ]]; then
    # As its README and release build say: the module itself, -mod=mod fills go.sum.
    rm -rf "$dir/src"
    mkdir -p "$dir/src"
    tar -xzf "$PROVIDER_ARCHIVE" -C "$dir/src" --strip-components=1
    go_build "$dir/src" -ldflags "-s -w -X main.version=$PROVIDER_VERSION" -o "$first.new" .
  else
    # Require the path the provider's go.mod declares, replaced by the path it is served under.
    cat >"$dir/go.mod" <<EOF
module bootstrap/docker-provider

go 1.25.8

require github.com/terraform-providers/terraform-provider-docker v0.0.0

replace github.com/terraform-providers/terraform-provider-docker => github.com/kreuzwerker/terraform-provider-docker $PROVIDER_SOURCE_VERSION
EOF
    go_build "$dir" -ldflags "-s -w -X main.version=$PROVIDER_FROM_SAYS" \
      -o "$first.new" github.com/terraform-providers/terraform-provider-docker
  fi
  file_in_mirror provider_bin "$stamp" "$PROVIDER_FROM"
  say "provider docker $PROVIDER_VERSION" "ok (built from $PROVIDER_FROM_SAYS in $(($(now) - t0)) s)"
  verify_engines
}

# hashicorp/tls from its Go module, filed under 4.1.0 for every registry host.
ensure_tls_provider() {
  local dir=$TOOLS/build/tls-provider first t0
  first=$(tls_provider_bin "${REGISTRIES[0]}")
  if in_mirror tls_provider_bin "$dir/built-from" "$TLS_PROVIDER_MODULE_VERSION"; then
    say "provider tls $TLS_PROVIDER_VERSION" "ok (already built)"
    return
  fi
  need_go
  t0=$(now)
  rm -f "$dir/built-from"
  mkdir -p "$dir" "$(dirname "$first")"
  say "provider tls $TLS_PROVIDER_VERSION" "building from Go module $TLS_PROVIDER_MODULE_VERSION (a minute when cold)"
  printf 'module bootstrap/tls-provider\n\ngo 1.23.7\n\nrequire github.com/hashicorp/terraform-provider-tls %s\n' "$TLS_PROVIDER_MODULE_VERSION" >"$dir/go.mod"
  go_build "$dir" -ldflags "-s -w -X main.version=$TLS_PROVIDER_VERSION" -o "$first.new" github.com/hashicorp/terraform-provider-tls
  file_in_mirror tls_provider_bin "$dir/built-from" "$TLS_PROVIDER_MODULE_VERSION"
  say "provider tls $TLS_PROVIDER_VERSION" "ok (built in $(($(now) - t0)) s)"
}

# Offline init + plan of a docker_network with each engine there is.
verify_engines() {
  local e seen=" "
  for e in "$BIN/tofu" terraform "${TERRAFORM_BINARY_NAME:-}"; do
    e=$(command -v "$e" 2>/dev/null) || continue
    [[ $seen != *" $e "* ]] || continue
    seen+="$e "
    verify_engine "$e"
  done
}
verify_engine() {
  local engine=$1 tmp t0 log
  t0=$(now)
  tmp=$(mktemp -d)
  log=$tmp/log
  cat >"$tmp/main.tf" <<EOF
terraform {
  required_providers {
    docker = { source = "kreuzwerker/docker", version = "$PROVIDER_VERSION" }
  }
}
provider "docker" {}
resource "docker_network" "verify" { name = "bootstrap-verify" }
EOF
  if (cd "$tmp" && export TF_CLI_CONFIG_FILE=$RC &&
    "$engine" init -input=false -no-color >"$log" 2>&1 &&
    "$engine" plan -input=false -no-color -lock=false >>"$log" 2>&1) &&
    grep -q 'docker_network.verify will be created' "$log"; then
    rm -rf "$tmp"
    say "verify $(basename "$engine")" "ok (offline init + plan, $(($(now) - t0)) s)"
  else
    cat "$log" >&2
    rm -rf "$tmp"
    die "$engine could not init/plan with the mirrored provider"
  fi
}

# ---------------------------------------------------------------- 4. promtool, amtool
# The versions the stack runs (the service descriptors, stacks/services/<name>/), built from Go modules with
# the programs themselves (scripts/lib/programs.sh). When that cannot be done,
# Debian's older builds, unpacked from the .debs (not installed: that would
# start daemons), saying so on every run.
ensure_promtools() {
  ensure_promtool prometheus promtool prometheus
  # alertmanager itself too: the unit tests run it to check inhibition, which amtool cannot.
  ensure_promtool alertmanager amtool prometheus-alertmanager alertmanager
}
ensure_promtool() {
  local program=$1 tool=$2 pkg=$3 t0 deb extra
  t0=$(now)
  mkdir -p "$BIN"
  if ensure_program "$program"; then
    for extra in "$tool" "${@:4}"; do ln -sfn "../programs/$program/bin/$extra" "$BIN/$extra"; done
    say "$tool" "ok, ${PROGRAM_BUILT_S:+built in $PROGRAM_BUILT_S s: }$PROGRAM_SAYS"
    return
  fi
  deb=$(fetch_debs "$pkg" | tail -n1)
  mkdir -p "$TOOLS/debroot"
  dpkg-deb -x "$deb" "$TOOLS/debroot"
  ln -sfn "../debroot/usr/bin/$tool" "$BIN/$tool"
  "$BIN/$tool" --version >/dev/null 2>&1 || die "$tool from the .deb does not run"
  say "$tool" "FALLBACK: Debian's $(dpkg-deb -f "$deb" Version), not the catalog's version (Go module build failed, see above; $(($(now) - t0)) s)"
}

# ---------------------------------------------------------------- 4b. actionlint
# Lints .github/workflows in the unit tests; a plain module, so `go install` works.
ACTIONLINT_VERSION=1.7.12
ensure_actionlint() {
  if [[ -x $BIN/actionlint && "$("$BIN/actionlint" -version 2>/dev/null | head -n1)" == "$ACTIONLINT_VERSION" ]]; then
    say "actionlint $ACTIONLINT_VERSION" "ok (already built)"
    return
  fi
  need_go
  local t0
  t0=$(now)
  mkdir -p "$BIN"
  if ! GOBIN=$BIN CGO_ENABLED=0 go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" >"$TOOLS/actionlint-build.log" 2>&1; then
    tail -n 20 "$TOOLS/actionlint-build.log" >&2
    die "building actionlint failed (log: $TOOLS/actionlint-build.log)"
  fi
  say "actionlint $ACTIONLINT_VERSION" "ok (built in $(($(now) - t0)) s)"
}

# ---------------------------------------------------------------- 5. engine
ENGINE=""
# The engine the user has: $TERRAFORM_BINARY_NAME, else tofu or terraform on PATH (not ours).
engine_on_path() {
  local e
  if [[ -n ${TERRAFORM_BINARY_NAME:-} ]]; then
    command -v "$TERRAFORM_BINARY_NAME" || die "TERRAFORM_BINARY_NAME=$TERRAFORM_BINARY_NAME not found"
    return
  fi
  for e in tofu terraform; do
    e=$(command -v "$e") || continue
    [[ $e != "$BIN/"* ]] && echo "$e" && return
  done
  return 1
}
choose_engine() {
  if ENGINE=$(engine_on_path); then :
  elif [[ -x $BIN/tofu ]]; then
    ENGINE=$BIN/tofu
  else
    die "no engine: none on PATH and .tools/bin/tofu is not built (SKIP_TOOL_BUILD=1 needs TERRAFORM_BINARY_NAME)"
  fi
  say "engine" "$ENGINE ($("$ENGINE" version 2>/dev/null | head -n1))"
}

# ---------------------------------------------------------------- 6. env.sh
write_env() {
  local rc_line="# TF_CLI_CONFIG_FILE left as it is: no local provider mirror"
  # Only point at our CLI config when the mirror is there (with SKIP_TOOL_BUILD
  # the user's own config must keep finding their provider).
  if [[ -x $(provider_bin "${REGISTRIES[0]}") && -f $RC ]]; then rc_line="export TF_CLI_CONFIG_FILE='$RC'"; fi
  cat >"$TOOLS/env.sh.new" <<EOF
# Written by scripts/bootstrap.sh; source it. Do not edit.
PATH=":\$PATH:"; PATH=\${PATH//":$BIN:"/:}; PATH=\${PATH#:}; PATH=\${PATH%:}
export PATH='$BIN':"\$PATH"
export TERRAFORM_BINARY_NAME='$ENGINE'
$rc_line
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1
export TF_INPUT=0
unset TF_PLUGIN_CACHE_DIR
EOF
  mv -f "$TOOLS/env.sh.new" "$TOOLS/env.sh"
  say "env" "ok ($TOOLS/env.sh)"
}

main() {
  mkdir -p "$TOOLS"
  # One bootstrap at a time (test and deploy scripts may both call it).
  exec 9>"$TOOLS/bootstrap.lock"
  flock -n 9 || { say "lock" "waiting for another bootstrap run"; flock 9; }
  local t0 engine
  t0=$(now)
  step ensure_docker
  [[ ${1:-} != --docker-only ]] || return 0
  if [[ ${SKIP_TOOL_BUILD:-} == 1 ]]; then
    step say "opentofu, provider" "skipped (SKIP_TOOL_BUILD=1)"
  else
    # An engine the user already has is used as it is: no need to build OpenTofu.
    if engine=$(engine_on_path); then step say "opentofu $TOFU_VERSION" "not built: using $engine"; else step ensure_tofu; fi
    step ensure_provider
    step ensure_tls_provider
  fi
  # --deploy (deploy, destroy, plan): the test-only tools are not needed.
  if [[ ${1:-} != --deploy ]]; then
    step ensure_promtools
    step ensure_actionlint
    # The tests run OpenTofu too (state and plan encryption), whatever engine the user has.
    [[ ${SKIP_TOOL_BUILD:-} == 1 ]] || step ensure_tofu
  fi
  step choose_engine
  step write_env
  printf 'bootstrap: done in %d s\n' $(($(now) - t0))
}

case ${1:-} in
  -h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
  "" | --deploy | --docker-only) ;;
  *) echo "bootstrap: unknown option $1 (try --help)" >&2; exit 2 ;;
esac
(($# <= 1)) || { echo "bootstrap: one option at most (try --help)" >&2; exit 2; }
main "$@"
