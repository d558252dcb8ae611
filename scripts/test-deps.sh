#!/usr/bin/env bash
# Install everything aerie's test suite needs on a fresh Debian/Ubuntu machine.
# Idempotent: a second run installs nothing new. Needs root (apt-get).
set -euo pipefail

packages=(
  # ISO road: remastering and boot tests
  xorriso isolinux syslinux-common grub-efi-amd64-bin grub-pc-bin grub-common
  mtools dosfstools ovmf qemu-system-x86 qemu-utils genisoimage
  # the aerie binary stripped for the media (strip), read in tests (readelf)
  binutils
  # test hosts: network namespaces with real sshd
  openssh-server openssh-client iproute2 bridge-utils debootstrap util-linux
  # the Debian 12 test disk image: GPT (sfdisk), ext4 from a tree (mkfs.ext4 -d)
  fdisk e2fsprogs
  # host configuration checks
  dnsmasq ebtables iptables busybox
  # network boot (aerie pxe): iPXE for BIOS (undionly.kpxe) and UEFI (ipxe.efi)
  ipxe
  # benchmarks: peak memory (/usr/bin/time -v)
  time
  # laptop lab: vagrant validate of the rendered Vagrantfile, ruby -c, the
  # qemu driver's NAT (nft)
  vagrant vagrant-libvirt ruby nftables
  # kickstart validation (pykickstart goes into a venv)
  python3 python3-venv
  # cidata volumes checked by cloud-init itself (schema, net-convert); its
  # units are only linked, nothing starts (policy-rc.d, no systemd needed);
  # its networkd renderer gives the files it writes to the systemd-network
  # user, which Debian's systemd package makes (a machine without it fails
  # net-convert: seen in a chroot of the image's state)
  cloud-init systemd
  # the test bed's real OpenStack (tests/support/cloud.rs): its database, message
  # queue and virtual switch (userspace datapath: no kernel module needed); the
  # services themselves come from PyPI into a venv (below)
  mariadb-server rabbitmq-server openvswitch-switch curl
)
# A real installer kernel and initrd for boot tests; installed on its own (its
# 133 MB .deb once failed to unpack inside a combined install).
netboot=debian-installer-12-netboot-amd64

