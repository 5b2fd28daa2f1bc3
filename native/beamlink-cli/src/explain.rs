//! A call's failure as the person who wrote the remote code reads it: Elixir exceptions (and,
//! with `--elixir`, every error) as IEx prints them (`** (RuntimeError) kaboom`, formatted by
//! the node's own `Exception` module), `undef` with the function and a hint when an Elixir
//! module was named without `Elixir.`, and the remote stacktrace with `--stacktrace`.

use std::time::Duration;

use beamlink::term::Term;
use beamlink::{CallError, Node};

use crate::cmd::Failure;
use crate::ctx::Ctx;
use crate::print;

/// The longest we wait for the node to format an exception; past it, the local form is used.
const FORMAT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the failure came from, so the node can format its own exceptions.
pub struct Origin<'a> {
    pub node: &'a Node,
    pub target: &'a str,
}

/// A failure with what `--json` reports of it: the kind (`"error"`, `"exit"`, `"timeout"`…)
/// and the remote reason when there is one.
pub struct Detailed {
    pub failure: Failure,
    pub kind: &'static str,
    pub reason: Option<Term>,
}

impl Detailed {
    pub fn of(failure: Failure, e: &CallError) -> Detailed {
        let reason = match e {
            CallError::Error { reason, .. } | CallError::Exit { reason, .. } => Some(reason.clone()),
            CallError::Throw { value } => Some(value.clone()),
            CallError::SpawnFailed { reason, .. } | CallError::BadRpc { reason } => Some(reason.clone()),
            _ => None,
        };
        Detailed { failure, kind: e.kind(), reason }
    }
}

impl From<Failure> for Detailed {
    fn from(failure: Failure) -> Detailed {
        let kind = match failure.code {
            crate::exit::USAGE => "syntax",
            crate::exit::TIMEOUT => "timeout",
            _ => "failure",
        };
        Detailed { failure, kind, reason: None }
    }
}

/// [`failure`] with its kind and reason, for `--json`.
pub async fn detailed(ctx: &Ctx, origin: Option<Origin<'_>>, e: CallError) -> Detailed {
    let f = failure(ctx, origin, &e).await;
    Detailed::of(f, &e)
}

/// The message (and exit code) for `e`; with `--stacktrace`, the remote stacktrace follows on
/// the next lines.
pub async fn failure(ctx: &Ctx, origin: Option<Origin<'_>>, e: &CallError) -> Failure {
    let code = e.exit_code();
    let (class, reason, stack) = match e {
        CallError::Error { reason, stacktrace } => ("error", reason, Some(stacktrace)),
        CallError::Exit { reason, .. } => ("exit", reason, None),
        CallError::Throw { value } => ("throw", value, None),
        CallError::Undef { stacktrace, .. } if ctx.g.elixir => {
            ("error", &Term::atom("undef"), Some(stacktrace))
        }
        _ => return plain(ctx, e),
    };
    let elixir_exception = is_exception(reason);
    let mut message = None;
    if (ctx.g.elixir || elixir_exception)
        && let Some(o) = &origin
    {
        let stack = stack.cloned().unwrap_or_else(Term::nil);
        message = banner(ctx, o, class, reason, &stack).await;
    }
    let message = match message {
        Some(m) => m,
        None if elixir_exception => local_banner(reason),
        None => plain(ctx, e).message,
    };
    let mut f = Failure { code, message };
    if ctx.g.stacktrace
        && let Some(stack) = stack
    {
        let text = match (&origin, ctx.g.elixir || elixir_exception) {
            (Some(o), true) => remote_text(ctx, o, "format_stacktrace", Term::list([stack.clone()])).await,
            _ => None,
        };
        let text = text.unwrap_or_else(|| erlang_stacktrace(stack));
        f.message = format!("{}\n{}", f.message, text.trim_end());
    }
    f
}

