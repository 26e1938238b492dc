# shellcheck shell=bash
# Shared helper, sourced by scripts: fetch Debian packages' .debs without
# installing them, cached in .tools/debs/ (git-ignored) at the project root.
#
#   fetch_debs PKG...   ensure a .deb of each package is cached (apt-get
#                       download, skipped when one is already there) and
#                       print their absolute paths, one per line, in order.

DEBS_DIR=${DEBS_DIR:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.tools/debs"}

fetch_debs() {
  local pkg found
  mkdir -p "$DEBS_DIR"
  for pkg in "$@"; do
    found=$(_cached_deb "$pkg")
    if [[ -z $found ]]; then
      # apt-get download saves into the current directory. Running it as root
      # in a folder _apt cannot read only warns; say so to keep it quiet.
      if ! (cd "$DEBS_DIR" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2); then
        # A fresh machine may have no package lists yet.
        apt-get update -qq >&2
        (cd "$DEBS_DIR" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2)
      fi
      found=$(_cached_deb "$pkg")
      [[ -n $found ]] || { echo "fetch_debs: no .deb for $pkg" >&2; return 1; }
    fi
    echo "$found"
  done
}

# _cached_deb PKG: the newest cached .deb of PKG (apt names them
# PKG_VERSION_ARCH.deb, the epoch's colon written %3a), or nothing.
_cached_deb() {
  local f
  # (if, not &&: a glob that matches nothing must not fail under set -e/pipefail)
  for f in "$DEBS_DIR/$1"_*.deb; do if [[ -e $f ]]; then echo "$f"; fi; done | sort -V | tail -n 1
}
