//! The C suite of `make test` (run by `scripts/c.sh test`, which installs the library into
//! `$BEAMLINK_C_STAGE` first): the header compiles as C11 and C++, the examples and test
//! programs compile with `-std=c11 -Wall -Wextra -Werror -pedantic`, and each runs against real
//! OTP 25 and OTP 28 nodes twice — linked with `libbeamlink.so` through pkg-config under
//! valgrind memcheck (no errors, no definitely lost bytes), and linked with `libbeamlink.a`
//! built with `-fsanitize=address,undefined`. The sanitized build runs against both nodes;
//! valgrind, which is slow, runs each program once, against OTP 25 and OTP 28 in turn.
//!
//! `BEAMLINK_C_ONLY=test_calls,cnode` runs only those programs (while working on them).
//!
//! A test program takes `TARGET COOKIE`, prints TAP lines and exits non-zero on a failed
//! check. The C-node example is driven from the Erlang side (the erl_interface user's guide
//! scenario); the seed example runs against an Elixir node with the demo's modules. The TLS
//! program runs against an OTP 25 node with TLS distribution (`-proto_dist inet_tls`,
//! requiring a client certificate), with certificates generated for the run; OTP 25 only, as
//! the OTP 28 runtime used here has no `ssl` application (the engine's own tests cover OTP 28's
//! distribution inside OTP 25's TLS).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use beamlink_test_support::pki::{NodeCert, Pki};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, compile_erl, repo_root, unique_name};

/// How a program is run.
#[derive(Clone, Copy, PartialEq)]
enum Run {
    /// `prog TARGET COOKIE` against each OTP node.
    Target,
    /// The C-node example, driven by each OTP node.
    CNode,
    /// The seed session against an Elixir node.
    Seed,
    /// `prog TLS_TARGET PLAIN_TARGET COOKIE CERTFILE KEYFILE CACERTFILE OTHER_CACERTFILE
    /// OPTFILE` against the OTP 25 TLS node.
    Tls,
}

struct Program {
    name: &'static str,
    source: &'static str,
    /// Links erl_interface (`-lei`).
    ei: bool,
    run: Run,
}

const PROGRAMS: &[Program] = &[
    Program { name: "hello", source: "examples/hello.c", ei: false, run: Run::Target },
    Program { name: "ei_interop", source: "examples/ei_interop.c", ei: true, run: Run::Target },
    Program { name: "cnode", source: "examples/cnode.c", ei: true, run: Run::CNode },
    Program { name: "seed", source: "examples/seed.c", ei: false, run: Run::Seed },
    Program { name: "test_node", source: "tests/c/test_node.c", ei: false, run: Run::Target },
    Program { name: "test_calls", source: "tests/c/test_calls.c", ei: false, run: Run::Target },
    Program { name: "test_terms", source: "tests/c/test_terms.c", ei: true, run: Run::Target },
    Program { name: "test_process", source: "tests/c/test_process.c", ei: true, run: Run::Target },
    Program { name: "test_spawn", source: "tests/c/test_spawn.c", ei: false, run: Run::Target },
    Program { name: "test_threads", source: "tests/c/test_threads.c", ei: false, run: Run::Target },
    Program { name: "test_tls", source: "tests/c/test_tls.c", ei: false, run: Run::Tls },
];

const C_FLAGS: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-O1"];
const SANITIZE: &[&str] =
    &["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"];
/// A run that takes longer is killed and fails (valgrind is slow, but not this slow).
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// The two builds of each program.
#[derive(Clone, Copy, PartialEq)]
enum Flavour {
    /// Linked with libbeamlink.so (pkg-config), run under valgrind memcheck.
    Valgrind,
    /// Linked with libbeamlink.a, built with ASan and UBSan.
    Sanitized,
}

impl Flavour {
    fn label(self) -> &'static str {
        match self {
            Flavour::Valgrind => "valgrind",
            Flavour::Sanitized => "asan+ubsan",
        }
    }
}

struct Suite {
    root: PathBuf,
    dir: PathBuf,
    bin: PathBuf,
    cc: String,
    pkg_config_path: PathBuf,
    ei: Option<PathBuf>,
    failures: std::sync::Mutex<Vec<String>>,
}

