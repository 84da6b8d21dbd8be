//! A counting global allocator for the hostile-peer tests: allocations, live bytes and the
//! peak of live bytes, per thread (so tests running in parallel do not mix). Each test
//! binary that includes this module installs it with
//! `#[global_allocator] static A: counting::Counting = counting::Counting;`.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator. `Counting` counts a reallocation by its net change;
/// `Counting<true>` as holding both blocks at once (which it does while it copies, unless the
/// allocator grows it in place), for tests whose bound must hold at that moment too.
pub struct Counting<const BOTH_BLOCKS: bool = false>;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn grow(by: i64) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + by;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl<const BOTH_BLOCKS: bool> GlobalAlloc for Counting<BOTH_BLOCKS> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        grow(layout.size() as i64);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        grow(layout.size() as i64);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grow(-(layout.size() as i64));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        if BOTH_BLOCKS {
            grow(new_size as i64);
            grow(-(layout.size() as i64));
        } else {
            grow(new_size as i64 - layout.size() as i64);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (and reallocations) made by this thread so far.
pub fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

/// Bytes this thread has allocated and not freed.
pub fn live() -> i64 {
    LIVE.with(|c| c.get())
}

/// Forget the peak: from now on it is measured from the current live bytes.
pub fn reset_peak() {
    let now = live();
    PEAK.with(|p| p.set(now));
}

/// The most live bytes since the last [`reset_peak`].
pub fn peak() -> i64 {
    PEAK.with(|p| p.get())
}
