#!/bin/sh
# Build (once) and cache the minimal Debian bookworm root filesystem that aerie's
# test hosts (tests/support/testbed.rs) mount as the lower layer of their overlays.
#
#   scripts/make-test-rootfs.sh            build if missing, print the rootfs path
#   scripts/make-test-rootfs.sh --print    print the path it would use, build nothing
#   scripts/make-test-rootfs.sh --mirror   print the Debian mirror it would use (the
#                                          Debian test image, make-test-debian-image.sh, uses it too)
#
# Result: /var/cache/aerie-test/rootfs-$VERSION/ (unpacked) and
#         /var/cache/aerie-test/rootfs-$VERSION.tar.gz (the cache it is unpacked from).
# Bump VERSION whenever the package list or the tweaks below change: the harness
# asks for exactly this version, so a bump rebuilds.
# Idempotent and safe to run concurrently (flock on the cache directory).
# Mirror: the Debian mirror configured for apt on this machine
# (/etc/apt/sources.list.d/*.sources, *.list, /etc/apt/sources.list), or $AERIE_TEST_MIRROR.
set -eu

VERSION="bookworm-v2"
SUITE="bookworm"
PACKAGES="openssh-server,python3,iproute2,kmod,ebtables,iptables,dnsmasq-base,busybox,procps,sudo"
CACHE="${AERIE_TEST_CACHE:-/var/cache/aerie-test}"
ROOTFS="$CACHE/rootfs-$VERSION"
TARBALL="$CACHE/rootfs-$VERSION.tar.gz"
SETUP="scripts/test-deps.sh"

die() { echo "make-test-rootfs: $*" >&2; exit 1; }

if [ "${1:-}" = "--print" ]; then
    echo "$ROOTFS"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"

# Fast path: already unpacked and complete.
if [ "${1:-}" != "--mirror" ] && [ -f "$ROOTFS/.aerie-rootfs-complete" ]; then
    echo "$ROOTFS"
    exit 0
fi

for tool in debootstrap tar gzip flock chroot; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
        die "'$tool' is missing; install the test dependencies with: $SETUP"
done
PATH="$PATH:/usr/sbin:/sbin"

# Find the Debian mirror apt on this machine uses (not a hard-coded internet host).
find_mirror() {
    if [ -n "${AERIE_TEST_MIRROR:-}" ]; then
        echo "$AERIE_TEST_MIRROR"
        return
    fi
    # deb822 .sources: a stanza whose Suites name the plain suite and whose Components hold main.
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            function flush() {
                if (uri != "" && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main /) {
                    n = split(uri, u, " "); print u[1]; found = 1; exit
                }
                uri = ""; suites = ""; comps = ""; types = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "uris:" { $1 = ""; uri = $0; sub(/^ +/, "", uri) }
            tolower($1) == "suites:" { $1 = ""; suites = $0 }
            tolower($1) == "components:" { $1 = ""; comps = $0 }
            tolower($1) == "types:" { $1 = ""; types = $0 }
            END { if (!found) flush() }
        ' "$f"
    done | head -n 1 | grep . && return
    # one-line format: deb [opts] URI SUITE COMPONENTS...
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -e 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '
            $1 == "deb" && $3 == suite { for (i = 4; i <= NF; i++) if ($i == "main") { print $2; exit } }'
    done | head -n 1 | grep . && return
    return 1
}

if [ "${1:-}" = "--mirror" ]; then
    find_mirror || die "no Debian '$SUITE' mirror found in /etc/apt/sources.list{,.d/}; set AERIE_TEST_MIRROR"
    exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$VERSION"
flock 9
# Someone else may have finished while we waited for the lock.
if [ -f "$ROOTFS/.aerie-rootfs-complete" ]; then
    echo "$ROOTFS"
    exit 0
fi

if [ ! -f "$TARBALL" ]; then
    MIRROR="$(find_mirror)" || die "no Debian '$SUITE' mirror found in /etc/apt/sources.list{,.d/}; set AERIE_TEST_MIRROR"
    echo "make-test-rootfs: building $VERSION from $MIRROR (takes a minute or two)" >&2
    BUILD="$CACHE/.build-$VERSION"
    rm -rf "$BUILD"
    mkdir -p "$BUILD"
    # debootstrap itself installs a policy-rc.d and a fake start-stop-daemon while it
    # runs, so the openssh-server postinst starts nothing on this machine.
    if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$BUILD" "$MIRROR" \
        >"$CACHE/.build-$VERSION.log" 2>&1; then
        tail -n 30 "$CACHE/.build-$VERSION.log" >&2
        die "debootstrap failed (full log: $CACHE/.build-$VERSION.log)"
    fi
    # Keep services from starting if a test installs packages inside a host.
    printf '#!/bin/sh\n# aerie test rootfs: never start services\nexit 101\n' >"$BUILD/usr/sbin/policy-rc.d"
    chmod 755 "$BUILD/usr/sbin/policy-rc.d"
    # Each test host generates its own host key at start-up: none shared in the lower layer.
    rm -f "$BUILD"/etc/ssh/ssh_host_*
    # sshd needs its privilege-separation directory.
    mkdir -p "$BUILD/run/sshd"
    chmod 755 "$BUILD/run/sshd"
    # Slim down: apt lists, caches, docs.
    rm -rf "$BUILD"/var/lib/apt/lists/* "$BUILD"/var/cache/apt/*.bin "$BUILD"/var/cache/apt/archives/*.deb \
        "$BUILD"/usr/share/doc/* "$BUILD"/usr/share/man/* "$BUILD"/usr/share/info/*
    mkdir -p "$BUILD/var/lib/apt/lists/partial"
    : >"$BUILD/etc/resolv.conf"
    echo "$VERSION" >"$BUILD/etc/aerie-test-rootfs"
    tar -C "$BUILD" --numeric-owner --xattrs -czf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$BUILD" "$CACHE/.build-$VERSION.log"
fi

# Unpack (again, if only the tarball survived).
rm -rf "$ROOTFS.tmp" "$ROOTFS"
mkdir -p "$ROOTFS.tmp"
tar -C "$ROOTFS.tmp" --numeric-owner --xattrs -xzf "$TARBALL"
touch "$ROOTFS.tmp/.aerie-rootfs-complete"
mv "$ROOTFS.tmp" "$ROOTFS"
echo "$ROOTFS"
