//! Giving freed heap memory back to the system after large transient work.
//!
//! A startup scan or a full rescan parses every article on rayon's threads,
//! and glibc's allocator keeps what they freed in per-thread arenas, so the
//! daemon's resident size stays at the scan's peak although the catalog it
//! keeps is a fraction of that. `malloc_trim` returns those free pages.

/// Returns free heap pages to the system (glibc only; elsewhere a no-op).
/// Takes milliseconds on a large heap: call it after a full rebuild, not on
/// the path of an edit.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it only takes glibc's arena
    // locks, like any malloc or free from another thread would.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}