fn main() {
    let Some(stage) = std::env::var_os("BEAMLINK_C_STAGE").map(PathBuf::from) else {
        eprintln!("c_programs: BEAMLINK_C_STAGE is not set; run `scripts/c.sh test`");
        std::process::exit(2);
    };
    let root = repo_root();
    let bin = stage.parent().expect("the stage has a parent").join("bin");
    std::fs::create_dir_all(&bin).expect("creating the build folder");
    let suite = Suite {
        dir: root.join("bindings/c"),
        root,
        bin,
        cc: std::env::var("CC").unwrap_or_else(|_| "cc".into()),
        pkg_config_path: stage.join("lib/pkgconfig"),
        ei: ei_dir(),
        failures: Default::default(),
    };
    let started = Instant::now();
    suite.header_in_cxx();
    suite.readme_example();
    suite.header_examples();
    let only = std::env::var("BEAMLINK_C_ONLY").unwrap_or_default();
    let chosen = |p: &&Program| only.is_empty() || only.split(',').any(|n| n == p.name);
    let chosen: Vec<&Program> = PROGRAMS.iter().filter(chosen).collect();
    let ok: Vec<bool> = parallel(&chosen, |p| suite.build(p));
    let built: Vec<&Program> = chosen.iter().zip(ok).filter(|(_, ok)| *ok).map(|(p, _)| *p).collect();

    let ebin = compile_erl(&suite.dir.join("tests/c/beamlink_c_test.erl"));
    let nodes: Vec<TestNode> = Otp::ALL
        .iter()
        .map(|&otp| {
            TestNode::builder(otp).prefix("c_target").code_path(&ebin).start().expect("starting a BEAM node")
        })
        .collect();
    let elixir = built.iter().any(|p| p.run == Run::Seed).then(seed_node);
    let tls = built.iter().any(|p| p.run == Run::Tls).then(TlsFixture::start);
    let plain25 = nodes.iter().find(|n| n.otp == Otp::V25).expect("an OTP 25 node");

    let mut jobs: Vec<(&Program, Flavour, &TestNode)> = Vec::new();
    for (i, p) in built.iter().enumerate() {
        if p.run == Run::Seed {
            let fuga = elixir.as_ref().expect("started above");
            jobs.extend([Flavour::Sanitized, Flavour::Valgrind].map(|f| (*p, f, fuga)));
            continue;
        }
        if p.run == Run::Tls {
            let target = &tls.as_ref().expect("started above").node;
            jobs.extend([Flavour::Sanitized, Flavour::Valgrind].map(|f| (*p, f, target)));
            continue;
        }
        // Sanitized against every node; under valgrind against one, taking turns.
        jobs.extend(nodes.iter().map(|n| (*p, Flavour::Sanitized, n)));
        jobs.push((*p, Flavour::Valgrind, &nodes[i % nodes.len()]));
    }
    parallel(&jobs, |&(p, flavour, n)| match p.run {
        Run::Target => suite.run_target(p, flavour, n),
        Run::CNode => suite.run_cnode(p, flavour, n),
        Run::Seed => suite.run_seed(p, flavour, n),
        Run::Tls => suite.run_tls(p, flavour, tls.as_ref().expect("started above"), plain25),
    });
    drop(nodes);
    drop(elixir);
    drop(tls);
    println!("C suite: {} s", started.elapsed().as_secs());
    let failures = suite.failures.into_inner().unwrap();
    if !failures.is_empty() {
        eprintln!("C suite FAILED: {}", failures.join(", "));
        std::process::exit(1);
    }
    println!("C suite passed");
}

/// Runs `f` on every item, `$BEAMLINK_C_JOBS` (default 2) at a time; the results in order.
/// The programs are independent (each its own node name), so builds and runs overlap.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::env::var("BEAMLINK_C_JOBS").ok().and_then(|n| n.parse().ok()).unwrap_or(2usize).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> = items.iter().map(|_| Default::default()).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    *results[i].lock().unwrap() = Some(f(item));
                }
            });
        }
    });
    results.into_iter().map(|r| r.into_inner().unwrap().expect("every item ran")).collect()
}

