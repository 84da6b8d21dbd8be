#!/usr/bin/env bash
# Build the no_std static library (debug and release), link the release build into a C
# program and run it: the program exits non-zero unless every frame, masking, close, UTF-8
# and handshake step gives the RFC's answer. A C compiler is required (no silent skip); the
# run is bounded because the library's panic handler spins.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cargo build --manifest-path "$here/Cargo.toml"
cargo build --release --manifest-path "$here/Cargo.toml"
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null; then
  echo "no_std check FAILED: no C compiler ($cc) to link and run the check" >&2
  exit 1
fi
out="$here/target/no-std-check"
# --gc-sections drops the unused unwinding tables of the prebuilt `core`.
"$cc" -std=c11 -Wall -Wextra -Werror "$here/main.c" "$here/target/release/librfc6455_no_std_check.a" \
  -Wl,--gc-sections -o "$out"
if ! timeout 20 "$out"; then
  echo "no_std check FAILED (a wrong answer, or a panic: the handler spins until the 20 s timeout)" >&2
  exit 1
fi
