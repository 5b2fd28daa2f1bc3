//! The shared runtime ends with its last handle: no engine thread outlives the nodes a program
//! closed (the bindings' "close leaves no threads" rests on this). A test file of its own, so
//! no other test holds the runtime meanwhile.

use std::time::{Duration, Instant};

use beamlink::runtime::Runtime;

/// Threads of this process whose name starts with "beamlink" (Linux: /proc/self/task).
fn engine_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("beamlink"))
        .count()
}

fn until(mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn the_last_handle_or_task_stops_the_engine_threads_and_the_next_use_starts_them() {
    assert_eq!(engine_threads(), 0);
    let rt = Runtime::shared().unwrap();
    let task = rt.spawn(async { tokio::time::sleep(Duration::from_millis(10)).await });
    assert!(task.wait(Some(Duration::from_secs(5))).is_some());
    assert!(engine_threads() >= 2, "two workers at least");
    let second = Runtime::shared().unwrap();
    drop(rt);
    assert!(engine_threads() >= 2, "a second handle keeps it up");
    drop(second);
    assert!(until(|| engine_threads() == 0), "threads left: {}", engine_threads());

    // Started again on demand.
    let rt = Runtime::shared().unwrap();
    assert_eq!(rt.block_on(async { 5 }), 5);
    drop(rt);
    assert!(until(|| engine_threads() == 0));

    // A task handed a callback keeps the runtime up until it is done, then lets it go.
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let rt = Runtime::shared().unwrap();
        rt.spawn(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            "late"
        })
        .on_complete(move |v| tx.send(v.unwrap()).unwrap());
    }
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("late"));
    assert!(until(|| engine_threads() == 0));
}
