#!/bin/sh
# Build (once) and cache the Debian 12 disk image the boot tests run under qemu
# (test support, not product): a GPT disk with an EFI system partition (GRUB
# EFI image from grub-mkimage, grub.cfg finding the root by UUID, console on
# ttyS0) and an ext4 root made from a debootstrap tree: a whole Debian system
# with its own kernel, systemd, GRUB tools (update-grub), cloud-init, sshd,
# ebtables, kmod, python3 and ifupdown. (python3-cffi-backend is named because
# debootstrap does not resolve the virtual package python3-cryptography needs.)
#
#   scripts/make-test-debian-image.sh          build if missing, print the image path
#   scripts/make-test-debian-image.sh --print  print the path it would use, build nothing
#
# No root mounts, no loop devices: the partitions are written straight into the
# disk file at their offsets (mkfs.fat --offset + mtools `IMAGE@@OFFSET`,
# mkfs.ext4 -E offset= -d TREE). debootstrap needs root (chroot).
# Result: /var/cache/aerie-test/debian12-$VERSION.img (raw, sparse) and
# debian12-$VERSION.facts (ROOT_UUID=..., the kernel's version). Boot it with
# `-snapshot` (or a copy-on-write overlay): the cached file is never changed.
# Bump VERSION when the packages or the tweaks below change.
# Idempotent and safe to run concurrently (flock on the cache directory).
# A failed download fails loudly (exit 1, the log's tail): never a silent skip.
set -eu

VERSION="v1"
SUITE="bookworm"
PACKAGES="linux-image-amd64,systemd,systemd-sysv,udev,grub-efi-amd64,cloud-init,python3-cffi-backend,openssh-server,ebtables,kmod,python3,ifupdown,isc-dhcp-client,iproute2"
CACHE="${AERIE_TEST_CACHE:-/var/cache/aerie-test}"
NAME="debian12-$VERSION"
IMAGE="$CACHE/$NAME.img"
FACTS="$CACHE/$NAME.facts"
SETUP="scripts/test-deps.sh"
# The disk: 1 MiB GPT head, 64 MiB ESP (FAT16: too small for FAT32), 2 GiB root, GPT tail.
ESP_START=2048
ESP_SECTORS=131072
ROOT_START=$((ESP_START + ESP_SECTORS))
ROOT_SECTORS=4194304
DISK_BYTES=$(((ROOT_START + ROOT_SECTORS + 2048) * 512))
# What the EFI image carries (no modules directory on the ESP).
GRUB_MODULES="part_gpt fat ext2 normal linux search search_fs_uuid search_label configfile echo test serial terminal gzio all_video boot loadenv ls cat reboot halt sleep"

die() { echo "make-test-debian-image: $*" >&2; exit 1; }

if [ "${1:-}" = "--print" ]; then
    echo "$IMAGE"
    exit 0
fi
if [ -f "$IMAGE" ] && [ -f "$FACTS" ]; then
    echo "$IMAGE"
    exit 0
fi
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap)"
PATH="$PATH:/usr/sbin:/sbin"
for tool in debootstrap grub-mkimage mkfs.ext4 mkfs.fat mmd mcopy sfdisk flock truncate blkid; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing; install the test dependencies with: $SETUP"
done
[ -d /usr/lib/grub/x86_64-efi ] || die "/usr/lib/grub/x86_64-efi is missing (grub-efi-amd64-bin); run $SETUP"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$NAME"
flock 9
if [ -f "$IMAGE" ] && [ -f "$FACTS" ]; then
    echo "$IMAGE"
    exit 0
fi

