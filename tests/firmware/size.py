#!/usr/bin/env python3
"""Checks a linked Cortex-M firmware ELF and prints the flash and RAM it takes.

Reads the ELF's section headers and symbol table (no binutils needed). Fails unless the
image is a 32-bit little-endian ARM executable whose vector table sits at the start of
flash with the reset vector pointing at `Reset` (Thumb bit set) and the entry point there
too, and unless its flash size is within the budget given.

    python3 size.py FIRMWARE.elf [FLASH_BUDGET_BYTES]

Flash = every allocated section with contents (vector table, .text, .rodata and the load
image of .data); RAM = .data + .bss (the mailbox and the stack are not sections).
"""

import re
import struct
import sys

SHT_PROGBITS, SHT_SYMTAB, SHT_NOBITS = 1, 2, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4


def fail(msg):
    sys.exit(f"firmware check FAILED: {msg}")


def sections(elf):
    if elf[:4] != b"\x7fELF" or elf[4] != 1 or elf[5] != 1:
        fail("not a 32-bit little-endian ELF")
    e_type, e_machine = struct.unpack_from("<HH", elf, 16)
    if e_type != 2 or e_machine != 40:
        fail(f"not an ARM executable (type {e_type}, machine {e_machine})")
    entry, _, shoff = struct.unpack_from("<III", elf, 24)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 46)
    raw = [struct.unpack_from("<IIIIIIIIII", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = raw[shstrndx]
    out = []
    for name, typ, flags, addr, offset, size, link, _, _, entsize in raw:
        start = strtab[4] + name
        label = elf[start:elf.index(b"\0", start)].decode()
        out.append(dict(name=label, type=typ, flags=flags, addr=addr, offset=offset,
                        size=size, link=link, entsize=entsize))
    return entry, out


def symbols(elf, secs):
    symtab = next((s for s in secs if s["type"] == SHT_SYMTAB), None)
    if symtab is None:
        return {}
    names = secs[symtab["link"]]
    out = {}
    for i in range(symtab["size"] // 16):
        name, value, size, _, _, _ = struct.unpack_from("<IIIBBH", elf, symtab["offset"] + 16 * i)
        start = names["offset"] + name
        label = elf[start:elf.index(b"\0", start)].decode()
        if label:
            out[label] = (value, size)
    return out


def owner(symbol):
    """The crate a (legacy or v0) mangled symbol belongs to; code inlined elsewhere counts
    where it ends up (most of rfc6455's into the firmware's `main`)."""
    if symbol.startswith(".L"):
        return "(anonymous constants)"
    if symbol.startswith(("__aeabi_", "mem")):
        return "compiler_builtins"
    m = re.match(r"_ZN(\d+)", symbol)
    if m:
        segment = symbol[m.end():m.end() + int(m.group(1))]
        impl = re.match(r"_?\$LT\$(?:\$RF\$|mut\$u20\$|dyn\$u20\$)*([A-Za-z0-9_]+)", segment)
        return impl.group(1) if impl else segment
    m = re.search(r"Cs[0-9A-Za-z]+_(\d+)", symbol)
    if m:
        return symbol[m.end():m.end() + int(m.group(1))]
    return "rfc6455_firmware"  # unmangled: Reset, EXCEPTIONS


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    elf = open(sys.argv[1], "rb").read()
    budget = int(sys.argv[2]) if len(sys.argv) == 3 else None
    entry, secs = sections(elf)
    syms = symbols(elf, secs)
    alloc = [s for s in secs if s["flags"] & SHF_ALLOC and s["size"]]
    flash = {s["name"]: s["size"] for s in alloc if s["type"] != SHT_NOBITS}
    ram = {s["name"]: s["size"] for s in alloc if s["flags"] & SHF_WRITE}

    vt = next((s for s in secs if s["name"] == ".vector_table"), None)
    if vt is None or vt["size"] < 8:
        fail("no vector table")
    sp, reset_vector = struct.unpack_from("<II", elf, vt["offset"])
    reset = syms.get("Reset", (None, 0))[0]
    if reset is None:
        fail("no Reset symbol")
    reset &= ~1  # a Thumb function's symbol has the Thumb bit set
    if reset_vector != reset | 1 or entry & ~1 != reset & ~1:
        fail(f"reset vector {reset_vector:#x} / entry {entry:#x} do not point at Reset {reset:#x}")
    if min(s["addr"] for s in alloc if s["type"] != SHT_NOBITS) != vt["addr"]:
        fail("the vector table is not at the start of flash")

    total = sum(flash.values())
    print(f"vector table at {vt['addr']:#010x}, initial SP {sp:#010x}, Reset at {reset:#010x}")
    print("flash: " + " + ".join(f"{k} {v}" for k, v in flash.items()) + f" = {total} bytes")
    print("RAM (statics): " + (" + ".join(f"{k} {v}" for k, v in ram.items()) or "none")
          + f" = {sum(ram.values())} bytes")
    by_crate = {}
    for name, (_, size) in syms.items():
        if size:
            by_crate[owner(name)] = by_crate.get(owner(name), 0) + size
    print("symbols by crate (generic and inlined code counts where it ends up): "
          + ", ".join(f"{k} {v}" for k, v in sorted(by_crate.items(), key=lambda kv: -kv[1])))
    if budget is not None and total > budget:
        fail(f"flash {total} bytes is over the budget of {budget} bytes")


main()