venv=${AERIE_TEST_VENV:-/opt/aerie-test/venv}
tests=$(cd "$(dirname "$0")/.." && pwd)/tests
# OpenStack from PyPI, pinned by tests/cloud/requirements.txt (a pinned venv: below).
openstack_venv=${AERIE_TEST_OPENSTACK_VENV:-/opt/aerie-test/openstack}
openstack_reqs=$tests/cloud/requirements.txt
# Kolla-Ansible (the kolla profile's version) for the deploy tests, pinned by
# tests/deploy/requirements.txt.
kolla_venv=${AERIE_TEST_KOLLA_VENV:-/opt/aerie-test/kolla}
kolla_reqs=$tests/deploy/requirements.txt
# sushy-tools, the Redfish emulator of the bmc tests, pinned by tests/bmc/requirements.txt.
sushy_venv=${AERIE_TEST_SUSHY_VENV:-/opt/aerie-test/sushy}
sushy_reqs=$tests/bmc/requirements.txt

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Version skew between suites. Binary packages built from one source package
# are released together and depend on each other's exact versions, so they
# must come from one suite. A machine can carry a binary from another suite
# than its default one, even one it has no apt source for: this project's
# machine image ships qemu-utils 10.0 from bookworm-backports with no
# backports source, and bookworm's qemu-system-x86 7.2 Breaks it, so a plain
# `apt-get install qemu-system-x86` cannot be resolved. The rule, for any
# package and any suite: a package we install whose source package already
# has a binary on this machine, newer than what the default suite offers, comes from the suite that offers that binary's
# version (`apt-get install -t suite`, so that its dependencies which need
# that suite come from it too). When no configured source offers that version, the suite can be named
# from the version only for Debian backports (~bpoNN): its source is added,
# from the mirror the machine's own suite uses. Any other skew stops with
# what to do.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
# The mirror that serves this machine's own suite (deb822 or one-line sources).
mirror_uri() {
  local f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [ -z "$uri" ] || continue
    uri=$(awk -v s="$codename" '/^URIs:/ {u=$2} /^Suites:/ && (" " $0 " ") ~ (" " s " ") && u != "" {print u; exit}' "$f")
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && [ -z "$uri" ] || continue
    uri=$(awk -v s="$codename" '$1 == "deb" { sub(/\[[^]]*\][ \t]*/, ""); if ($3 == s) { print $2; exit } }' "$f")
  done
  echo "$uri"
}
add_suite_source() {
  local suite=$1 file=/etc/apt/sources.list.d/aerie-test-$1.sources uri
  uri=$(mirror_uri)
  [ -n "$uri" ] || { echo "test-deps: no apt source for $codename to take a mirror from; add $suite by hand" >&2; exit 1; }
  echo "test-deps: adding apt source $suite ($uri) to match the suite of installed packages" >&2
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" "$suite" >"$file.tmp"
  mv "$file.tmp" "$file"
  apt-get update -qq
}
# The suite that offers version $2 of installed package $1, or nothing.
suite_offering() {
  apt-cache policy "$1" | awk -v v="$2" '
    /^ (\*\*\*|   ) [^ ]/ { cur = ($1 == "***") ? $2 : $1; next }
    /^        / && cur == v && $2 !~ "/var/lib/dpkg/status" { split($3, a, "/"); print a[1]; exit }'
}
# Prints each of its arguments as `SUITE PKG`, SUITE `-` for the default.
align_suites() {
  local -A installed_of_source=()
  local pkg src ver bin cand suite
  # source package -> "binary version" of one installed binary built from it
  while read -r src bin ver; do
    installed_of_source[$src]="$bin $ver"
  done < <(dpkg-query -W -f='${db:Status-Abbrev} ${source:Package} ${Package} ${Version}\n' | awk '$1 == "ii" {print $2, $3, $4}')
  for pkg in "$@"; do
    src=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Source:/ {print $2; exit}')
    read -r bin ver <<<"${installed_of_source[${src:-$pkg}]:-}" || true
    cand=$(apt-cache policy "$pkg" | awk '/^  Candidate:/ {print $2; exit}')
    # No sibling, the same version, or an older one (apt upgrades it along): no skew.
    if [ -z "${bin:-}" ] || [ "$cand" = "$ver" ] || dpkg --compare-versions "$ver" lt "$cand"; then
      echo "- $pkg"
      continue
    fi
    suite=$(suite_offering "$bin" "$ver")
    if [ -z "$suite" ]; then
      case "$ver" in
        *~bpo*) suite="$codename-backports"; add_suite_source "$suite" ;;
        *) echo "test-deps: $bin $ver is installed from a suite this machine has no apt source for," \
          "so $pkg cannot be installed beside it; add that suite to /etc/apt/sources.list.d, then run this again" >&2
          exit 1 ;;
      esac
    fi
    echo "$suite $pkg"
  done
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
if ((${#missing[@]})) || ! installed "$netboot"; then
  apt-get update -qq
fi
if ((${#missing[@]})); then
  # Each missing package with the suite its source package already came from
  # on this machine (see align_suites above); one install per suite.
  plan=${TMPDIR:-/tmp}/aerie-test-deps.$$
  align_suites "${missing[@]}" >"$plan"
  for suite in $(awk '{print $1}' "$plan" | sort -u); do
    mapfile -t group < <(awk -v s="$suite" '$1 == s {print $2}' "$plan")
    target=()
    [ "$suite" = - ] || target=(-t "$suite")
    echo "test-deps: installing ${group[*]}${target[*]:+ (from $suite)}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${target[@]}" "${group[@]}" >/dev/null
  done
  rm -f "$plan"
fi
if ! installed "$netboot"; then
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

# A PyPI test tool in a venv of its own (DIR), from its own pinned requirements file
# (REQS; `pip --no-deps`: the file pins every package). Made with Debian's python3
# (/usr/bin/python3, 3.11), the same interpreter at the same path as in the test
# hosts' root filesystem, so a venv bind-mounted into a host runs there. The venv
# keeps a copy of the file it was made from: an unchanged file installs nothing, a
# changed one remakes the venv. A new tool: one more `pinned_venv` line and a check.
pinned_venv() {
  local what=$1 dir=$2 reqs=$3
  cmp -s "$reqs" "$dir/aerie-requirements.txt" && return 0
  echo "test-deps: installing $what into $dir"
  rm -rf "$dir"
  /usr/bin/python3 -m venv "$dir"
  "$dir/bin/pip" install -q --no-deps -r "$reqs"
  cp "$reqs" "$dir/aerie-requirements.txt"
}
# A venv whose check failed: stop, saying what to do.
broken_venv() { echo "test-deps: $1 is broken: remove it and run this again" >&2; exit 1; }

pinned_venv "OpenStack (keystone, placement, nova, neutron)" "$openstack_venv" "$openstack_reqs"
"$openstack_venv/bin/nova-manage" --version >/dev/null 2>&1 || broken_venv "$openstack_venv"
pinned_venv Kolla-Ansible "$kolla_venv" "$kolla_reqs"
"$kolla_venv/bin/kolla-ansible" --version >/dev/null 2>&1 && "$kolla_venv/bin/ansible-inventory" --version >/dev/null 2>&1 \
  || broken_venv "$kolla_venv"
pinned_venv "sushy-tools (Redfish emulator)" "$sushy_venv" "$sushy_reqs"
"$sushy_venv/bin/python" -c 'import sushy_tools.emulator.main' || broken_venv "$sushy_venv"

# The root filesystem the SSH test hosts run on (cached between runs).
if [ -x "$(dirname "$0")/make-test-rootfs.sh" ]; then
  "$(dirname "$0")/make-test-rootfs.sh"
fi
# The Debian 12 disk image the boot tests run under qemu (cached; several
# minutes the first time; a failed download fails here, loudly).
"$(dirname "$0")/make-test-debian-image.sh"
echo "test-deps: ready (ksvalidator at $venv/bin/ksvalidator, OpenStack in $openstack_venv, Kolla-Ansible in $kolla_venv, sushy-tools in $sushy_venv)"