/// `$EI_DIR`, else the newest `/usr/lib/erlang/lib/erl_interface-*` (Debian's erlang-dev), as
/// bench/build.rs finds it.
fn ei_dir() -> Option<PathBuf> {
    let usable = |d: &Path| d.join("include/ei.h").exists() && d.join("lib/libei.a").exists();
    if let Some(d) = std::env::var_os("EI_DIR").map(PathBuf::from) {
        return usable(&d).then_some(d);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/erlang/lib")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("erl_interface-")))
        .filter(|p| usable(p))
        .collect();
    found.sort();
    found.pop()
}

/// An Elixir node with the seed session's modules (as `make demo` defines them).
fn seed_node() -> TestNode {
    let node =
        TestNode::builder(Otp::V25).prefix("c_fuga").elixir().start().expect("starting an Elixir node");
    let code = std::fs::read_to_string(repo_root().join("bindings/c/tests/c/seed_modules.ex"))
        .expect("reading seed_modules.ex");
    let quoted = code.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    node.eval_ok(&format!("'Elixir.Code':eval_string(<<\"{quoted}\"/utf8>>), ok."));
    node
}

/// TLS distribution: a CA and certificates generated for this run (removed with it), an OTP 25
/// node running `-proto_dist inet_tls` with an optfile that requires a client certificate
/// (`verify_peer`, `fail_if_no_peer_cert`), a second CA that signed nothing the node trusts,
/// and an optfile for the C program's own certificate.
struct TlsFixture {
    // Stopped (by its PID) before the certificates it reads are removed: fields drop in order.
    node: TestNode,
    ours: NodeCert,
    optfile: PathBuf,
    pki: Pki,
    other: Pki,
}

impl TlsFixture {
    fn start() -> TlsFixture {
        let hosts = ["localhost", "127.0.0.1", "::1"];
        let pki = Pki::generate("c_tls");
        let other = Pki::generate("c_tls_other");
        let theirs = pki.node_cert("otp25", &hosts);
        let ours = pki.node_cert("beamlink_c", &hosts);
        let node = TestNode::builder(Otp::V25)
            .prefix("c_tls")
            .tls(&pki.optfile(&theirs, "", ""))
            .start()
            .expect("starting an OTP 25 node with TLS distribution");
        let optfile = pki.optfile(&ours, "", "");
        TlsFixture { node, ours, optfile, pki, other }
    }
}

impl Suite {
    fn fail(&self, what: String, output: &str) {
        println!(
            "FAIL {what}
{}",
            indent(output)
        );
        self.failures.lock().unwrap().push(what);
    }

    fn pkg_config(&self, args: &[&str]) -> Vec<String> {
        let out = Command::new("pkg-config")
            .args(args)
            .arg("beamlink")
            .env("PKG_CONFIG_PATH", &self.pkg_config_path)
            .output()
            .expect("running pkg-config");
        assert!(out.status.success(), "pkg-config {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().split_whitespace().map(String::from).collect()
    }

    fn ei_flags(&self) -> Vec<String> {
        let ei = self.ei.as_ref().expect("erl_interface (erlang-dev) is needed for the ei programs");
        vec![
            format!("-I{}", ei.join("include").display()),
            format!("-L{}", ei.join("lib").display()),
            "-lei".into(),
        ]
    }

    fn compile(&self, what: String, args: Vec<String>) -> bool {
        let out = Command::new(&self.cc).args(&args).output().expect("running the C compiler");
        if out.status.success() {
            return true;
        }
        let text = format!("{} {}\n{}", self.cc, args.join(" "), String::from_utf8_lossy(&out.stderr));
        self.fail(what, &text);
        false
    }

    /// The header compiles as C++ (with `extern "C"`), and a C++ program links and runs.
    fn header_in_cxx(&self) {
        let exe = self.bin.join("header_cxx");
        let mut args: Vec<String> =
            ["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o"].map(String::from).into();
        args.push(exe.display().to_string());
        args.push(self.dir.join("tests/c/header_cxx.cpp").display().to_string());
        args.extend(self.pkg_config(&["--cflags", "--libs"]));
        args.push(format!("-Wl,-rpath,{}", self.pkg_config(&["--variable=libdir"])[0]));
        let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
        let out = Command::new(&cxx).args(&args).output().expect("running the C++ compiler");
        if !out.status.success() {
            let text = format!("{cxx} {}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
            return self.fail("header as C++".into(), &text);
        }
        let run = Command::new(&exe).output().expect("running header_cxx");
        if run.status.success() {
            println!(
                "ok   header compiles and links as C++ ({})",
                String::from_utf8_lossy(&run.stdout).trim()
            );
        } else {
            self.fail("header_cxx run".into(), &String::from_utf8_lossy(&run.stderr));
        }
    }

    /// The README's C example compiles as it is shown (in a `main`, against the installed
    /// library), so it cannot drift from the header.
    fn readme_example(&self) {
        let readme = std::fs::read_to_string(self.root.join("README.md")).expect("reading README.md");
        let Some(block) = readme
            .split_once("### From C: libbeamlink")
            .and_then(|(_, rest)| rest.split_once("```c\n"))
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(code, _)| code)
        else {
            return self
                .fail("README example".into(), "no ```c block in the section \"From C: libbeamlink\"");
        };
        let (includes, body): (Vec<&str>, Vec<&str>) = block.lines().partition(|l| l.starts_with("#include"));
        let source = format!(
            "#include <stdio.h>\n{}\nint main(void) {{\n{}\n    return 0;\n}}\n",
            includes.join("\n"),
            body.join("\n")
        );
        let src = self.bin.join("readme_example.c");
        std::fs::write(&src, source).expect("writing readme_example.c");
        let mut args: Vec<String> = C_FLAGS.iter().map(|s| s.to_string()).collect();
        args.extend([
            src.display().to_string(),
            "-o".into(),
            self.bin.join("readme_example").display().to_string(),
        ]);
        args.extend(self.pkg_config(&["--cflags", "--libs"]));
        if self.compile("README example".into(), args) {
            println!("ok   the README's C example compiles");
        }
    }

    /// Every ```c example in the header's comments compiles (in a `main`, against the
    /// installed library), so they cannot drift from the declarations they show.
    fn header_examples(&self) {
        let header = std::fs::read_to_string(self.root.join("include/beamlink.h"))
            .expect("reading include/beamlink.h");
        // Comment lines without their ` * ` (or `     * ` inside a struct).
        let lines: Vec<&str> = header
            .lines()
            .map(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix('*').unwrap_or(l);
                l.strip_prefix(' ').unwrap_or(l)
            })
            .collect();
        let mut blocks: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        for l in lines {
            match (&mut current, l.trim()) {
                (None, "```c") => current = Some(String::new()),
                (Some(_), "```") => blocks.push(current.take().expect("in a block")),
                (Some(b), _) => {
                    b.push_str("    ");
                    b.push_str(l);
                    b.push('\n');
                }
                (None, _) => {}
            }
        }
        if blocks.is_empty() {
            return self.fail("header examples".into(), "no ```c block in include/beamlink.h");
        }
        for (i, block) in blocks.iter().enumerate() {
            let source = format!(
                "#include <stdio.h>\n#include <beamlink.h>\nint main(void) {{\n{block}    return 0;\n}}\n"
            );
            let src = self.bin.join(format!("header_example_{i}.c"));
            std::fs::write(&src, source).expect("writing a header example");
            let mut args: Vec<String> = C_FLAGS.iter().map(|s| s.to_string()).collect();
            args.extend([
                src.display().to_string(),
                "-o".into(),
                self.bin.join(format!("header_example_{i}")).display().to_string(),
            ]);
            args.extend(self.pkg_config(&["--cflags", "--libs"]));
            if !self.compile(format!("header example {i}"), args) {
                return;
            }
        }
        println!("ok   the header's {} C example(s) compile", blocks.len());
    }

    fn exe(&self, p: &Program, flavour: Flavour) -> PathBuf {
        match flavour {
            Flavour::Valgrind => self.bin.join(p.name),
            Flavour::Sanitized => self.bin.join(format!("{}.asan", p.name)),
        }
    }

    /// Both builds of a program; false (and a failure) if either does not compile.
    fn build(&self, p: &Program) -> bool {
        let src = self.dir.join(p.source).display().to_string();
        let include = format!("-I{}", self.dir.join("tests/c").display());
        let ei = if p.ei { self.ei_flags() } else { Vec::new() };
        let libdir = self.pkg_config(&["--variable=libdir"])[0].clone();

        let mut shared: Vec<String> = C_FLAGS.iter().map(|s| s.to_string()).collect();
        shared.extend([
            include.clone(),
            src.clone(),
            "-o".into(),
            self.exe(p, Flavour::Valgrind).display().to_string(),
        ]);
        shared.extend(self.pkg_config(&["--cflags", "--libs"]));
        shared.push(format!("-Wl,-rpath,{libdir}"));
        shared.extend(ei.iter().cloned());
        shared.push("-pthread".into());

        let mut sanitized: Vec<String> = C_FLAGS.iter().chain(SANITIZE).map(|s| s.to_string()).collect();
        sanitized.extend([include, src, "-o".into(), self.exe(p, Flavour::Sanitized).display().to_string()]);
        sanitized.extend(self.pkg_config(&["--cflags"]));
        sanitized.extend(ei);
        // The static library by path, then what it needs (`pkg-config --static`).
        sanitized.push(format!("{libdir}/libbeamlink.a"));
        sanitized.extend(
            self.pkg_config(&["--static", "--libs-only-l"]).into_iter().filter(|l| l != "-lbeamlink"),
        );
        sanitized.push("-pthread".into());

        let ok = self.compile(format!("{} (libbeamlink.so)", p.name), shared)
            && self.compile(format!("{} (libbeamlink.a, sanitizers)", p.name), sanitized);
        if ok {
            println!("ok   {} compiles cleanly (-std=c11 -Wall -Wextra -Werror -pedantic)", p.source);
        }
        ok
    }

    fn command(&self, p: &Program, flavour: Flavour, args: &[&str]) -> Command {
        let exe = self.exe(p, flavour);
        let mut cmd = match flavour {
            Flavour::Valgrind => {
                let mut c = Command::new("valgrind");
                c.args([
                    "--quiet",
                    "--error-exitcode=99",
                    "--leak-check=full",
                    "--errors-for-leak-kinds=definite",
                    "--show-leak-kinds=definite",
                ]);
                // ring's AES-GCM tags, which memcheck cannot follow through its assembly
                // (the file says why and how narrowly).
                c.arg(format!("--suppressions={}", self.dir.join("tests/c/valgrind.supp").display()));
                c.arg(&exe);
                c
            }
            Flavour::Sanitized => {
                let mut c = Command::new(&exe);
                c.env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=98");
                c.env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
                c
            }
        };
        cmd.args(args).current_dir(&self.root).stdin(Stdio::null());
        cmd
    }

    fn report(&self, what: String, started: Instant, status: Result<(bool, String), String>) {
        match status {
            Ok((true, _)) => println!("ok   {what} ({:.1} s)", started.elapsed().as_secs_f64()),
            Ok((false, out)) => self.fail(what, &out),
            Err(why) => self.fail(what, &why),
        }
    }

    fn run_target(&self, p: &Program, flavour: Flavour, node: &TestNode) {
        let what = format!("{} vs {} ({})", p.name, node.otp.label(), flavour.label());
        let started = Instant::now();
        let cmd = self.command(p, flavour, &[&node.name, DEFAULT_COOKIE]);
        let r = run_to_end(cmd);
        self.report(what, started, r);
    }

    /// The TLS program against the OTP 25 TLS node, with the plain OTP 25 node as the peer that
    /// does not speak TLS.
    fn run_tls(&self, p: &Program, flavour: Flavour, tls: &TlsFixture, plain: &TestNode) {
        let what =
            format!("{} vs {} with TLS distribution ({})", p.name, tls.node.otp.label(), flavour.label());
        let started = Instant::now();
        let path = |p: &Path| p.display().to_string();
        let (cert, key, ca, other_ca, optfile) = (
            path(&tls.ours.cert),
            path(&tls.ours.key),
            path(&tls.pki.ca),
            path(&tls.other.ca),
            path(&tls.optfile),
        );
        let args: [&str; 8] =
            [&tls.node.name, &plain.name, DEFAULT_COOKIE, &cert, &key, &ca, &other_ca, &optfile];
        let r = run_to_end(self.command(p, flavour, &args));
        let r = r.map(|(ok, out)| if ok { (ok, out) } else { (ok, format!("{out}\n{}", tls.node.output())) });
        self.report(what, started, r);
    }

    /// The erl_interface user's guide scenario: the C program publishes a node and serves
    /// `{call, Pid, {foo, X}}` / `{bar, Y}`; the Erlang node sends them and gets `{cnode, R}`.
    fn run_cnode(&self, p: &Program, flavour: Flavour, node: &TestNode) {
        let what = format!("{} driven by {} ({})", p.name, node.otp.label(), flavour.label());
        let started = Instant::now();
        let name = format!("{}@localhost", unique_name("cnode"));
        let cmd = self.command(p, flavour, &[&name, DEFAULT_COOKIE]);
        let r = drive(cmd, |lines| {
            wait_for_line(lines, "ready", Duration::from_secs(60))?;
            let requests = [("{foo, 3}", "{ok,4}"), ("{bar, 5}", "{ok,10}"), ("{foo, -1}", "{ok,0}")];
            for (i, (request, want)) in requests.into_iter().enumerate() {
                // The control loop keeps bindings between evaluations: a fresh variable each.
                let got = node.eval(&format!(
                    "{{any, '{name}'}} ! {{call, self(), {request}}}, \
                     receive {{cnode, Result{i}}} -> Result{i} after 30000 -> timeout end."
                ))?;
                if got != want {
                    return Err(format!("{request}: the C node answered {got}, wanted {want}"));
                }
            }
            node.eval(&format!("{{any, '{name}'}} ! stop, ok."))?;
            Ok(())
        });
        self.report(what, started, r);
    }

    fn run_seed(&self, p: &Program, flavour: Flavour, fuga: &TestNode) {
        let what = format!("{} vs Elixir on {} ({})", p.name, fuga.otp.label(), flavour.label());
        let started = Instant::now();
        let cmd = self.command(p, flavour, &[&fuga.name, DEFAULT_COOKIE]);
        let r = run_to_end(cmd).map(|(ok, out)| {
            let expected = ["pong", "\"Hello :", "元気ですかーーーッ！", "boom"];
            match expected.iter().find(|e| !out.contains(*e)) {
                Some(missing) if ok => (false, format!("the output lacks {missing:?}:\n{out}")),
                _ => (ok, out),
            }
        });
        self.report(what, started, r);
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

/// Runs to the end (or [`RUN_LIMIT`]): whether it exited 0, and everything it printed.
fn run_to_end(cmd: Command) -> Result<(bool, String), String> {
    drive(cmd, |_| Ok(()))
}

/// Starts `cmd`, hands its output lines to `during` (which may drive the other side), then
/// waits for it to end. Every line it prints is kept for the report.
fn drive(
    mut cmd: Command,
    during: impl FnOnce(&mut Lines) -> Result<(), String>,
) -> Result<(bool, String), String> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let mut lines = Lines::start(&mut child);
    let deadline = Instant::now() + RUN_LIMIT;
    let driven = during(&mut lines);
    if driven.is_err() {
        // Nothing more will come of it: stopped by its own pid.
        let _ = child.kill();
    }
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if Instant::now() >= deadline {
            // Killed by its own pid.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = lines.finish();
    match (driven, status) {
        (Err(e), _) => Err(format!("{e}\n{out}")),
        (Ok(()), None) => Err(format!("killed after {RUN_LIMIT:?}\n{out}")),
        (Ok(()), Some(s)) => Ok((s.success(), if s.success() { out } else { format!("{s}\n{out}") })),
    }
}

/// A child's stdout and stderr, line by line, as they come.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: Vec<String>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Lines {
    fn start(child: &mut Child) -> Lines {
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        let err = child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        let readers = [out, err]
            .into_iter()
            .flatten()
            .map(|s| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(s).lines().map_while(Result::ok) {
                        let _ = tx.send(line);
                    }
                })
            })
            .collect();
        Lines { rx, seen: Vec::new(), readers }
    }

    fn finish(mut self) -> String {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        self.seen.extend(self.rx.try_iter());
        self.seen.join("\n")
    }
}

fn wait_for_line(lines: &mut Lines, want: &str, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.rx.recv_timeout(left) {
            Ok(l) => {
                let found = l.trim() == want;
                lines.seen.push(l);
                if found {
                    return Ok(());
                }
            }
            Err(_) => return Err(format!("no {want:?} line within {limit:?}")),
        }
    }
}
