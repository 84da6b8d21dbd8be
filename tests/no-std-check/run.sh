#!/usr/bin/env bash
# Build the no_std static library (debug and release) and, where a C compiler exists, link
# the release build into a C program and run it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cargo build --manifest-path "$here/Cargo.toml"
cargo build --release --manifest-path "$here/Cargo.toml"
if command -v cc >/dev/null; then
    out="$here/target/no-std-check"
    # --gc-sections drops the unused unwinding tables of the prebuilt `core`.
    cc "$here/main.c" "$here/target/release/librfc6455_no_std_check.a" -Wl,--gc-sections -o "$out"
    "$out"
fi
