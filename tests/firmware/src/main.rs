//! A minimal firmware image for a Cortex-M4F: a WebSocket relay that answers a local
//! client's opening handshake and forwards the client's frames upstream, masked as a
//! client sends them.
//!
//! Everything a linked image needs and nothing else: a vector table, a reset handler
//! (copies `.data`, zeroes `.bss`, enables the FPU), a panic handler and `link.x`. The
//! input lives in a mailbox at a fixed RAM address that the linker script defines and the
//! rest of the system (a DMA engine, a radio stack) writes, so the compiler can see
//! neither its contents nor fold any of the work away:
//!
//! 1. wait until the mailbox's `rx_len` is set (a volatile read, as of a DMA register);
//! 2. parse `rx` as a client's opening handshake with [`ServerHandshake::parse`]; answer
//!    with the 101 response (selecting the subprotocol `chat` when offered) or with the
//!    400/426/431 rejection;
//! 3. decode the frames after the head with [`Decoder`] (server role: masked frames only,
//!    unmasked in place), check text frames with [`Utf8Validator`], and encode each frame
//!    again with [`encode_frame`], masked with a fresh key from the mailbox's RNG word,
//!    until a close frame, an incomplete frame or an error;
//! 4. publish `tx_len`, `status` and `close_code`, clear `rx_len`, and wait again.
#![no_std]
#![no_main]

use core::panic::PanicInfo;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{Ordering, compiler_fence};

use rfc6455::Role;
use rfc6455::frame::{Decoded, Decoder, FrameHeader, OpCode, encode_frame};
use rfc6455::handshake::{Limits, ServerHandshake, ServerResponse, Status};
use rfc6455::utf8::Utf8Validator;

/// The RAM the firmware shares with the rest of the system, at `MAILBOX` in `link.x`.
#[repr(C)]
struct Mailbox {
    /// Written by the producer: the bytes in `rx`, non-zero once they are ready. Cleared
    /// by the firmware when it has handled them.
    rx_len: u32,
    /// Written by the firmware: the bytes in `tx`.
    tx_len: u32,
    /// Written by the firmware: 101 accepted, 400/426/431 rejected, 0 incomplete head.
    status: u32,
    /// Written by the firmware: the close code of a frame error, or of the client's close
    /// frame, or 0.
    close_code: u32,
    /// A hardware random number generator's data register: read once per masking key.
    rng: u32,
    /// The client's bytes: its opening handshake, possibly followed by frames.
    rx: [u8; 1536],
    /// The response, then the forwarded frames.
    tx: [u8; 2048],
}

unsafe extern "C" {
    /// Defined by `link.x`; its contents are written outside this program.
    static mut MAILBOX: Mailbox;
}

/// What one batch of input produced.
struct Outcome {
    tx_len: usize,
    status: u32,
    close_code: u32,
}

fn next_key(mailbox: *mut Mailbox) -> [u8; 4] {
    // SAFETY: `mailbox` points at the linker-placed mailbox; the RNG word is read as a
    // device register is, with a volatile read.
    unsafe { read_volatile(addr_of!((*mailbox).rng)) }.to_le_bytes()
}

/// Handles one batch: the handshake, then the frames after it.
fn relay(rx: &mut [u8], tx: &mut [u8], mailbox: *mut Mailbox) -> Outcome {
    let mut out = Outcome {
        tx_len: 0,
        status: 0,
        close_code: 0,
    };
    let head_len = match ServerHandshake::new(Limits::default()).parse(rx) {
        Ok(Status::Partial) => return out,
        Ok(Status::Complete { value, consumed }) => {
            let response = ServerResponse {
                protocol: value.protocols().find(|p| *p == "chat"),
                ..ServerResponse::default()
            };
            match value.write_response(&response, tx) {
                Ok(n) => out.tx_len = n,
                Err(_) => return out,
            }
            out.status = 101;
            consumed
        }
        Err(error) => {
            out.tx_len = error.write_rejection(tx).unwrap_or(0);
            out.status = u32::from(error.http_status());
            return out;
        }
    };

    let mut decoder = Decoder::new(Role::Server);
    let mut rest = &mut rx[head_len..];
    loop {
        let (frame, consumed) = match decoder.decode(rest) {
            Ok(Decoded::Frame { frame, consumed }) => (frame, consumed),
            Ok(_) => break,
            Err(error) => {
                out.close_code = u32::from(error.close_code().0);
                break;
            }
        };
        // RFC 6455 section 8.1: text that is not UTF-8 fails the connection (1007).
        if frame.header.opcode == OpCode::Text {
            let mut text = Utf8Validator::new();
            if text.feed(frame.payload).is_err() || text.finish().is_err() {
                out.close_code = 1007;
                break;
            }
        }
        let header = FrameHeader {
            mask: Some(next_key(mailbox)),
            ..frame.header
        };
        match encode_frame(&header, frame.payload, &mut tx[out.tx_len..]) {
            Ok(n) => out.tx_len += n,
            Err(_) => break,
        }
        if frame.header.opcode == OpCode::Close {
            let code = frame
                .payload
                .get(..2)
                .map_or(1005, |c| u16::from_be_bytes([c[0], c[1]]));
            out.close_code = u32::from(code);
            break;
        }
        rest = &mut rest[consumed..];
    }
    out
}

