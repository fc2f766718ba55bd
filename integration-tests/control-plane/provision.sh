#!/usr/bin/env bash
# Provisions a real Kubernetes control plane for kube-ferry's tests, with no internet beyond the package
# registries the machine is configured for: etcd from Debian 13's etcd-server package (fetched through a
# private apt configuration built from the machine's own Debian archive, /etc/apt untouched),
# kube-apiserver, kube-controller-manager and upstream kube-proxy (the peer the differential test and the
# benchmarks compare kube-ferry with) built from the k8s.io/kubernetes Go module through the machine's Go
# module proxy (`go env GOPROXY`), and kubectl from the machine (or built the same way).
# This script names no registry or mirror: every host comes from the machine's apt and Go configuration.
#
# Result, keyed by version (the layout io.fabric8:kube-api-test expects in offline mode):
#   ${KUBE_FERRY_CACHE:-$HOME/.cache/kube-ferry}/k8s/<version>-linux-amd64/{etcd,kube-apiserver,kube-controller-manager,kube-proxy,kubectl}
# Each binary is checked on its own, so a cache provisioned before one was added gets just the missing one
# (with Go's caches warm, seconds to a minute). A warm run (binaries present) takes well under a second.
set -euo pipefail

K8S_VERSION=${KUBE_FERRY_K8S_VERSION:-1.35.4}
ETCD_PACKAGE=etcd-server
cache=${KUBE_FERRY_CACHE:-$HOME/.cache/kube-ferry}
out=$cache/k8s/$K8S_VERSION-linux-amd64
stamp=$out/.complete

# The Go-built binaries, all from one `go build` of the same module.
go_binaries=(kube-apiserver kube-controller-manager kube-proxy)
present() {
  for b in etcd "${go_binaries[@]}" kubectl; do
    [ -x "$out/$b" ] || return 1
  done
}
if [ -f "$stamp" ] && present; then
  echo "control plane $K8S_VERSION: cached in $out"
  exit 0
fi
mkdir -p "$out"
start=$(date +%s)

# The URI of the Debian archive this machine's apt already uses: the entry serving the main component of
# trixie, bookworm or the stable/oldstable alias. apt's own parser reads it (/etc/apt/sources.list,
# sources.list.d/*.list and deb822 *.sources, with whatever Dir::Etc the machine's apt.conf sets);
# --no-release-info lists the entries even before the first `apt-get update`. A trixie entry, when there
# is one, wins (that URI is known to serve trixie). KUBE_FERRY_DEBIAN_ARCHIVE overrides the lookup.
debian_archive() {
  if [ -n "${KUBE_FERRY_DEBIAN_ARCHIVE:-}" ]; then
    echo "$KUBE_FERRY_DEBIAN_ARCHIVE"
    return
  fi
  apt-get indextargets --no-release-info --format '$(TARGET_OF) $(RELEASE) $(COMPONENT) $(REPO_URI)' 'Created-By: Packages' \
    | awk '$1 == "deb" && $3 == "main" {
             rank = ($2 == "trixie") ? 1 : ($2 == "bookworm") ? 2 : ($2 == "stable" || $2 == "oldstable") ? 3 : 0
             if (rank) print rank, $4
           }' \
    | sort -n | head -1 | cut -d' ' -f2
}

# etcd 3.5 (Debian 12's 3.4 is older than Kubernetes supports).
if [ ! -x "$out/etcd" ]; then
  archive=$(debian_archive) || archive=""
  if [ -z "$archive" ]; then
    echo "provision: no Debian archive serving bookworm's or trixie's main component in this machine's apt" >&2
    echo "provision: sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list, *.sources); etcd 3.5" >&2
    echo "provision: comes from Debian 13's etcd-server. Add such an entry, or set KUBE_FERRY_DEBIAN_ARCHIVE" >&2
    echo "provision: to the URI of a Debian archive (the part before /dists/) that serves trixie." >&2
    exit 1
  fi
  apt_dir=$cache/apt-trixie
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc" "$apt_dir/unpacked"
  echo "deb $archive trixie main" > "$apt_dir/etc/sources.list"
  echo "etcd: Debian 13's $ETCD_PACKAGE from $archive (this machine's Debian archive)"
  opts=(-o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list" -o "Dir::Etc::sourceparts=/nonexistent"
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o "Debug::NoLocking=1")
  apt-get "${opts[@]}" update -qq
  (cd "$apt_dir" && apt-get "${opts[@]}" download "$ETCD_PACKAGE" 2>&1 | grep -v "unsandboxed" || true)
  deb=$(ls -t "$apt_dir"/${ETCD_PACKAGE}_*.deb | head -1)
  dpkg -x "$deb" "$apt_dir/unpacked"
  cp "$apt_dir/unpacked/usr/bin/etcd" "$out/etcd"
  echo "etcd: $("$out/etcd" --version | head -1)"
fi

# kube-apiserver, kube-controller-manager and kube-proxy from the k8s.io/kubernetes module. Its go.mod
# pins the staging modules (k8s.io/api, ...) at v0.0.0, so each is replaced by its published v0.X.Y.
missing_go=()
for b in "${go_binaries[@]}"; do
  [ -x "$out/$b" ] || missing_go+=("$b")
done
if [ "${#missing_go[@]}" -gt 0 ]; then
  # Go's own module and build caches (~/go/pkg/mod, ~/.cache/go-build) are kept between runs, so a
  # rebuild after the binaries were removed takes seconds.
  # Added to the machine's own GOFLAGS (go env), never replacing them; GOPROXY, GOSUMDB and GOTOOLCHAIN
  # are the machine's as well.
  GOFLAGS="$(go env GOFLAGS) -mod=mod"
  export GOFLAGS="${GOFLAGS# }"
  work=$cache/k8s-build-$K8S_VERSION
  mkdir -p "$work"
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module kubeferry.local/controlplane"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    grep -E '^\s+k8s.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
      echo "	$m => $m v0.${K8S_VERSION#1.}"
    done
    echo ")"
  } > "$work/go.mod"
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
  # Only the missing ones are built (one `go build`, so the packages they share compile once).
  packages=()
  for b in "${missing_go[@]}"; do
    packages+=("k8s.io/kubernetes/cmd/$b")
  done
  (cd "$work" && go mod tidy >/dev/null && \
   go build -trimpath -ldflags "-s -w" -o "$out/" "${packages[@]}")
  echo "built ${missing_go[*]} $K8S_VERSION"
fi

if [ ! -x "$out/kubectl" ]; then
  if command -v kubectl >/dev/null; then
    ln -sf "$(command -v kubectl)" "$out/kubectl"
  else
    (cd "$cache/k8s-build-$K8S_VERSION" && go build -trimpath -ldflags "-s -w" -o "$out/" k8s.io/kubernetes/cmd/kubectl)
  fi
fi

touch "$stamp"
echo "control plane $K8S_VERSION provisioned in $(( $(date +%s) - start )) s: $out"
