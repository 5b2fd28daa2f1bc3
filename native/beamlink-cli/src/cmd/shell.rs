//! `beamlink shell NODE`: an interactive shell whose expressions run on NODE (Erlang, or
//! Elixir with `--elixir`), like `erl -remsh` / `iex --remsh` without a local VM. Lines are
//! edited here (history in ~/.beamlink_history); variables stay bound between expressions;
//! what the code prints appears as it is printed, and its reads (`io:get_line`, `IO.gets`)
//! read this terminal.
//!
//! Keys: Ctrl-C during an evaluation stops it (its remote process is killed); at the prompt it
//! drops the line being typed, and a second Ctrl-C in a row leaves, as does Ctrl-D on an
//! empty line (or `q().` in Erlang).

use std::path::PathBuf;

use beamlink::rpc::{InputRequest, IoServer};
use beamlink::term::Term;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{Failure, Outcome};
use crate::ctx::Ctx;
use crate::evaluator::{EvalError, Evaluator};
use crate::explain::{self, Origin};
use crate::line_editor::{LineEditor, Read};
use crate::out::Out;
use crate::{exit, render};

/// How one evaluation ended.
enum Evaluated {
    Done(Result<Term, EvalError>),
    Interrupted,
}

pub async fn run(ctx: &Ctx, target: &str) -> Outcome {
    if ctx.g.json {
        return Err(Failure::usage("shell is interactive: it has no --json output"));
    }
    let node = ctx.connect_serving_io(target).await?;
    let (io, mut output, mut reads) = IoServer::start_interactive(&node);
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".beamlink_history"));
    let _terminal = TerminalGuard::save();
    let mut editor = LineEditor::start(history).map_err(|e| Failure {
        code: exit::CANNOT_WRITE,
        message: format!("cannot start the line editor: {e}"),
    })?;
    let mut ev = Evaluator::new(node.clone(), target, ctx.g.elixir);
    let mut out = Out::new(false);
    let language = if ctx.g.elixir { "Elixir" } else { "Erlang" };
    crate::out::warn(format_args!(
        "shell on {target} ({language}); Ctrl-C stops an evaluation; Ctrl-D or Ctrl-C twice leaves"
    ));
    let mut number = 1;
    let mut pending = String::new();
    let mut interrupted_at_prompt = false;
    loop {
        let prompt = match (ctx.g.elixir, pending.is_empty()) {
            (true, true) => format!("iex({target}){number}> "),
            (true, false) => format!("...({target}){number}> "),
            (false, true) => format!("({target}){number}> "),
            (false, false) => String::new(),
        };
        let read = prompt_for_line(ctx, &mut editor, &mut out, &mut output, &mut reads, &prompt).await?;
        match read {
            Read::Eof => break,
            Read::Interrupted if interrupted_at_prompt => break,
            Read::Interrupted => {
                interrupted_at_prompt = true;
                pending.clear();
                crate::out::warn("(Ctrl-C again or Ctrl-D to leave)");
                continue;
            }
            Read::Line(line) => {
                interrupted_at_prompt = false;
                pending.push_str(&line);
                pending.push('\n');
            }
        }
        if pending.trim().is_empty() {
            pending.clear();
            continue;
        }
        if !ctx.g.elixir {
            if !erlang_complete(&pending) {
                continue;
            }
            match pending.trim() {
                "q()." => break,
                "f()." => {
                    ev.forget();
                    pending.clear();
                    out.line("ok")?;
                    continue;
                }
                _ => {}
            }
        }
        let result =
            evaluate(ctx, &mut ev, &pending, &io, &mut editor, &mut out, &mut output, &mut reads).await?;
        while let Ok(text) = output.try_recv() {
            out.printed(&text)?;
        }
        match result {
            Evaluated::Interrupted => out.line("** interrupted: the evaluation was stopped")?,
            Evaluated::Done(Ok(v)) => {
                let text = render::term(ctx, &v);
                out.line(&text.text)?;
                if text.cut {
                    out.line(format_args!("... (cut at --max-output {} bytes)", ctx.g.max_output))?;
                }
            }
            // Elixir: an expression that is not finished yet continues on the next line.
            Evaluated::Done(Err(EvalError::Call(beamlink::CallError::Error { ref reason, .. })))
                if ctx.g.elixir && explain::exception_name(reason) == Some("TokenMissingError") =>
            {
                continue;
            }
            Evaluated::Done(Err(EvalError::Syntax { line, column, message })) => {
                out.line(format_args!("* {line}:{column}: {message}"))?;
            }
            Evaluated::Done(Err(EvalError::Call(e))) => {
                let f = explain::failure(ctx, Some(Origin { node: &node, target }), &e).await;
                let text = if f.message.starts_with("**") {
                    f.message
                } else {
                    format!("** exception {}", f.message)
                };
                out.line(text)?;
            }
        }
        out.flush()?;
        pending.clear();
        number += 1;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Reads a line at the prompt; output that arrives meanwhile (from processes still running)
/// is shown above the line being typed. SIGTERM ends the shell.
async fn prompt_for_line(
    ctx: &Ctx,
    editor: &mut LineEditor,
    out: &mut Out,
    output: &mut UnboundedReceiver<String>,
    reads: &mut UnboundedReceiver<InputRequest>,
    prompt: &str,
) -> Result<Read, Failure> {
    let seen = ctx.signals_seen();
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    // The read runs on the editor thread; this side keeps printing meanwhile.
    let request = editor.read_request(prompt, tx);
    if !request {
        return Ok(Read::Eof);
    }
    loop {
        tokio::select! {
            r = &mut rx => return Ok(r.unwrap_or(Read::Eof)),
            Some(text) = output.recv() => {
                if !editor.print_above(&text) {
                    out.printed(&text)?;
                }
            }
            // A process left running reads while nobody evaluates: nothing to give it.
            Some(req) = reads.recv() => req.answer(None),
            sig = ctx.signal_after(seen) => {
                if sig == libc::SIGTERM {
                    return Err(Failure::interrupted(sig));
                }
            }
        }
    }
}

/// Runs one evaluation: prints its output as it comes, answers its reads from the terminal,
/// and stops it on Ctrl-C (dropping the call kills its remote process).
#[allow(clippy::too_many_arguments)]
async fn evaluate(
    ctx: &Ctx,
    ev: &mut Evaluator,
    code: &str,
    io: &IoServer,
    editor: &mut LineEditor,
    out: &mut Out,
    output: &mut UnboundedReceiver<String>,
    reads: &mut UnboundedReceiver<InputRequest>,
) -> Result<Evaluated, Failure> {
    let seen = ctx.signals_seen();
    // An evaluation runs as long as it runs: the shell's user stops it.
    let call = ev.eval(code, io, std::time::Duration::from_secs(365 * 24 * 3600));
    tokio::pin!(call);
    loop {
        tokio::select! {
            biased;
            Some(text) = output.recv() => out.printed(&text)?,
            Some(req) = reads.recv() => {
                let prompt = req.prompt().to_string();
                match editor.read(&prompt).await {
                    Read::Line(l) => req.answer(Some(l)),
                    Read::Eof => req.answer(None),
                    Read::Interrupted => return Ok(Evaluated::Interrupted),
                }
            }
            r = &mut call => return Ok(Evaluated::Done(r)),
            sig = ctx.signal_after(seen) => {
                if sig == libc::SIGTERM {
                    return Err(Failure::interrupted(sig));
                }
                return Ok(Evaluated::Interrupted);
            }
        }
    }
}

/// Whether Erlang input is complete: it ends with a `.` outside strings, quoted atoms,
/// character literals and comments (what the Erlang shell waits for).
pub fn erlang_complete(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    let mut last = None;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                let mut closed = false;
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return false;
                }
                last = Some(c);
            }
            '$' => {
                // A character literal: `$.` is not an end.
                if chars.next() == Some('\\') {
                    chars.next();
                }
                last = Some('$');
            }
            '%' => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => {}
            c => last = Some(c),
        }
    }
    last == Some('.')
}

/// The terminal's settings at start, put back at the end (also when we leave on a signal in
/// the middle of reading a line, with the terminal in raw mode).
struct TerminalGuard(Option<libc::termios>);

impl TerminalGuard {
    fn save() -> TerminalGuard {
        // SAFETY: tcgetattr writes a termios for a terminal fd; stdin may not be one.
        unsafe {
            if libc::isatty(0) != 1 {
                return TerminalGuard(None);
            }
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return TerminalGuard(None);
            }
            TerminalGuard(Some(t))
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            // SAFETY: restoring settings read from the same fd.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::erlang_complete;

    #[test]
    fn complete_erlang_input_ends_with_a_dot_outside_strings_and_comments() {
        for (text, complete) in [
            ("1 + 1.", true),
            ("1 + 1", false),
            ("X = \"a.\"", false),
            ("X = \"a.\".", true),
            ("'x.y'", false),
            ("$.", false),
            ("$..", true),
            ("foo(). % done.", true),
            ("foo( % a comment.\n", false),
            ("\"unterminated.", false),
            ("lists:seq(1,\n 3).\n", true),
        ] {
            assert_eq!(erlang_complete(text), complete, "{text:?}");
        }
    }
}
