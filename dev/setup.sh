#!/usr/bin/env bash
# Installs everything kube-ferry's tests need on a fresh Debian machine (run as root), and builds or
# fetches the test-only binaries. Idempotent: a second run costs seconds.
#   - Debian packages: the netfilter tools the agent drives, and QEMU for the IPVS guest kernel.
#   - the real control plane (etcd + kube-apiserver + kube-controller-manager) for the API-server tests.
#   - the IPVS guest kernel and its initramfs.
# Everything built is cached under ${KUBE_FERRY_CACHE:-$HOME/.cache/kube-ferry}.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(iptables ipset conntrack nfacct nftables iproute2 ipvsadm kmod procps)
# Only the tests need these: the IPVS guest runs under QEMU software emulation.
packages+=(qemu-system-x86 busybox-static cpio xz-utils curl)
# socat forwards a root-namespace loopback port to the node namespace's loopback (the upstream-peer bed).
packages+=(socat)
# A font for the benchmarks' PNG plots (headless AWT draws text through fontconfig).
packages+=(fontconfig fonts-dejavu-core)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for step in integration-tests/control-plane/provision.sh integration-tests/guest/prepare.sh; do
  if [ -x "$here/$step" ]; then
    echo "setup: $step"
    start=$(date +%s)
    "$here/$step"
    echo "setup: $step took $(( $(date +%s) - start )) s"
  fi
done
