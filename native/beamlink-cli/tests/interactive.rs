//! `shell` and `top` on a real terminal: each runs in a tmux pseudo-terminal (installed by
//! scripts/setup.sh), driven by keystrokes, read back from the screen.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// A tmux server of our own (its own socket), running one command in a 160x50 terminal.
struct Tmux {
    socket: String,
    home: std::path::PathBuf,
}

impl Tmux {
    fn start(args: &[&str]) -> Tmux {
        let socket = unique_name("beamlink_tmux");
        let home = empty_home();
        let mut line = format!(
            "env BEAMLINK_COOKIE={DEFAULT_COOKIE} HOME={} {}",
            home.display(),
            env!("CARGO_BIN_EXE_beamlink")
        );
        for a in args {
            line.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        }
        line.push_str("; echo EXIT=$?; sleep 60");
        let t = Tmux { socket, home };
        let ok = t.tmux(&["new-session", "-d", "-s", "t", "-x", "160", "-y", "50", &line]);
        assert!(ok, "tmux is needed for these tests (scripts/setup.sh installs it)");
        t
    }

    fn tmux(&self, args: &[&str]) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Types `text` and Enter.
    fn line(&self, text: &str) {
        self.keys(&["-l", text]);
        self.keys(&["Enter"]);
    }

    fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "t"];
        a.extend(keys);
        assert!(self.tmux(&a));
    }

    /// The screen and its scrollback.
    fn screen(&self) -> String {
        let o = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-2000", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Waits until the screen shows `needle` `times` times.
    #[track_caller]
    fn wait_for_n(&self, needle: &str, times: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if s.matches(needle).count() >= times {
                return;
            }
            assert!(Instant::now() < deadline, "no {needle:?} ({times}x) on the screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[track_caller]
    fn wait_for(&self, needle: &str) {
        self.wait_for_n(needle, 1);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

#[test]
fn the_elixir_shell() {
    let ex = shared(Kind::Elixir);
    let t = Tmux::start(&["--elixir", "shell", &ex.name]);
    let prompt = |n: u32| format!("iex({}){n}> ", ex.name);
    t.wait_for(&prompt(1));
    t.line("x = 41");
    t.wait_for(&prompt(2));
    t.line("x + 1");
    t.wait_for("\n42\n");
    // An expression over two lines.
    t.line("Enum.map([1, 2], fn a ->");
    t.wait_for(&format!("...({})3> ", ex.name));
    t.line("a * 2 end)");
    t.wait_for("[2, 4]");
    // The remote read reads this terminal.
    t.line(r#"IO.gets("name? ")"#);
    t.wait_for("name? ");
    t.line("bob");
    t.wait_for("'bob\\n'");
    t.line(r#"raise "kaboom""#);
    t.wait_for("** (RuntimeError) kaboom");
    t.line("URI.parse(\"http://x\").host");
    t.wait_for("\"x\"");
    // Ctrl-C stops a running evaluation; the shell goes on.
    t.line("Process.sleep(60_000)");
    t.wait_for(&prompt(7));
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-c"]);
    t.wait_for("interrupted");
    t.wait_for(&prompt(8));
    // History: Up brings the last line back.
    t.keys(&["Up"]);
    t.wait_for_n("Process.sleep(60_000)", 2);
    t.keys(&["C-u", "C-d"]);
    t.wait_for("EXIT=0");
    let history = std::fs::read_to_string(t.home.join(".beamlink_history")).unwrap();
    assert!(history.contains("x = 41"), "{history}");
}

#[test]
fn the_erlang_shell() {
    let node = shared(Kind::Otp28);
    let t = Tmux::start(&["shell", &node.name]);
    let prompt = |n: u32| format!("({}){n}> ", node.name);
    t.wait_for(&prompt(1));
    t.line("X = 41.");
    t.wait_for(&prompt(2));
    t.line("X + 1.");
    t.wait_for("\n42\n");
    // Not finished before the dot.
    t.line("lists:seq(1,");
    t.line("3).");
    t.wait_for("[1,2,3]");
    t.line(r#"io:get_line("name? ")."#);
    t.wait_for("name? ");
    t.line("alice");
    t.wait_for("\"alice\\n\"");
    t.line("1/0.");
    t.wait_for("** exception error: badarith");
    // Output of a process started earlier appears when it is printed.
    t.line(r#"spawn(fun() -> timer:sleep(300), io:format("late~n") end)."#);
    t.wait_for("late");
    // Ctrl-C twice at the prompt leaves.
    t.wait_for(&prompt(7));
    t.keys(&["C-c"]);
    t.wait_for("Ctrl-C again");
    t.keys(&["C-c"]);
    t.wait_for("EXIT=0");
}