fn main() -> ! {
    let mailbox = addr_of_mut!(MAILBOX);
    loop {
        // SAFETY: the mailbox's words are read and written only with volatile accesses;
        // `rx` and `tx` are borrowed only while `rx_len` is non-zero, when the producer
        // leaves them alone (the mailbox's protocol).
        unsafe {
            let rx_len = read_volatile(addr_of!((*mailbox).rx_len)) as usize;
            if rx_len == 0 {
                continue;
            }
            compiler_fence(Ordering::Acquire);
            let rx = &mut *addr_of_mut!((*mailbox).rx);
            let tx = &mut *addr_of_mut!((*mailbox).tx);
            let out = relay(&mut rx[..rx_len.min(1536)], tx, mailbox);
            compiler_fence(Ordering::Release);
            write_volatile(addr_of_mut!((*mailbox).tx_len), out.tx_len as u32);
            write_volatile(addr_of_mut!((*mailbox).status), out.status);
            write_volatile(addr_of_mut!((*mailbox).close_code), out.close_code);
            write_volatile(addr_of_mut!((*mailbox).rx_len), 0);
        }
    }
}

/// The first code to run: sets up RAM and the FPU, then runs [`main`].
///
/// # Safety
///
/// Called only by the hardware, out of reset.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn Reset() -> ! {
    unsafe extern "C" {
        static mut __sbss: u32;
        static mut __ebss: u32;
        static mut __sdata: u32;
        static mut __edata: u32;
        static __sidata: u32;
    }
    // SAFETY: the symbols are word-aligned section bounds from link.x; nothing has used
    // RAM yet. Volatile writes, so the loops are not turned into calls to `memset` and
    // `memcpy` (which might rely on the RAM being set up).
    unsafe {
        let mut bss = addr_of_mut!(__sbss);
        while bss < addr_of_mut!(__ebss) {
            write_volatile(bss, 0);
            bss = bss.add(1);
        }
        let (mut data, mut load) = (addr_of_mut!(__sdata), addr_of!(__sidata));
        while data < addr_of_mut!(__edata) {
            write_volatile(data, read_volatile(load));
            data = data.add(1);
            load = load.add(1);
        }
        // CPACR: full access to the FPU's coprocessors 10 and 11, before any code that
        // may use floating-point registers (the eabihf ABI).
        const CPACR: *mut u32 = 0xE000_ED88 as *mut u32;
        write_volatile(CPACR, read_volatile(CPACR) | (0b1111 << 20));
        core::arch::asm!("dsb", "isb");
    }
    compiler_fence(Ordering::SeqCst);
    main()
}

/// Every exception but reset: stop here, where a debugger finds it.
unsafe extern "C" fn fault() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// An entry of the vector table.
#[repr(C)]
pub union Vector {
    handler: unsafe extern "C" fn() -> !,
    reserved: usize,
}

/// Entries 1 to 15 of the vector table; `link.x` puts the initial stack pointer first.
#[unsafe(link_section = ".vector_table.exceptions")]
#[unsafe(no_mangle)]
pub static EXCEPTIONS: [Vector; 15] = [
    Vector { handler: Reset },
    Vector { handler: fault }, // NMI
    Vector { handler: fault }, // HardFault
    Vector { handler: fault }, // MemManage
    Vector { handler: fault }, // BusFault
    Vector { handler: fault }, // UsageFault
    Vector { reserved: 0 },
    Vector { reserved: 0 },
    Vector { reserved: 0 },
    Vector { reserved: 0 },
    Vector { handler: fault }, // SVCall
    Vector { handler: fault }, // DebugMonitor
    Vector { reserved: 0 },
    Vector { handler: fault }, // PendSV
    Vector { handler: fault }, // SysTick
];

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