MIRROR="$("$(dirname "$0")/make-test-rootfs.sh" --mirror)"
BUILD="$CACHE/.build-$NAME"
LOG="$CACHE/.build-$NAME.log"
rm -rf "$BUILD" "$IMAGE.tmp"
mkdir -p "$BUILD"
start=$(date +%s)
echo "make-test-debian-image: building $NAME from $MIRROR (several minutes)" >&2
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$BUILD/root" "$MIRROR" >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    die "debootstrap failed (full log: $LOG)"
fi
ROOT="$BUILD/root"
kernel=$(cd "$ROOT/boot" && ls vmlinuz-* | sort -V | tail -n 1)
initrd="initrd.img-${kernel#vmlinuz-}"
[ -f "$ROOT/boot/$initrd" ] || die "no $initrd in the tree (initramfs-tools did not run; see $LOG)"
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)

# The system's own settings: root by UUID, serial console, a host name,
# cloud-init looking for a NoCloud volume only (no network metadata waits).
printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$ROOT_UUID" >"$ROOT/etc/fstab"
echo debian12 >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 debian12\n' >"$ROOT/etc/hosts"
sed -i -e 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0,115200"/' \
    -e 's/^#\?GRUB_TERMINAL=.*/GRUB_TERMINAL="serial"/' "$ROOT/etc/default/grub"
echo 'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"' >>"$ROOT/etc/default/grub"
grep -q '^GRUB_CMDLINE_LINUX=""$' "$ROOT/etc/default/grub" || die "Debian's /etc/default/grub changed shape"
mkdir -p "$ROOT/etc/cloud/cloud.cfg.d"
printf 'datasource_list: [ NoCloud, None ]\n' >"$ROOT/etc/cloud/cloud.cfg.d/90-aerie-test.cfg"
rm -f "$ROOT"/etc/ssh/ssh_host_*
: >"$ROOT/etc/machine-id"
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
    "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/*
mkdir -p "$ROOT/var/lib/apt/lists/partial"
: >"$ROOT/etc/resolv.conf"
echo "$NAME" >"$ROOT/etc/aerie-test-image"

# GRUB on the ESP: find the root by UUID; once the system's own update-grub
# has written /boot/grub/grub.cfg, boot by it, else boot the kernel directly.
cat >"$BUILD/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=1
search --no-floppy --fs-uuid --set=root $ROOT_UUID
if [ -f /boot/grub/grub.cfg ]; then
    configfile /boot/grub/grub.cfg
fi
linux /boot/$kernel root=UUID=$ROOT_UUID ro console=ttyS0,115200
initrd /boot/$initrd
boot
EOF
# shellcheck disable=SC2086
grub-mkimage -O x86_64-efi -p /EFI/BOOT -o "$BUILD/BOOTX64.EFI" $GRUB_MODULES

# The disk: GPT, then each file system written at its partition's offset.
truncate -s "$DISK_BYTES" "$IMAGE.tmp"
sfdisk -q "$IMAGE.tmp" <<EOF
label: gpt
start=$ESP_START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP
start=$ROOT_START, size=$ROOT_SECTORS, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
EOF
# (mkfs.fat warns that the file is larger than the file system: it is the whole disk.)
mkfs.fat -F 16 -n ESP --offset "$ESP_START" "$IMAGE.tmp" $((ESP_SECTORS / 2)) >"$BUILD/mkfs.fat.log" 2>&1 ||
    { cat "$BUILD/mkfs.fat.log" >&2; die "mkfs.fat failed"; }
esp="$IMAGE.tmp@@$((ESP_START * 512))"
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$BUILD/BOOTX64.EFI" "$BUILD/grub.cfg" ::/EFI/BOOT/
mkfs.ext4 -q -F -L aerie-root -U "$ROOT_UUID" -E offset=$((ROOT_START * 512)) -d "$ROOT" \
    "$IMAGE.tmp" $((ROOT_SECTORS / 2))k
printf 'ROOT_UUID=%s\nKERNEL=%s\nBUILD_SECONDS=%s\n' "$ROOT_UUID" "${kernel#vmlinuz-}" "$(($(date +%s) - start))" >"$FACTS.tmp"
rm -rf "$BUILD" "$LOG"
mv "$FACTS.tmp" "$FACTS"
mv "$IMAGE.tmp" "$IMAGE"
echo "$IMAGE"
