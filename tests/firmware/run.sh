#!/usr/bin/env bash
# Build the firmware image for a Cortex-M4F (thumbv7em-none-eabihf) with the release
# profile (opt-level "s", LTO, one codegen unit, panic = abort), then check the linked ELF
# and print its flash size (size.py). Fails if it no longer builds or links, if the image
# is malformed, or if it needs more flash than FIRMWARE_FLASH_BUDGET bytes (default
# 32 KiB; 19,224 bytes when this was written).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target=thumbv7em-none-eabihf
cargo build --release --locked --manifest-path "$here/Cargo.toml" --target "$target"
python3 "$here/size.py" "$here/target/$target/release/rfc6455-firmware" \
  "${FIRMWARE_FLASH_BUDGET:-32768}"