/// The one-line message without asking the node.
pub fn plain(ctx: &Ctx, e: &CallError) -> Failure {
    let t = |t: &Term| print::term(t, ctx.g.elixir);
    let message = match e {
        CallError::Error { reason, .. } if is_exception(reason) => local_banner(reason),
        CallError::Error { reason, .. } => format!("error: {}", t(reason)),
        CallError::Exit { reason, .. } => format!("exit: {}", t(reason)),
        CallError::Throw { value } => format!("throw: {}", t(value)),
        CallError::Undef { module, function, arity, .. } => {
            let mut m = format!("undef: {module}:{function}/{arity}");
            if module.starts_with(|c: char| c.is_ascii_uppercase()) && !ctx.g.elixir {
                m.push_str(&format!(" (an Elixir module is Elixir.{module}, or use --elixir)"));
            }
            m
        }
        CallError::NoConnection { node, detail, .. } => format!("noconnection: {node}: {detail}"),
        CallError::Timeout { node, .. } => return Failure::timeout(ctx, &format!("no answer from {node}")),
        CallError::SpawnFailed { node, reason } => format!("spawn refused by {node}: {}", t(reason)),
        CallError::BadRpc { reason } => format!("badrpc: {}", t(reason)),
        CallError::Decode(d) => format!("decode: {d}"),
    };
    Failure { code: e.exit_code(), message }
}

/// An Elixir exception struct: a map with `__exception__: true`.
pub fn is_exception(t: &Term) -> bool {
    matches!(t, Term::Map(pairs) if pairs.iter().any(|(k, v)| k.is_atom("__exception__") && v.is_atom("true")))
}

/// The exception's module without `Elixir.`, when `t` is an exception.
pub fn exception_name(t: &Term) -> Option<&str> {
    let Term::Map(pairs) = t else { return None };
    let name = pairs.iter().find(|(k, _)| k.is_atom("__struct__"))?.1.as_atom()?;
    Some(name.strip_prefix("Elixir.").unwrap_or(name))
}

/// `** (Module) message` from the struct alone (when the node cannot be asked).
fn local_banner(t: &Term) -> String {
    let name = exception_name(t).unwrap_or("exception");
    let message = match t {
        Term::Map(pairs) => pairs.iter().find(|(k, _)| k.is_atom("message")).map(|(_, v)| v),
        _ => None,
    };
    match message {
        Some(Term::Binary(b)) => format!("** ({name}) {}", String::from_utf8_lossy(b)),
        _ => format!("** ({name}) {}", print::term(t, true)),
    }
}

/// `Exception.format_banner(Kind, Reason, Stack)` on the node.
async fn banner(ctx: &Ctx, o: &Origin<'_>, class: &str, reason: &Term, stack: &Term) -> Option<String> {
    let args = Term::list([Term::atom(class), reason.clone(), stack.clone()]);
    remote_text(ctx, o, "format_banner", args).await
}

async fn remote_text(ctx: &Ctx, o: &Origin<'_>, function: &str, args: Term) -> Option<String> {
    let timeout = ctx.left().min(FORMAT_TIMEOUT);
    match &o.node.call(o.target, "Elixir.Exception", function, args, timeout).await {
        Ok(Term::Binary(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// One frame a line, as the Erlang shell shows them: `  module:function/arity (file, line N)`.
fn erlang_stacktrace(stack: &Term) -> String {
    let mut lines = Vec::new();
    for frame in stack.as_list().unwrap_or(&[]) {
        let Some([m, f, a, loc]) = frame.as_tuple() else { continue };
        let arity = match a {
            Term::List(args) => args.len() as i64,
            other => other.as_int().unwrap_or(0),
        };
        let mut line = format!("  {}:{}/{arity}", print::term(m, false), print::term(f, false));
        let get = |key: &str| {
            loc.as_list()?.iter().find_map(|kv| match kv.as_tuple() {
                Some([k, v]) if k.is_atom(key) => Some(v.clone()),
                _ => None,
            })
        };
        if let (Some(file), Some(l)) = (get("file"), get("line")) {
            let file: String = match &file {
                Term::List(cs) => {
                    cs.iter().filter_map(|c| c.as_int().and_then(|i| char::from_u32(i as u32))).collect()
                }
                other => print::term(other, false),
            };
            line.push_str(&format!(" ({file}, line {})", print::term(&l, false)));
        }
        lines.push(line);
    }
    lines.join("\n")
}
