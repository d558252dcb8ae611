#!/usr/bin/env bash
# Install everything aerie's test suite needs on a fresh Debian/Ubuntu machine.
# Idempotent: a second run installs nothing new. Needs root (apt-get).
set -euo pipefail

packages=(
  # ISO road: remastering and boot tests
  xorriso isolinux syslinux-common grub-efi-amd64-bin grub-pc-bin grub-common
  mtools dosfstools ovmf qemu-system-x86 qemu-utils genisoimage
  # test hosts: network namespaces with real sshd
  openssh-server openssh-client iproute2 bridge-utils debootstrap util-linux
  # host configuration checks
  dnsmasq ebtables iptables busybox
  # benchmarks: peak memory (/usr/bin/time -v)
  time
  # laptop lab: vagrant validate of the rendered Vagrantfile, ruby -c, the
  # qemu driver's NAT (nft)
  vagrant vagrant-libvirt ruby nftables
  # kickstart validation (pykickstart goes into a venv)
  python3 python3-venv
)
# A real installer kernel and initrd for boot tests; installed on its own (its
# 133 MB .deb once failed to unpack inside a combined install).
netboot=debian-installer-12-netboot-amd64

venv=${AERIE_TEST_VENV:-/opt/aerie-test/venv}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "test-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! dpkg-query -W -f='${Status}' "$netboot" 2>/dev/null | grep -q 'install ok installed'; then
  if apt-cache show "$netboot" >/dev/null 2>&1; then
    echo "test-deps: installing $netboot"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$netboot" >/dev/null
  else
    echo "test-deps: $netboot is not available from this machine's apt sources" >&2
    exit 1
  fi
fi

if [ ! -x "$venv/bin/ksvalidator" ]; then
  echo "test-deps: installing pykickstart into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pykickstart
fi
"$venv/bin/ksvalidator" --help >/dev/null

# The root filesystem the SSH test hosts run on (cached between runs).
if [ -x "$(dirname "$0")/make-test-rootfs.sh" ]; then
  "$(dirname "$0")/make-test-rootfs.sh"
fi
echo "test-deps: ready (ksvalidator at $venv/bin/ksvalidator)"
