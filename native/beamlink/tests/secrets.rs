//! The cookie never outlives its use in memory: every heap block freed while two nodes read it
//! from a file, handshake with it and shut down is checked by the allocator below, and none may
//! still hold the cookie's bytes. Nor may any error, `Debug` output or log line show it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use beamlink::Node;
use beamlink::cookie::Cookie;
use beamlink_test_support::unique_name;

/// The secret, never put in a heap block by this test itself.
const SECRET: &[u8] = b"Zq7-secret-cookie-K3v9";

static WATCH: AtomicBool = AtomicBool::new(false);
static LEAKED: AtomicUsize = AtomicUsize::new(0);

struct Scanning;

unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if WATCH.load(Ordering::Relaxed) && l.size() >= SECRET.len() {
            let block = unsafe { std::slice::from_raw_parts(p, l.size()) };
            if block.windows(SECRET.len()).any(|w| w == SECRET) {
                LEAKED.fetch_add(1, Ordering::Relaxed);
            }
        }
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // A reallocation frees the old block: check it as a dealloc would.
        let q = unsafe { self.alloc(Layout::from_size_align_unchecked(new, l.align())) };
        if !q.is_null() {
            unsafe { std::ptr::copy_nonoverlapping(p, q, l.size().min(new)) };
            unsafe { self.dealloc(p, l) };
        }
        q
    }
}

#[global_allocator]
static ALLOC: Scanning = Scanning;

#[test]
fn the_cookie_is_zeroed_when_freed_and_never_printed() {
    // The check itself works: a plain String holding the secret is seen when it is freed.
    WATCH.store(true, Ordering::SeqCst);
    drop(String::from_utf8(SECRET.to_vec()).unwrap());
    assert_eq!(LEAKED.swap(0, Ordering::SeqCst), 1, "the scanning allocator sees a freed secret");

    let dir = std::env::temp_dir().join(unique_name("blsecret"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cookie");
    std::fs::write(&path, SECRET).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let printed = rt.block_on(async {
        let cookie = Cookie::from_file(&path).unwrap();
        let a = Node::builder(format!("{}@localhost", unique_name("sa")))
            .cookie(cookie.clone())
            .listen(0)
            .start()
            .await
            .unwrap();
        let b = Node::builder(format!("{}@localhost", unique_name("sb")))
            .cookie(cookie.clone())
            .start()
            .await
            .unwrap();
        assert!(b.ping(a.name().as_str()).await, "the two nodes share the cookie");
        let wrong =
            Node::builder(format!("{}@localhost", unique_name("sc"))).cookie("other").start().await.unwrap();
        let err = wrong.ping_timeout(a.name().as_str(), Duration::from_secs(5)).await.unwrap_err();
        let printed = format!(
            "{cookie:?} {cookie} {a:?} {err} {err:?} {:?}",
            Node::builder("x").cookie(cookie.clone())
        );
        a.shutdown();
        b.shutdown();
        wrong.shutdown();
        printed
    });
    drop(rt);
    WATCH.store(false, Ordering::SeqCst);
    let secret = std::str::from_utf8(SECRET).unwrap();
    assert!(!printed.contains(secret), "{printed}");
    assert_eq!(LEAKED.load(Ordering::SeqCst), 0, "heap blocks freed with the cookie still in them");
    let _ = std::fs::remove_dir_all(&dir);
}
