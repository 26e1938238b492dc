# shellcheck shell=bash
# Shared helper, sourced by scripts/bootstrap.sh (promtool, amtool) and
# scripts/build-local-images.sh (the images): the stack's programs at exactly the versions their
# service descriptors pin, built from their Go modules into the git-ignored
# .tools/programs/<name>/ (rebuilt only when the recipe changes). What to build, and how, is each
# descriptor's `localBuild` recipe (stacks/services/<name>/), read through scripts/local-builds.ts.
#
#   local_builds         LOCAL_BUILDS = "program NAME" / "standin NAME" lines, every image the catalog
#                        has a recipe for (dist/ compiled first when stale)
#   load_recipe NAME     LB_* = the recipe of the image NAME (scripts/local-builds.ts says which)
#   ensure_program NAME  NAME = a program image's name (prometheus, alertmanager, node-exporter, ...).
#                        Builds (or finds built) its binaries. Sets PROGRAM_TAG (v3.5.5), PROGRAM_BIN
#                        (their folder), PROGRAM_FILES (files copied from the module for the image),
#                        PROGRAM_SAYS ("prometheus v3.5.5 (built from Go module ...)") and
#                        PROGRAM_BUILT_S (seconds, empty when it was already built), and the LB_*
#                        of load_recipe. Returns 1 with the reason on stderr when it cannot be had
#                        (callers fall back).
# Set PROGRAMS_SAY to a function "say WHAT STATUS" for progress lines (default: stderr).

PROGRAMS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/toolchain.sh
source "$PROGRAMS_ROOT/scripts/lib/toolchain.sh" # prepare_app
PROGRAMS_DIR=$PROGRAMS_ROOT/.tools/programs
# Bump when the build below changes in a way the recipe does not show.
PROGRAMS_RECIPE=1
# Upstream builds with netgo (pure-Go DNS; CGO_ENABLED=0 implies it) and Prometheus also
# with builtinassets, the web UI compiled in. The UI's built assets are not part of the Go
# module (they come from an npm build), so Prometheus here serves its API, /-/ready and
# /-/healthy but no web UI. Prometheus 3.5 has no build tags to leave out service
# discovery plugins (plugins/plugins.go imports all), so Consul discovery is there.
PROGRAMS_TAGS=netgo

_programs_say() {
  if [[ -n ${PROGRAMS_SAY:-} ]]; then "$PROGRAMS_SAY" "$@"; else printf '%s: %s\n' "$1" "$2" >&2; fi
}

# The compiled catalog, as every command has it (prepare_app: npm packages, tsc when a source
# changed, stale output pruned), once per shell.
_PROGRAMS_COMPILED=""
_programs_compiled() {
  [[ -z $_PROGRAMS_COMPILED ]] || return 0
  (cd "$PROGRAMS_ROOT" && prepare_app) || { echo "catalog: the app could not be compiled (above)" >&2; return 1; }
  _PROGRAMS_COMPILED=1
}

# Every recipe, read once per shell (one node start): LOCAL_BUILDS and a function _lb_<name> per
# image that sets its LB_* (scripts/local-builds.ts shell).
LOCAL_BUILDS=""
local_builds() {
  local declarations
  [[ -z $LOCAL_BUILDS ]] || return 0
  _programs_compiled && declarations=$(cd "$PROGRAMS_ROOT" && node dist/scripts/local-builds.js shell) || return 1
  eval "$declarations"
}

# shellcheck disable=SC2034 # LB_* are read by the callers
load_recipe() {
  unset "${!LB_@}"
  local_builds || return 1
  declare -F "_lb_${1//-/_}" >/dev/null || { echo "local builds: none is named $1 (have: $(cut -d' ' -f2 <<<"$LOCAL_BUILDS" | xargs))" >&2; return 1; }
  "_lb_${1//-/_}"
}

