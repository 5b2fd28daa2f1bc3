//! Values and documents as they go to stdout: in Erlang or Elixir syntax, or as JSON, and
//! never larger than `--max-output` (formatting stops at the limit, so a huge value costs no
//! more than the limit in memory either).

use std::fmt::{self, Write};

use beamlink::term::{ElixirDisplay, Term};

use crate::cmd::Failure;
use crate::ctx::Ctx;
use crate::{exit, json};

/// A string that refuses to grow past a limit: formatting into it stops there.
pub struct Limited {
    pub text: String,
    limit: usize,
    pub cut: bool,
}

impl Limited {
    pub fn new(ctx: &Ctx) -> Limited {
        let limit = if ctx.g.max_output == 0 { usize::MAX } else { ctx.g.max_output };
        Limited { text: String::new(), limit, cut: false }
    }
}

impl Write for Limited {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.cut = true;
        Err(fmt::Error)
    }
}

/// The failure for output cut at the limit.
pub fn too_large(ctx: &Ctx) -> Failure {
    Failure {
        code: exit::TOO_LARGE,
        message: format!(
            "the value is larger than --max-output ({} bytes) and was cut there; --max-output 0 prints it all",
            ctx.g.max_output
        ),
    }
}

/// `t` in the chosen syntax (Erlang, or Elixir with `--elixir`), cut at the limit.
pub fn term(ctx: &Ctx, t: &Term) -> Limited {
    let mut l = Limited::new(ctx);
    let _ = if ctx.g.elixir { write!(l, "{}", ElixirDisplay(t)) } else { write!(l, "{t}") };
    l
}

/// A JSON document built by `build`, cut at the limit.
pub fn document(ctx: &Ctx, build: impl FnOnce(&mut Doc<'_>) -> fmt::Result) -> Limited {
    build_into(Limited::new(ctx), ctx.g.elixir, build)
}

/// A small document of our own (an error report), never cut.
pub fn small_document(ctx: &Ctx, build: impl FnOnce(&mut Doc<'_>) -> fmt::Result) -> Limited {
    build_into(Limited { text: String::new(), limit: usize::MAX, cut: false }, ctx.g.elixir, build)
}

fn build_into(mut l: Limited, elixir: bool, build: impl FnOnce(&mut Doc<'_>) -> fmt::Result) -> Limited {
    let _ = build(&mut Doc { w: &mut l, elixir });
    l
}

/// Writes JSON documents: objects with named fields whose values are terms, text or
/// numbers.
pub struct Doc<'a> {
    pub w: &'a mut Limited,
    elixir: bool,
}

impl Doc<'_> {
    pub fn raw(&mut self, s: &str) -> fmt::Result {
        self.w.write_str(s)
    }

    pub fn term(&mut self, t: &Term) -> fmt::Result {
        json::write(self.w, t, self.elixir)
    }

    pub fn string(&mut self, s: &str) -> fmt::Result {
        json::string(self.w, s)
    }

    /// `"key": ` (after a comma unless `first`).
    pub fn key(&mut self, key: &str, first: bool) -> fmt::Result {
        if !first {
            self.w.write_str(", ")?;
        }
        json::string(self.w, key)?;
        self.w.write_str(": ")
    }

    /// `{"kind": …, "code": …, "message": …, "reason": …}` for a failure.
    pub fn failure(&mut self, kind: &str, f: &Failure, reason: Option<&Term>) -> fmt::Result {
        self.raw("{")?;
        self.key("kind", true)?;
        self.string(kind)?;
        self.key("code", false)?;
        self.raw(&f.code.to_string())?;
        self.key("message", false)?;
        self.string(&f.message)?;
        if let Some(r) = reason {
            self.key("reason", false)?;
            self.term(r)?;
        }
        self.raw("}")
    }
}
