//! `beamlink`: talk to Erlang and Elixir nodes from the shell, as a hidden node of the cluster.
//!
//! Exit status is part of the interface (see [`exit`]): 0 success, 1 pang, 2–10 one code per
//! kind of call failure, 64 bad usage, 69 epmd or node unreachable, 78 bad name or cookie.

mod argv;
mod cli;
mod cmd;
mod ctx;
mod evaluator;
mod exit;
mod explain;
mod json;
mod line_editor;
mod out;
mod print;
mod render;
mod target;

use clap::Parser;

/// Whether the cookie was given as an argument (not through BEAMLINK_COOKIE).
fn cookie_on_command_line(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    args.take_while(|a| a != "--").any(|a| a == "--cookie" || a.to_string_lossy().starts_with("--cookie="))
}

/// Ends the process as SIGPIPE ends other tools (Rust ignores the signal, so writes fail
/// with EPIPE instead and we get here once the command has wound down).
fn die_of_sigpipe() {
    // SAFETY: resetting a signal disposition and raising it; nothing else runs by now.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
}

fn main() {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => exit::USAGE,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if cookie_on_command_line(std::env::args_os()) {
        out::warn(
            "warning: --cookie is visible to every user of this machine (ps, /proc/<pid>/cmdline); \
             put the cookie in ~/.erlang.cookie (mode 0400) or in the BEAMLINK_COOKIE environment variable instead",
        );
        argv::hide_cookie();
    }
    // One thread: a command is a handful of round trips, and starting worker threads costs
    // more than it saves.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let code = rt.block_on(cmd::run(args));
    // Do not wait for connection tasks to wind down: the answer is out.
    rt.shutdown_background();
    if code == exit::CLOSED_PIPE {
        die_of_sigpipe();
    }
    std::process::exit(code);
}
