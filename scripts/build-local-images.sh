#!/usr/bin/env bash
# Build the stack's container images locally, without any container registry
# (none is reachable here, so "docker pull" fails).
#
#  * Real programs at exactly the versions their service descriptors pin, built
#    from their Go modules (scripts/lib/programs.sh, cached in .tools/programs)
#    and laid out like the upstream images, as each descriptor's `localBuild`
#    recipe says (stacks/services/<name>/: module, binaries, files, folders,
#    entrypoint; the user and ports are the descriptor's):
#      protocol-monitoring-local/<name>:<tag>   (prometheus, alertmanager, node-exporter, ...)
#    When Prometheus, Alertmanager or Node Exporter cannot be built from its
#    module, Debian bookworm's older package stands in, tagged with its own
#    version, and the output says so (the exporters have no such fallback).
#  * Stand-ins (testing/standin: test doubles, one multi-call Go program, that
#    fail where the real programs would) for the services without a local build
#    (testing/standin/layouts.json; the user and ports are the descriptor's):
#      protocol-monitoring-local/<name>:standin (grafana, elasticsearch, logstash, kibana)
#  * The Protocol simulator and notification sink (testing/protocol-sim), for
#    tests and demos, never part of a deployment:
#      protocol-monitoring-local/protocol-sim:local
# `node dist/scripts/local-builds.js list` lists them all (the catalog's recipes).
#
# Each image is a `docker import` of a root file system (busybox-static and the
# CA bundle from Debian's .debs, plus the program; no Dockerfile, no base
# image). Each carries the label org.protocol-monitoring.recipe=<sha256 of this
# script and its inputs>; an image whose tag already carries the current recipe
# is not rebuilt, so a second run is a quick no-op. It prints one line per
# image: what it runs, and whether it was built or already up to date.
#
# Prints the tags (one per line) on stdout and writes them to
# .tools/local-images.env as LOCAL_IMAGE_<NAME>=<tag> for tests to read (the
# lines of images not named in this run are kept).
#
# Usage: scripts/build-local-images.sh [--force] [IMAGE...]
#   IMAGE                 a name of the list above, or protocol-sim; default: all
#   --force (or FORCE=1)  rebuild the images even when the recipe label matches
# Needs: root (file ownership inside the images), a running docker daemon,
# apt-get/dpkg-deb, Go, and node (to read the catalog).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/scripts/build-local-images.sh"
TOOLS="$ROOT/.tools"
BUILD="$TOOLS/build"
ENV_FILE="$TOOLS/local-images.env"
STANDIN_SRC="$ROOT/testing/standin"
STANDIN_BIN="$BUILD/standin"
REPO=protocol-monitoring-local
RECIPE_LABEL=org.protocol-monitoring.recipe
FORCE=${FORCE:-0}

# shellcheck source-path=SCRIPTDIR source=lib/debs.sh
source "$ROOT/scripts/lib/debs.sh" # fetch_debs pkg... -> .deb paths, cached in .tools/debs
# shellcheck source-path=SCRIPTDIR source=lib/programs.sh
source "$ROOT/scripts/lib/programs.sh" # ensure_program name -> binaries from Go modules
PROGRAM_LABEL=org.protocol-monitoring.program

log() { echo "build-local-images: $*" >&2; }
# PROGRAMS_SAY: progress of a program build, as one of our lines.
program_say() { log "$1: $2"; }
PROGRAMS_SAY=program_say
die() { log "error: $*"; exit 1; }

TAGS=()      # tags in build order, printed at the end
ENV_LINES=() # LOCAL_IMAGE_<NAME>=<tag>

# ---------------------------------------------------------------------------
# Helpers

# fetch PKG...: make sure the packages' .debs are cached; DEB[pkg] = path.
declare -A DEB=()
fetch() {
  local p
  for p in "$@"; do
    DEB[$p]=$(fetch_debs "$p" | tail -n 1)
    [[ -f ${DEB[$p]} ]] || die "no .deb for $p"
  done
}