# shellcheck disable=SC2034 # PROGRAM_* are read by the scripts that source this file
ensure_program() {
  local name=$1 module tag modver dir stamp lock rc=0
  PROGRAM_TAG="" PROGRAM_BIN="" PROGRAM_FILES="" PROGRAM_SAYS="" PROGRAM_BUILT_S=""
  load_recipe "$name" && [[ $LB_KIND == program ]] ||
    { echo "$name: no Go module build in its descriptor's localBuild (stacks/services/)" >&2; return 1; }
  module=$LB_MODULE tag=$LB_TAG modver=$LB_MODULE_VERSION
  dir=$PROGRAMS_DIR/$name
  # What the binaries are built from: the module's release and how this file builds it (the
  # image's layout, also in the recipe, is the image recipe's business).
  stamp="$module $modver tags=$PROGRAMS_TAGS recipe=$PROGRAMS_RECIPE packages=${LB_PACKAGES[*]} also=${LB_ALSO_REQUIRES[*]} version=$LB_VERSION_PACKAGE ui=$LB_UI_PLACEHOLDER"
  # A main of this project: its sources are part of what was built.
  [[ -z $LB_MAIN ]] || stamp+=" main=$(cat "$PROGRAMS_ROOT/$LB_MAIN"/*.go | sha256sum | cut -c1-16)"
  PROGRAM_TAG=$tag PROGRAM_BIN=$dir/bin PROGRAM_FILES=$dir/files
  PROGRAM_SAYS="${name/-/_} $tag (built from Go module $module $modver)"
  mkdir -p "$dir"
  # One build per program at a time: bootstrap and image builds may both want it.
  exec {lock}>"$dir.lock"
  flock "$lock"
  if [[ "$(cat "$dir/built-from" 2>/dev/null)" != "$stamp" ]] || ! _program_runs "$name" "$tag"; then
    _program_build "$name" "$module" "$modver" "$tag" "$stamp" || rc=1
  fi
  exec {lock}>&-
  return $rc
}

