//! With its descriptors exhausted, a listening node must not busy-spin on `accept` (it used to
//! burn 1.2 cores): it backs off, and accepts again once descriptors are free. Its own test
//! binary, because it lowers the process's descriptor limit.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use beamlink::Node;
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

const RLIMIT_NOFILE: i32 = 7;

unsafe extern "C" {
    fn getrlimit(resource: i32, rlim: *mut [u64; 2]) -> i32;
    fn setrlimit(resource: i32, rlim: *const [u64; 2]) -> i32;
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// User + system CPU time of this process, in clock ticks (1/100 s), from `/proc/self/stat`
/// opened beforehand (no descriptor is free while it is needed).
fn cpu_ticks(f: &mut std::fs::File) -> u64 {
    use std::io::{Read, Seek};
    let mut stat = String::new();
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    f.read_to_string(&mut stat).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn exhausted_descriptors_do_not_spin_the_accept_loop() {
    let good = TestNode::start(Otp::V25, "emfile");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let node = Node::builder(format!("{}@localhost", unique_name("blf")))
            .cookie(DEFAULT_COOKIE)
            .listen(0)
            .start()
            .await
            .unwrap();
        let port = node.port().unwrap();
        let mut stat = std::fs::File::open("/proc/self/stat").unwrap();
        let mut old = [0u64; 2];
        assert_eq!(unsafe { getrlimit(RLIMIT_NOFILE, &mut old) }, 0);
        let low = [(open_fds() + 16) as u64, old[1]];
        assert_eq!(unsafe { setrlimit(RLIMIT_NOFILE, &low) }, 0);
        // Another process opens 100 connections and holds them: the node accepts a few, then
        // every accept fails with EMFILE while the rest wait in the backlog.
        let script = format!(
            "import resource,socket,time\nh=resource.getrlimit(resource.RLIMIT_NOFILE)[1]\nresource.setrlimit(resource.RLIMIT_NOFILE,(h,h))\nss=[socket.create_connection(('127.0.0.1',{port})) for _ in range(100)]\nprint('up',flush=True)\ntime.sleep(4)\n"
        );
        let mut child = Command::new("python3").args(["-c", &script]).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert_eq!(line.trim(), "up");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (t0, c0) = (Instant::now(), cpu_ticks(&mut stat));
        tokio::time::sleep(Duration::from_secs(2)).await;
        let used = (cpu_ticks(&mut stat) - c0) as f64 / 100.0 / t0.elapsed().as_secs_f64();
        assert!(used < 0.25, "{:.0}% of a core while descriptors are exhausted", used * 100.0);
        let _ = child.wait();
        assert_eq!(unsafe { setrlimit(RLIMIT_NOFILE, &old) }, 0);
        // The node accepts again: a real node connects in.
        let ours = node.name().as_str().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if good.eval_ok(&format!("net_adm:ping('{ours}').")).trim() == "pong" {
                break;
            }
            assert!(Instant::now() < deadline, "the node never accepted again");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("accept loop CPU while exhausted: {:.1}% of a core", used * 100.0);
    });
}
