#!/usr/bin/env bash
# The whole test suite, on a fresh Debian/Ubuntu machine: installs what the tests
# need (Debian packages, pykickstart in a venv, the test hosts' root filesystem),
# then checks formatting and lints and runs every test. Run as root: the SSH
# tests make network namespaces, the ISO tests boot qemu.
set -euo pipefail
cd "$(dirname "$0")/.."

# Root is needed for the whole run: apt-get, namespaces, mounts. As root it
# runs as it is; as another user it runs itself again through sudo, keeping
# this user's toolchain (PATH, rustup and cargo homes) and giving back to
# this user, at the end, what the run wrote in their tree and cargo home
# (target/, cargo's registry and git caches).
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "scripts/test.sh: needs root (network namespaces, apt-get): run it as root, or install sudo" >&2
    exit 1
  }
  exec sudo -- env PATH="$PATH" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" AERIE_TEST_OWNER="$(id -u):$(id -g)" "$PWD/scripts/test.sh" "$@"
fi
if [ -n "${AERIE_TEST_OWNER:-}" ]; then
  give_back() {
    local d
    for d in target "${CARGO_HOME:-}/registry" "${CARGO_HOME:-}/git"; do
      [ -e "$d" ] && chown -R "$AERIE_TEST_OWNER" "$d"
    done
    return 0
  }
  trap give_back EXIT
fi
command -v cargo >/dev/null || { echo "scripts/test.sh: cargo is missing: install the Rust toolchain (rustup)" >&2; exit 1; }

scripts/test-deps.sh
export AERIE_KSVALIDATOR=${AERIE_KSVALIDATOR:-/opt/aerie-test/venv/bin/ksvalidator}

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test"
# Every test binary runs, and every failure is reported; any failure still
# makes the run exit nonzero.
cargo test --locked --no-fail-fast
