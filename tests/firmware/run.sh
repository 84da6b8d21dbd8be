#!/usr/bin/env bash
# Build the firmware image for a Cortex-M4F (thumbv7em-none-eabihf) with the release
# profile (opt-level "s", LTO, one codegen unit, panic = abort), check the linked ELF and
# print its flash size (size.py), then run it on an emulated STM32F405 (qemu.py) and check
# its answers to a handshake and frames. Fails if it no longer builds or links, if the
# image is malformed, if it needs more flash than FIRMWARE_FLASH_BUDGET bytes (default
# 32 KiB; 19,380 bytes when this was written), or if an answer is wrong. Needs
# qemu-system-arm (Debian: apt-get install qemu-system-arm); no silent skip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target=thumbv7em-none-eabihf
elf="$here/target/$target/release/rfc6455-firmware"
cargo build --release --locked --manifest-path "$here/Cargo.toml" --target "$target"
python3 "$here/size.py" "$elf" "${FIRMWARE_FLASH_BUDGET:-32768}"
if ! command -v qemu-system-arm >/dev/null; then
  echo "firmware check FAILED: no qemu-system-arm to run the image (apt-get install qemu-system-arm)" >&2
  exit 1
fi
python3 "$here/qemu.py" "$elf"
