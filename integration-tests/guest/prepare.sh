#!/usr/bin/env bash
# Prepares the guest kernel for kube-ferry's real-IPVS tests: the CI machines' kernel has no IPVS, so those
# tests boot Debian's stock kernel under QEMU (software emulation) with the host's filesystem mounted
# read-only (see integration-tests/guest/init). Nothing is installed on the host: the kernel package is
# fetched with apt-get download and unpacked.
#
# Result: ${KUBE_FERRY_CACHE:-$HOME/.cache/kube-ferry}/guest/<kernel version>/{vmlinuz,initrd.gz,lib/modules/...}
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KUBE_FERRY_CACHE:-$HOME/.cache/kube-ferry}/guest
mkdir -p "$cache"
start=$(date +%s)

# linux-image-amd64 is the metapackage; the real package is its dependency (e.g. linux-image-6.1.0-56-amd64).
package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$package" ]; then
  apt-get update -qq
  package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
kver=${package#linux-image-}
out=$cache/$kver
if [ -f "$out/.complete" ] && [ "$out/initrd.gz" -nt "$here/init" ]; then
  echo "guest kernel $kver: cached in $out"
  exit 0
fi
rm -rf "$out" && mkdir -p "$out"
(cd "$out" && apt-get download "$package" 2>&1 | grep -v unsandboxed || true)
dpkg -x "$out"/"$package"_*.deb "$out/root"
rm -f "$out"/*.deb
depmod -b "$out/root" "$kver"
cp "$out/root/boot/vmlinuz-$kver" "$out/vmlinuz"

# The initramfs: busybox and the modules needed to reach the host's filesystem (virtio-pci, 9p, overlay),
# listed in load order from modules.dep.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,mods,proc,sys,dev,lower,upper,newroot}
cp /bin/busybox "$work/bin/busybox"
python3 - "$out/root/lib/modules/$kver/modules.dep" > "$work/mods/paths" <<'PY'
import sys
dep = {}
for line in open(sys.argv[1]):
    name, rest = line.split(":", 1)
    dep[name] = rest.split()
order = []
def visit(m):
    for d in reversed(dep.get(m, [])):
        visit(d)
    if m not in order:
        order.append(m)
for wanted in ["kernel/drivers/virtio/virtio_pci.ko", "kernel/net/9p/9pnet_virtio.ko", "kernel/fs/9p/9p.ko",
               "kernel/fs/overlayfs/overlay.ko"]:
    visit(wanted)
print("\n".join(order))
PY
while read -r m; do cp "$out/root/lib/modules/$kver/$m" "$work/mods/"; done < "$work/mods/paths"
sed 's#.*/##' "$work/mods/paths" > "$work/mods/order"
cp "$here/init" "$work/init"
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$out/initrd.gz")
echo "$out/root/lib/modules/$kver" > "$out/modules-dir"
touch "$out/.complete"
echo "guest kernel $kver prepared in $(( $(date +%s) - start )) s: $out"