# _program_runs NAME TAG: every binary is there and reports the version.
_program_runs() {
  local p bin
  for p in "${LB_PACKAGES[@]}"; do
    bin=${p##*/}
    bin=${bin:-$(_program_root_binary "$1")}
    [[ -x $PROGRAM_BIN/$bin ]] && "$PROGRAM_BIN/$bin" --version 2>&1 | head -n1 | grep -Eq "version v?${2#v} " || return 1
  done
}

# _program_root_binary NAME: the binary of a module's root package (go build names it after the
# module path), or of the project's own main (named after the wrapper module).
_program_root_binary() {
  local path=$LB_MODULE
  [[ -z $LB_MAIN ]] || path=protocol-monitoring/programs/$1
  echo "${path##*/}"
}

# find_go: go on PATH, or where the official archive installs it (/usr/local/go/bin, added to PATH).
find_go() {
  command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null
}

_program_build() {
  local name=$1 module=$2 modver=$3 tag=$4 stamp=$5 dir=$PROGRAMS_DIR/$1 t0 info moddir f p pkgs=() ldflags
  t0=$(date +%s)
  find_go || { echo "$name: go is not installed" >&2; return 1; }
  rm -rf "$dir/module" "$dir/bin.new" "$dir/built-from"
  mkdir -p "$dir/module"
  _programs_say "$name $tag" "building from Go module $module $modver (minutes when the Go caches are cold)"
  # GOTOOLCHAIN=local: a module needing a newer Go fails here (and falls back) instead of
  # fetching a toolchain.
  info=$(cd "$dir/module" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "$module@$modver" 2>"$dir/build.log") ||
    { tail -n 5 "$dir/build.log" >&2; echo "$name: go mod download $module@$modver failed" >&2; return 1; }
  # The module's go.mod: its go line, and the replace/exclude/godebug lines that a wrapper
  # module must repeat (a dependency's own are ignored); plus the release's date and commit.
  # shellcheck disable=SC2016 # JavaScript, not shell
  if ! node -e '
    const fs = require("fs"), { execFileSync } = require("child_process");
    const [info, module, modver, dir, name, also] = process.argv.slice(1);
    const m = JSON.parse(info);
    if (m.Error) throw new Error(m.Error);
    const mod = JSON.parse(execFileSync("go", ["mod", "edit", "-json", m.GoMod], { encoding: "utf8" }));
    const at = (x) => x.Path + (x.Version ? " " + x.Version : "");
    // Modules of the same release the wrapper requires too (the cAdvisor /lib), at the same version.
    const alsoRequired = also.split(" ").filter(Boolean);
    const requires = [module, ...alsoRequired].map((path) => `require ${path} ${modver}`);
    const lines = [`module protocol-monitoring/programs/${name}`, "", `go ${mod.Go}`, "", ...requires, ""];
    for (const g of mod.Godebug ?? []) lines.push(`godebug ${g.Key}=${g.Value}`);
    for (const r of mod.Replace ?? []) {
      // A local folder for a module required above at the release version: not repeated.
      if (!r.New.Version && alsoRequired.includes(r.Old.Path)) continue;
      if (!r.New.Version) throw new Error(`go.mod replaces ${r.Old.Path} with a local folder: a wrapper cannot repeat that`);
      lines.push(`replace ${at(r.Old)} => ${at(r.New)}`);
    }
    for (const e of mod.Exclude ?? []) lines.push(`exclude ${at(e)}`);
    fs.writeFileSync(`${dir}/go.mod`, lines.join("\n") + "\n");
    const i = JSON.parse(fs.readFileSync(m.Info, "utf8")); // release time and (if the proxy knows it) commit
    const date = (i.Time ?? "").replace(/^(\d+)-(\d+)-(\d+)T([\d:]+).*$/, "$1$2$3-$4");
    console.log([m.Dir, (m.Origin ?? i.Origin)?.Hash ?? "", date].join("\n"));
  ' "$info" "$module" "$modver" "$dir/module" "$name" "${LB_ALSO_REQUIRES[*]}" >"$dir/module/info" 2>>"$dir/build.log"; then
    tail -n 5 "$dir/build.log" >&2
    echo "$name: cannot make a wrapper module for $module $modver" >&2
    return 1
  fi
  local revision date
  { read -r moddir; read -r revision; read -r date; } <"$dir/module/info"
  # The module must be the release the catalog names (its VERSION file says so, where it has one;
  # cAdvisor's module versions are its release tags).
  [[ ! -f $moddir/VERSION || "$(cat "$moddir/VERSION")" == "${tag#v}" ]] ||
    { echo "$name: $module $modver is version '$(cat "$moddir/VERSION" 2>/dev/null)', not ${tag#v}" >&2; return 1; }
  # Start from the program's own go.sum: its dependencies are checked against the hashes
  # upstream builds with (-mod=mod adds the few lines the wrapper needs besides).
  [[ ! -f $moddir/go.sum ]] || cp "$moddir/go.sum" "$dir/module/go.sum" || return 1
  local ui=$LB_UI_PLACEHOLDER
  if [[ -n $ui ]]; then
    cp -r "$moddir" "$dir/module/src" && chmod -R u+w "$dir/module/src" || return 1
    mkdir -p "$(dirname "$dir/module/src/$ui")"
    printf '<!doctype html><title>%s</title><p>%s %s: the web UI is not part of this build (its assets are not in the Go module). The API is at <a href="api/v2/status">api/v2</a>.</p>\n' \
      "$name" "$name" "$tag" | gzip -9n >"$dir/module/src/$ui"
    echo "replace $module => ./src" >>"$dir/module/go.mod"
  fi
  # As upstream's .promu.yml: version information through prometheus/common/version,
  # so that --version and the build_info metric say the release (cAdvisor's build.sh: its own
  # version package, the tag with its v).
  local v=github.com/prometheus/common/version version=${tag#v}
  [[ -z $LB_VERSION_PACKAGE ]] || { v=$LB_VERSION_PACKAGE version=$tag; }
  ldflags="-s -w -X $v.Version=$version -X $v.Revision=${revision:-unknown} -X $v.Branch=HEAD -X $v.BuildUser=protocol-monitoring -X $v.BuildDate=$date"
  if [[ -n $LB_MAIN ]]; then
    # The project's own main, in the wrapper module itself.
    cp "$PROGRAMS_ROOT/$LB_MAIN"/*.go "$dir/module/" || return 1
    pkgs=(.)
  else
    for p in "${LB_PACKAGES[@]}"; do pkgs+=("$module$p"); done
  fi
  # CGO_ENABLED=0: static binaries, so the images need no libc.
  if ! (cd "$dir/module" && GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=local CGO_ENABLED=0 \
    go build -trimpath -tags "$PROGRAMS_TAGS" -ldflags "$ldflags" -o "$dir/bin.new/" "${pkgs[@]}") >>"$dir/build.log" 2>&1; then
    tail -n 20 "$dir/build.log" >&2
    echo "$name: go build failed (full log: $dir/build.log)" >&2
    return 1
  fi
  rm -rf "$dir/files"
  for f in "${LB_FILES[@]}"; do f=${f%%:*}; install -D -m 0644 "$moddir/$f" "$dir/files/$f"; done
  rm -rf "${dir:?}/bin"
  mv "$dir/bin.new" "$dir/bin"
  _program_runs "$name" "$tag" || { echo "$name: the built binaries do not report version ${tag#v}" >&2; return 1; }
  echo "$stamp" >"$dir/built-from"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  PROGRAM_BUILT_S=$(($(date +%s) - t0))
}
