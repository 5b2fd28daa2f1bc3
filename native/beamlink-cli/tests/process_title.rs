//! A cookie given as `--cookie VALUE` or `--cookie=VALUE` is warned about and then wiped from
//! the process title (`/proc/<pid>/cmdline`, what `ps` shows) while the command runs.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn the_cookie_leaves_the_process_title() {
    let node = shared(Kind::Otp25);
    for form in
        [vec!["--cookie".to_string(), DEFAULT_COOKIE.to_string()], vec![format!("--cookie={DEFAULT_COOKIE}")]]
    {
        let mut args = form.clone();
        args.extend(["rpc".into(), node.name.clone(), "timer".into(), "sleep".into(), "[1500]".into()]);
        let mut run = beamlink(&args).env_remove("BEAMLINK_COOKIE");
        let child = run.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let proc_file = format!("/proc/{}/cmdline", child.id());
        // The title once the command is under way (the warning is printed after the wipe).
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = String::new();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(300));
            seen = String::from_utf8_lossy(&std::fs::read(&proc_file).unwrap_or_default()).replace('\0', " ");
            if seen.contains("xxxx") {
                break;
            }
        }
        let out = child.wait_with_output().unwrap();
        expect(&out, 0);
        assert!(!seen.contains(DEFAULT_COOKIE), "{form:?}: {seen}");
        assert!(seen.contains(&"x".repeat(DEFAULT_COOKIE.len())), "{form:?}: {seen}");
        assert!(stderr(&out).contains("BEAMLINK_COOKIE"), "{}", stderr(&out));
    }
}
