#!/usr/bin/env bash
# The whole test suite, on a fresh Debian/Ubuntu machine: installs what the tests
# need (Debian packages, pykickstart in a venv, the test hosts' root filesystem),
# then checks formatting and lints and runs every test. Run as root: the SSH
# tests make network namespaces, the ISO tests boot qemu.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh: run as root (sudo scripts/test.sh): the test hosts are network namespaces" >&2
  exit 1
fi
command -v cargo >/dev/null || { echo "scripts/test.sh: cargo is missing: install the Rust toolchain (rustup)" >&2; exit 1; }

scripts/test-deps.sh
export AERIE_KSVALIDATOR=${AERIE_KSVALIDATOR:-/opt/aerie-test/venv/bin/ksvalidator}

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test"
cargo test --locked
