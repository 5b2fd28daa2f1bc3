//! Memory of a listening node per connection, measured with a counting allocator (live heap
//! bytes, exact) beside RSS:
//! - an idle connection's cost;
//! - the ceiling of one hostile connection, which fills every per-connection buffer at once
//!   (fragments held for reassembly, a packet in progress, replies queued to a peer that never
//!   reads) and must stay under `2 × max_message + max_queued` plus a fixed part;
//! - what stays after such connections close: the live heap returns to where it was, so RSS
//!   that stays up afterwards is the allocator keeping freed pages (glibc `malloc_trim` gives
//!   them back), not a leak.
//!
//! Its own test binary: the allocator counts the whole process. Numbers are printed with
//! `--nocapture`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use beamlink::cookie::Cookie;
use beamlink::handshake::{self, HandshakeConfig};
use beamlink::name::NodeName;
use beamlink::node::NodeEvent;
use beamlink::term::{self, Atom, Pid, Term};
use beamlink::transport::Transport;
use beamlink::{Node, NodeBuilder};
use beamlink_test_support::{DEFAULT_COOKIE, unique_name};
use tokio::io::AsyncWriteExt;

static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

unsafe extern "C" {
    fn malloc_trim(pad: usize) -> i32;
}

fn live_kib() -> isize {
    LIVE.load(Ordering::Relaxed) / 1024
}

fn rss_kib() -> isize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn builder(max_message: usize, max_queued: usize) -> NodeBuilder {
    Node::builder(format!("{}@localhost", unique_name("blmem")))
        .cookie(DEFAULT_COOKIE)
        .listen(0)
        .max_message(max_message)
        .max_queued(max_queued)
}

async fn handshaken(node: &Node) -> (Transport, String) {
    let me = NodeName::parse_any(&format!("{}@localhost", unique_name("mem"))).unwrap();
    let cfg = HandshakeConfig::new(me.clone(), Cookie::new(DEFAULT_COOKIE), 7);
    let target = NodeName::parse_any(node.name().as_str()).unwrap();
    let (s, _) = handshake::connect(&cfg, &target).await.unwrap();
    (s, me.to_string())
}

async fn wait_up(events: &mut tokio::sync::broadcast::Receiver<NodeEvent>, n: usize) {
    let mut up = 0;
    while up < n {
        if let Ok(NodeEvent::Up { .. }) = events.recv().await {
            up += 1;
        }
    }
}