# upstream_version DEB: Debian version without epoch, revision and repack
# suffix: 2.42.0+ds-5+deb12u1 -> 2.42.0, 0.25.0-1+b4 -> 0.25.0.
upstream_version() {
  local v
  v=$(dpkg-deb -f "$1" Version)
  v=${v#*:}
  v=${v%-*}
  echo "${v%%[+~]*}"
}

# compute_recipe VAR NAME FILE...: VAR = sha256 over the image name, this
# script and the contents (not paths: a fresh clone elsewhere matches) of
# the image's inputs.
declare -A FILE_SUM=()
compute_recipe() {
  local var=$1 text=$2 f sum
  shift 2
  for f in "$SELF" "$@"; do
    [[ -n ${FILE_SUM[$f]:-} ]] || FILE_SUM[$f]=$(sha256sum <"$f" | cut -d' ' -f1)
    text+=" ${FILE_SUM[$f]}"
  done
  sum=$(sha256sum <<<"$text")
  printf -v "$var" '%s' "${sum%% *}"
}

# up_to_date TAG RECIPE: the image exists and was built from this recipe.
STATUS="" # of the last image: "built, <size>" or "up to date"
up_to_date() {
  [[ $FORCE != 1 ]] || return 1
  local have
  have=$(docker image inspect -f "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null) || return 1
  [[ $have == "$2" ]] && STATUS="up to date"
}

# record NAME TAG: remember the image's tag for stdout and the env file (LOCAL_IMAGE_<NAME>, dashes
# as underscores).
record() {
  TAGS+=("$2")
  ENV_LINES+=("LOCAL_IMAGE_$(tr 'a-z-' 'A-Z_' <<<"$1")=$2")
}

# extract PKG: unpack the package's .deb (once per run); prints the directory.
extract() {
  local dir="$WORK/deb/$1"
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir.tmp"
    dpkg-deb -x "${DEB[$1]}" "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# new_rootfs NAME "user:uid:gid:home" ...: a fresh minimal root file system
# with busybox (sh, wget... as used by healthchecks), the CA bundle,
# passwd/group with root, nobody and the given users, nsswitch.conf and a
# world-writable /tmp. Prints its path.
new_rootfs() {
  local root="$WORK/rootfs/$1" bb ca applet entry user uid gid home
  shift
  mkdir -p "$root"/{bin,etc/ssl/certs,usr/bin,root,home}
  install -d -m 1777 "$root/tmp"

  # busybox-static: one static binary; applets as symlinks like the busybox
  # base image that the upstream prom/* images use.
  bb=$(extract busybox-static)
  install -m 0755 "$bb/bin/busybox" "$root/bin/busybox"
  for applet in $("$bb/bin/busybox" --list); do
    [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  ln -s ../../bin/env "$root/usr/bin/env" # for "#!/usr/bin/env sh" scripts

  # ca-certificates ships the certificates; its postinst (update-ca-
  # certificates) would concatenate them into the bundle Go and wget read.
  ca=$(extract ca-certificates)
  cat "$ca"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"

  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/home:/bin/false' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
  for entry in "$@"; do
    IFS=: read -r user uid gid home <<<"$entry"
    echo "$user:x:$uid:$gid:$user:$home:/bin/sh" >>"$root/etc/passwd"
    grep -q ":$gid:\$" "$root/etc/group" || echo "$user:x:$gid:" >>"$root/etc/group"
  done
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  echo "$root"
}

# add_libs ROOT BINARY...: copy the shared libraries the binaries need (per
# ldd; Debian's Go builds need only libc.so.6 and the loader) from libc6.
add_libs() {
  local root=$1 libc lib path found
  shift
  libc=$(extract libc6)
  mkdir -p "$root/lib/x86_64-linux-gnu" "$root/lib64"
  for lib in $(ldd "$@" | awk '/=>/ {print $1} /^\t\/lib/ {print $1}' | sort -u); do
    [[ $lib == linux-vdso* ]] && continue
    # -type f: the package's /lib64 loader link is absolute (would hit the host's).
    found=$(find "$libc" -name "$(basename "$lib")" -type f | head -n 1)
    [[ -n $found ]] || die "$lib (needed by $*) is not in libc6: add its package to add_libs"
    path=lib/x86_64-linux-gnu/$(basename "$lib")
    [[ -e $root/$path ]] || cp "$found" "$root/$path"
  done
  # The ELF interpreter path baked into the binaries.
  [[ -e $root/lib64/ld-linux-x86-64.so.2 ]] || ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/"
}

# import_image ROOT TAG RECIPE CHANGE...: tar the root file system into an
# image (numeric owners as set in ROOT), add the recipe label, drop the image
# the tag pointed to before if nothing else uses it.
import_image() {
  local root=$1 tag=$2 recipe=$3 old
  shift 3
  local changes=() c
  for c in "$@" "LABEL $RECIPE_LABEL=$recipe"; do changes+=(-c "$c"); done
  old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  tar -C "$root" --numeric-owner --sort=name -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  if [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' "$tag")" ]]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
  rm -rf "$root"
  STATUS="built, $(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"
}

# ---------------------------------------------------------------------------
# Real programs, built from Go modules at the catalog's versions

# build_program NAME: the image from the Go module build, else Debian's.
build_program() {
  local name=$1
  if ensure_program "$name"; then
    SAYS=$PROGRAM_SAYS
    build_module_image "$name"
  elif declare -F "build_${name//-/_}_debian" >/dev/null; then
    log "$name: the Go module build failed (above); falling back to Debian's package"
    # Its user and ports are the descriptor's, whatever built the program.
    load_recipe "$name" || die "$name: cannot read its recipe from the catalog (above)"
    mapfile -t USER_EXPOSE < <(recipe_changes USER EXPOSE)
    ((${#USER_EXPOSE[@]})) || die "$name: its recipe has no USER or EXPOSE line"
    "build_${name//-/_}_debian"
  else
    die "$name: the Go module build failed (above), and it has no fallback"
  fi
}

# build_module_image NAME: the image of a program built from its Go module (ensure_program ran, so
# PROGRAM_* and LB_* are set), laid out as its descriptor's localBuild recipe says (binaries,
# module files, folders given to its user, and the USER, EXPOSE, VOLUME, WORKDIR, ENTRYPOINT and
# CMD lines, the user and ports being the descriptor's). Its recipe label covers the program's
# build stamp, the module files, the layout and the root file system's .debs.
build_module_image() {
  local name=$1 entry from to mode root files=() d
  TAG="$REPO/$name:$PROGRAM_TAG"
  record "$name" "$TAG"
  for entry in "${LB_FILES[@]}"; do files+=("$PROGRAM_FILES/${entry%%:*}"); done
  compute_recipe RECIPE "$name-module $(printf '%s|' "${LB_BINARIES[@]}" "${LB_FILES[@]}" "${LB_DIRS[@]}" "${LB_OWNED[@]}" "${LB_CHANGES[@]}")" \
    "$PROGRAMS_DIR/$name/built-from" "${files[@]}" "${DEB[busybox-static]}" "${DEB[ca-certificates]}"
  if up_to_date "$TAG" "$RECIPE"; then return; fi
  root=$(new_rootfs "$name")
  for entry in "${LB_BINARIES[@]}"; do install -D -m 0755 "$PROGRAM_BIN/${entry%%:*}" "$root${entry#*:}"; done
  for entry in "${LB_FILES[@]}"; do
    IFS=: read -r from to mode <<<"$entry"
    install -D -m "$mode" "$PROGRAM_FILES/$from" "$root$to"
  done
  for d in "${LB_DIRS[@]}"; do install -d -m 0775 "$root$d"; done
  for d in "${LB_OWNED[@]}"; do chown -R "$LB_USER" "$root$d"; done
  import_image "$root" "$TAG" "$RECIPE" "LABEL $PROGRAM_LABEL=\"$SAYS\"" "${LB_CHANGES[@]}"
}

# recipe_changes WORD...: the recipe's change lines that start with one of the words (USER, EXPOSE).
recipe_changes() {
  local change word
  for change in "${LB_CHANGES[@]}"; do
    for word in "$@"; do [[ $change != "$word "* ]] || printf '%s\n' "$change"; done
  done
}

# ---------------------------------------------------------------------------
# Every image's root file system is made with these packages' .debs.
ROOTFS_PKGS=(busybox-static ca-certificates)
# The Debian fallback images also need libc6; these .debs (BASE_DEBS, set by
# fetch_debian) are inputs of their recipes.
BASE_PKGS=(libc6 "${ROOTFS_PKGS[@]}")
BASE_DEBS=()

# ---------------------------------------------------------------------------
# Fallback: Debian bookworm's builds of the real programs (Prometheus 2.42,
# Alertmanager 0.25, Node Exporter 1.5), tagged with their own versions.

# fetch_debian PKG: its .deb and those of BASE_PKGS; DEBIAN_SAYS describes it.
fetch_debian() {
  local p
  fetch "$1" "${BASE_PKGS[@]}"
  BASE_DEBS=()
  for p in "${BASE_PKGS[@]}"; do BASE_DEBS+=("${DEB[$p]}"); done
  DEBIAN_SAYS="$(upstream_version "${DEB[$1]}") (FALLBACK: Debian bookworm package $1 $(dpkg-deb -f "${DEB[$1]}" Version), not the catalog's version)"
}

# Like prom/prometheus: /bin/prometheus and /bin/promtool, config in
# /etc/prometheus, data in /prometheus (WORKDIR) owned by nobody. Debian's
# web UI assets (/usr/share/prometheus/web, libjs-* symlinks) are left out:
# the API, /-/ready and /-/healthy work without them.
build_prometheus_debian() {
  local d tag recipe root x
  fetch_debian prometheus
  SAYS="prometheus $DEBIAN_SAYS"
  d=${DEB[prometheus]}
  tag="$REPO/prometheus:$(upstream_version "$d")"
  record prometheus "$tag"
  compute_recipe recipe "prometheus ${USER_EXPOSE[*]}" "$d" "${BASE_DEBS[@]}"
  if up_to_date "$tag" "$recipe"; then return; fi

  x=$(extract prometheus)
  root=$(new_rootfs prometheus)
  install -m 0755 "$x/usr/bin/prometheus" "$x/usr/bin/promtool" "$root/bin/"
  add_libs "$root" "$root/bin/prometheus" "$root/bin/promtool"
  install -d "$root/etc/prometheus"
  # Upstream's default config: scrape itself (the stack mounts its own).
  cat >"$root/etc/prometheus/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s
  evaluation_interval: 15s
scrape_configs:
  - job_name: "prometheus"
    static_configs:
      - targets: ["localhost:9090"]
EOF
  install -d -o 65534 -g 65534 "$root/prometheus"
  import_image "$root" "$tag" "$recipe" "LABEL $PROGRAM_LABEL=\"$SAYS\"" \
    "${USER_EXPOSE[@]}" 'WORKDIR /prometheus' \
    'ENTRYPOINT ["/bin/prometheus"]' \
    'CMD ["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]'
}

# Like prom/alertmanager: /bin/alertmanager and /bin/amtool, config in
# /etc/alertmanager, data in /alertmanager owned by nobody. Debian's build
# reads its notification templates from /usr/share/prometheus/alertmanager
# (upstream embeds them) and does not start without default.tmpl there.
build_alertmanager_debian() {
  local d tag recipe root x
  fetch_debian prometheus-alertmanager
  SAYS="alertmanager $DEBIAN_SAYS"
  d=${DEB[prometheus-alertmanager]}
  tag="$REPO/alertmanager:$(upstream_version "$d")"
  record alertmanager "$tag"
  compute_recipe recipe "alertmanager ${USER_EXPOSE[*]}" "$d" "${BASE_DEBS[@]}"
  if up_to_date "$tag" "$recipe"; then return; fi

  x=$(extract prometheus-alertmanager)
  root=$(new_rootfs alertmanager)
  install -m 0755 "$x/usr/bin/prometheus-alertmanager" "$root/bin/alertmanager"
  install -m 0755 "$x/usr/bin/amtool" "$root/bin/amtool"
  add_libs "$root" "$root/bin/alertmanager" "$root/bin/amtool"
  install -d "$root/usr/share/prometheus"
  cp -a "$x/usr/share/prometheus/alertmanager" "$root/usr/share/prometheus/"
  install -d "$root/etc/alertmanager"
  # Upstream's default config (the stack mounts its own).
  cat >"$root/etc/alertmanager/alertmanager.yml" <<'EOF'
route:
  group_by: ['alertname']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  receiver: 'web.hook'
receivers:
  - name: 'web.hook'
    webhook_configs:
      - url: 'http://127.0.0.1:5001/'
inhibit_rules:
  - source_match:
      severity: 'critical'
    target_match:
      severity: 'warning'
    equal: ['alertname', 'dev', 'instance']
EOF
  install -d -o 65534 -g 65534 "$root/alertmanager"
  import_image "$root" "$tag" "$recipe" "LABEL $PROGRAM_LABEL=\"$SAYS\"" \
    "${USER_EXPOSE[@]}" 'WORKDIR /alertmanager' \
    'ENTRYPOINT ["/bin/alertmanager"]' \
    'CMD ["--config.file=/etc/alertmanager/alertmanager.yml","--storage.path=/alertmanager"]'
}

# Like prom/node-exporter: /bin/node_exporter as nobody. Debian changed two
# defaults (upstream's build needs neither workaround); restore upstream's so
# the stack sees the same behaviour: the
# systemd collector is on (fails in a container, an error log line per
# scrape) -> off in ENTRYPOINT (the stack's own args still follow it); the
# textfile collector reads /var/lib/prometheus/node-exporter -> exists, empty.
build_node_exporter_debian() {
  local d tag recipe root x
  fetch_debian prometheus-node-exporter
  SAYS="node_exporter $DEBIAN_SAYS"
  d=${DEB[prometheus-node-exporter]}
  tag="$REPO/node-exporter:$(upstream_version "$d")"
  record node-exporter "$tag"
  compute_recipe recipe "node-exporter ${USER_EXPOSE[*]}" "$d" "${BASE_DEBS[@]}"
  if up_to_date "$tag" "$recipe"; then return; fi

  x=$(extract prometheus-node-exporter)
  root=$(new_rootfs node-exporter)
  install -m 0755 "$x/usr/bin/prometheus-node-exporter" "$root/bin/node_exporter"
  add_libs "$root" "$root/bin/node_exporter"
  install -d "$root/var/lib/prometheus/node-exporter"
  import_image "$root" "$tag" "$recipe" "LABEL $PROGRAM_LABEL=\"$SAYS\"" \
    "${USER_EXPOSE[@]}" \
    'ENTRYPOINT ["/bin/node_exporter","--no-collector.systemd"]'
}

# ---------------------------------------------------------------------------
# Stand-ins (testing/standin): what Debian does not package.

# Per role (the stand-in recipe: testing/standin/layouts.json for the home and the upstream
# folders, owned by the service's user so the stack's volumes and uploads work; the user and
# ports are its service descriptor's).

# go_sources VAR DIR: the files a Go program is built from (non-test .go of its module's every
# package, in sub-directories too, go.mod, go.sum), in a fixed order; with their paths relative to
# DIR, the recipe of its image (a build constraint can live in a name, a package in a directory).
go_sources() {
  local -n sources=$1
  mapfile -t sources < <(find "$2" -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort)
  [[ " ${sources[*]} " == *" $2/main.go "* ]] || die "no main.go in $2"
}

# go_static DIR OUT: a static binary (no libc needed in the images).
go_static() {
  find_go || die "go is needed to build $2"
  (cd "$1" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go build -trimpath -ldflags='-s -w' -o "$2" .) ||
    die "building $1 failed"
}

# The stand-in binary is built once per run, only when an image needs it.
build_standin_binary() {
  [[ -z ${STANDIN_BUILT:-} ]] || return 0
  log "building $STANDIN_BIN"
  mkdir -p "$BUILD"
  go_static "$STANDIN_SRC" "$STANDIN_BIN"
  STANDIN_BUILT=1
}

build_standin() {
  local role=$1 tag recipe root dir srcs=()
  load_recipe "$role" && [[ $LB_KIND == standin ]] || die "$role: no stand-in recipe (scripts/local-builds.ts)"
  tag="$REPO/$role:standin"
  record "$role" "$tag"
  go_sources srcs "$STANDIN_SRC"
  compute_recipe recipe "standin-$role ${srcs[*]#"$STANDIN_SRC/"} $LB_UID:$LB_GID $LB_HOME ${LB_DIRS[*]} $(printf '%s|' "${LB_CHANGES[@]}")" "${srcs[@]}" \
    "${DEB[busybox-static]}" "${DEB[ca-certificates]}"
  if up_to_date "$tag" "$recipe"; then return; fi

  build_standin_binary
  root=$(new_rootfs "$role" "$role:$LB_UID:$LB_GID:$LB_HOME")
  install -m 0755 "$STANDIN_BIN" "$root/bin/standin"
  ln -s ../../bin/standin "$root/usr/bin/curl" # the binary acts as curl by argv[0]
  for dir in "$LB_HOME" "${LB_DIRS[@]}"; do
    install -d -m 0775 -o "$LB_UID" -g "$LB_GID" "$root$dir"
  done
  import_image "$root" "$tag" "$recipe" "${LB_CHANGES[@]}"
}

# ---------------------------------------------------------------------------
# The Protocol simulator and notification sink: one static binary, run as nobody.

SIM_SRC="$ROOT/testing/protocol-sim"
build_protocol_sim() {
  local tag="$REPO/protocol-sim:local" recipe root bin="$BUILD/protocol-sim" srcs=()
  record protocol-sim "$tag"
  SAYS="the Protocol simulator and notification sink (testing/protocol-sim), for tests and demos"
  go_sources srcs "$SIM_SRC"
  compute_recipe recipe "protocol-sim ${srcs[*]#"$SIM_SRC/"}" "${srcs[@]}" "${DEB[busybox-static]}" "${DEB[ca-certificates]}"
  if up_to_date "$tag" "$recipe"; then return; fi
  go_static "$SIM_SRC" "$bin"
  root=$(new_rootfs protocol-sim)
  install -m 0755 "$bin" "$root/bin/protocol-sim"
  import_image "$root" "$tag" "$recipe" \
    'USER 65534:65534' 'EXPOSE 8000 8001 8080 8090 8099 9793 9988 8443 8444' \
    'ENTRYPOINT ["/bin/protocol-sim"]' 'CMD ["simulate"]' \
    'LABEL org.protocol-monitoring.simulator=true'
}

# ---------------------------------------------------------------------------

# Rewrites the env file with this run's lines; lines of images not built in this run stay.
write_env_file() {
  local tmp="$ENV_FILE.tmp.$$" line key
  local -A fresh=()
  for line in "${ENV_LINES[@]}"; do fresh[${line%%=*}]=$line; done
  {
    echo "# Written by scripts/build-local-images.sh: locally built images."
    if [[ -f $ENV_FILE ]]; then
      while IFS= read -r line; do
        [[ $line == LOCAL_IMAGE_*=* ]] || continue
        key=${line%%=*}
        if [[ -n ${fresh[$key]:-} ]]; then
          echo "${fresh[$key]}"
          unset "fresh[$key]"
        else
          echo "$line"
        fi
      done <"$ENV_FILE"
    fi
    for line in "${ENV_LINES[@]}"; do [[ -z ${fresh[${line%%=*}]:-} ]] || echo "$line"; done
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

main() {
  local arg want=() name t0
  # Options first: --help and a wrong option need no catalog.
  for arg in "$@"; do
    case $arg in
      --force) FORCE=1 ;;
      -h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$SELF"; return 0 ;;
      -*) log "error: unknown option: $arg (see --help)"; exit 2 ;;
      *) [[ " ${want[*]} " == *" $arg "* ]] || want+=("$arg") ;;
    esac
  done
  # The images the catalog has recipes for (scripts/local-builds.ts), and the simulator.
  local_builds || die "cannot read the local builds from the catalog (above)"
  local -a PROGRAMS STANDINS IMAGES
  mapfile -t PROGRAMS < <(sed -n 's/^program //p' <<<"$LOCAL_BUILDS")
  mapfile -t STANDINS < <(sed -n 's/^standin //p' <<<"$LOCAL_BUILDS")
  IMAGES=("${PROGRAMS[@]}" "${STANDINS[@]}" protocol-sim)
  for name in "${want[@]}"; do
    [[ " ${IMAGES[*]} " == *" $name "* ]] || die "unknown image: $name (one of: ${IMAGES[*]})"
  done
  ((${#want[@]})) || want=("${IMAGES[@]}")
  [[ $(id -u) == 0 ]] || die "run as root: image files get their owners (nobody, uid 472/1000) from the build tree"
  docker info >/dev/null 2>&1 || die "docker daemon is not answering (start it, e.g. scripts/bootstrap.sh)"

  mkdir -p "$BUILD"
  # One build at a time: concurrent runs would share tags and the env file.
  exec 9>"$TOOLS/.local-images.lock"
  flock 9

  WORK=$(mktemp -d "$BUILD/local-images.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT

  fetch "${ROOTFS_PKGS[@]}"
  for name in "${want[@]}"; do
    t0=$(date +%s)
    if [[ " ${PROGRAMS[*]} " == *" $name "* ]]; then
      build_program "$name"
    elif [[ $name == protocol-sim ]]; then
      build_protocol_sim
    else
      SAYS="stand-in (testing/standin) answering $name's health endpoints"
      build_standin "$name"
    fi
    log "${TAGS[-1]}: $STATUS ($(($(date +%s) - t0)) s): $SAYS"
  done

  write_env_file
  printf '%s\n' "${TAGS[@]}"
}

main "$@"