fn packet(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn enc(t: &Term) -> Vec<u8> {
    let mut v = Vec::new();
    term::encode_into(t, &mut v);
    v
}

#[test]
fn memory_per_connection_idle_and_hostile_and_after_close() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        // --- Idle connections.
        let node = builder(8 << 20, 16 << 20).start().await.unwrap();
        let mut events = node.subscribe();
        let (heap0, rss0) = (live_kib(), rss_kib());
        let mut idle = Vec::new();
        for _ in 0..200 {
            idle.push(handshaken(&node).await);
        }
        wait_up(&mut events, 200).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (heap1, rss1) = (live_kib(), rss_kib());
        // Both ends live in this process; the peer's end is a bare socket.
        let idle_heap = (heap1 - heap0) / 200;
        eprintln!(
            "idle connection: {idle_heap} KiB of heap, {} KiB of RSS each (200 connections)",
            (rss1 - rss0) / 200
        );
        assert!(idle_heap < 512, "{idle_heap} KiB per idle connection");
        drop(idle);
        node.shutdown();
        tokio::time::sleep(Duration::from_millis(300)).await;

        // --- One hostile connection filling everything, with max_message 8 MiB and
        // max_queued 16 MiB: the ceiling is 2 × 8 + 16 = 32 MiB plus the fixed part.
        let (max_message, max_queued) = (8usize << 20, 16usize << 20);
        let node = builder(max_message, max_queued).start().await.unwrap();
        let mut events = node.subscribe();
        let heap_before = live_kib();
        let (s, name) = handshaken(&node).await;
        wait_up(&mut events, 1).await;
        let (_rd, mut wr) = tokio::io::split(s);
        let to = Term::Pid(Pid { node: node.name().clone(), id: 1, serial: 0, creation: node.creation() });
        // 1. Fragments held for reassembly: 7.5 MiB in one sequence that never ends.
        let mut first = vec![131, 69];
        first.extend_from_slice(&1u64.to_be_bytes());
        first.extend_from_slice(&1000u64.to_be_bytes());
        first.push(0);
        first.extend(enc(&Term::tuple([Term::Int(2), Term::atom(""), to.clone()])));
        first.extend_from_slice(&[131, 109]);
        wr.write_all(&packet(&first)).await.unwrap();
        let chunk = vec![0u8; 512 * 1024];
        for frag in (985..1000u64).rev() {
            let mut b = vec![131, 70];
            b.extend_from_slice(&1u64.to_be_bytes());
            b.extend_from_slice(&frag.to_be_bytes());
            b.extend_from_slice(&chunk);
            wr.write_all(&packet(&b)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        eprintln!("after fragments: {} KiB", live_kib() - heap_before);
        // 2. Replies queued: is_auth requests with 256 KiB tags, never read, up to the limit.
        let from = Term::Pid(Pid { node: Atom::new(&name), id: 1, serial: 0, creation: 7 });
        let req = Term::tuple([
            Term::atom("$gen_call"),
            Term::tuple([from.clone(), Term::binary(vec![1u8; 256 * 1024])]),
            Term::tuple([Term::atom("is_auth"), Term::atom("x")]),
        ]);
        let mut b = vec![131, 68, 0];
        b.extend(enc(&Term::tuple([Term::Int(6), from, Term::atom(""), Term::atom("net_kernel")])));
        b.extend(enc(&req));
        let is_auth = packet(&b);
        // Enough to fill the queue (the socket buffers take some first) but not to pass it.
        let mut peak = 0;
        for _ in 0..56 {
            wr.write_all(&is_auth).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            peak = peak.max(live_kib() - heap_before);
        }
        eprintln!("after queue: {} KiB (peak {peak})", live_kib() - heap_before);
        // 3. A packet in progress: announced at the limit, all but one byte sent.
        let mut big = (max_message as u32).to_be_bytes().to_vec();
        big.extend_from_slice(&[131, 68, 0]);
        wr.write_all(&big).await.unwrap();
        let filler = vec![0u8; 1 << 20];
        let mut left = max_message - 4;
        while left > 0 {
            let n = left.min(filler.len());
            wr.write_all(&filler[..n]).await.unwrap();
            left -= n;
            peak = peak.max(live_kib() - heap_before);
        }
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            peak = peak.max(live_kib() - heap_before);
        }
        let connected = node.nodes().iter().any(|n| n.as_str() == name);
        let ceiling = ((2 * max_message + max_queued) / 1024) as isize;
        eprintln!(
            "hostile connection (max_message 8 MiB, max_queued 16 MiB): peak {peak} KiB of heap \
             (formula 2 x max_message + max_queued = {ceiling} KiB), still connected: {connected}"
        );
        assert!(peak > 16 * 1024, "the test did not fill the buffers ({peak} KiB)");
        assert!(peak < ceiling + 2048, "{peak} KiB > {ceiling} KiB + 2 MiB");
        drop(wr);
        drop(_rd);
        node.shutdown();
        tokio::time::sleep(Duration::from_millis(300)).await;

        // --- After the close: the heap returns; RSS is the allocator's business.
        let node = builder(512 << 20, 256 << 20).start().await.unwrap();
        let mut events = node.subscribe();
        let (heap_base, rss_base) = (live_kib(), rss_kib());
        let mut peers = Vec::new();
        for _ in 0..4 {
            peers.push(handshaken(&node).await);
        }
        wait_up(&mut events, 4).await;
        // Each peer never reads and asks for 1 MiB replies until its queue passes 256 MiB.
        let mut writers = Vec::new();
        for (s, name) in peers {
            let from = Term::Pid(Pid { node: Atom::new(&name), id: 1, serial: 0, creation: 7 });
            let req = Term::tuple([
                Term::atom("$gen_call"),
                Term::tuple([from.clone(), Term::binary(vec![1u8; 1 << 20])]),
                Term::tuple([Term::atom("is_auth"), Term::atom("x")]),
            ]);
            let mut b = vec![131, 68, 0];
            b.extend(enc(&Term::tuple([Term::Int(6), from, Term::atom(""), Term::atom("net_kernel")])));
            b.extend(enc(&req));
            let p = packet(&b);
            writers.push(tokio::spawn(async move {
                let (rd, mut wr) = tokio::io::split(s);
                for _ in 0..400 {
                    if wr.write_all(&p).await.is_err() {
                        break;
                    }
                }
                // Never read, and never close either (a close with our answers unread would
                // reset the connection before the queue limit is what ends it).
                std::future::pending::<()>().await;
                drop((rd, wr));
            }));
        }
        let mut down = 0;
        let mut peak_rss = 0;
        while down < 4 {
            match tokio::time::timeout(Duration::from_millis(50), events.recv()).await {
                Ok(Ok(NodeEvent::Down { reason, .. })) => {
                    assert!(reason.contains("does not read"), "{reason}");
                    down += 1;
                }
                _ => peak_rss = peak_rss.max(rss_kib()),
            }
        }
        for w in writers {
            w.abort();
        }
        node.shutdown();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (heap_after, rss_after) = (live_kib(), rss_kib());
        unsafe { malloc_trim(0) };
        let rss_trimmed = rss_kib();
        eprintln!(
            "4 peers that never read, 256 MiB queue limit: RSS {rss_base} KiB -> peak {peak_rss} KiB -> \
             {rss_after} KiB after the close -> {rss_trimmed} KiB after malloc_trim; live heap \
             {heap_base} KiB -> {heap_after} KiB"
        );
        assert!(heap_after - heap_base < 4096, "heap kept {} KiB after the close", heap_after - heap_base);
        assert!(
            rss_trimmed < rss_after || rss_after - rss_base < 64 * 1024,
            "RSS {rss_after} -> {rss_trimmed}"
        );
    });
}
