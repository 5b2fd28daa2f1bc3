//! Evaluating source text on a node, as `beamlink eval` does: Erlang through the node's own
//! `erl_scan`, `erl_parse` and `erl_eval` (so the syntax is exactly the node's), Elixir through
//! `Code.eval_string/1`. What the code prints comes back with its value.

use std::time::Duration;

use tokio::time::Instant;

use super::error::CallError;
use crate::node::Node;
use crate::term::Term;

/// The language of the source text given to [`Node::eval`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Erlang,
    Elixir,
}

impl Node {
    /// Evaluates `code` on `node` and returns its value (the last expression's) and everything
    /// it printed. Erlang expressions may omit the final `.`. A syntax error comes back as
    /// [`CallError::Error`] whose reason is the node's own error term (`{error, Info, Loc}`
    /// from `erl_scan`, `{error, Info}` from `erl_parse`; Elixir raises a `SyntaxError`).
    /// `timeout` bounds the whole evaluation.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) {
    /// use std::time::Duration;
    /// use beamlink::rpc::Language;
    /// let (v, printed) = node.eval("fuga@localhost", "io:format(\"hi~n\"), 1 + 1", Language::Erlang, Duration::from_secs(5)).await;
    /// assert_eq!(v.unwrap(), beamlink::Term::from(2));
    /// assert_eq!(printed, "hi\n");
    /// # }
    /// ```
    pub async fn eval(
        &self,
        node: &str,
        code: &str,
        language: Language,
        timeout: Duration,
    ) -> (Result<Term, CallError>, String) {
        let deadline = Instant::now() + timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        match language {
            Language::Elixir => {
                let args = Term::list([Term::from(code)]);
                let (r, out) = self.call_with_output(node, "Elixir.Code", "eval_string", args, left()).await;
                // Code.eval_string/1 returns {Value, Binding}.
                (r.map(|t| first_of(t, 0)), out)
            }
            Language::Erlang => {
                let exprs = match self.parse_erlang(node, code, &left).await {
                    Ok(e) => e,
                    Err(e) => return (Err(e), String::new()),
                };
                let args = Term::list([exprs, Term::nil()]);
                let (r, out) = self.call_with_output(node, "erl_eval", "exprs", args, left()).await;
                // erl_eval:exprs/2 returns {value, Value, Bindings}.
                (r.map(|t| first_of(t, 1)), out)
            }
        }
    }

    /// Scans and parses on the remote node.
    async fn parse_erlang(
        &self,
        node: &str,
        code: &str,
        left: &impl Fn() -> Duration,
    ) -> Result<Term, CallError> {
        let mut text = code.trim().to_string();
        if !text.ends_with('.') {
            text.push('.');
        }
        let chars = Term::list(text.chars().map(|c| Term::from(c as u32)));
        let scanned = self.call(node, "erl_scan", "string", Term::list([chars]), left()).await?;
        let tokens = match scanned.as_tuple() {
            Some([ok, tokens, _]) if ok.is_atom("ok") => tokens.clone(),
            _ => return Err(syntax_error(scanned)),
        };
        let parsed = self.call(node, "erl_parse", "parse_exprs", Term::list([tokens]), left()).await?;
        match parsed.as_tuple() {
            Some([ok, exprs]) if ok.is_atom("ok") => Ok(exprs.clone()),
            _ => Err(syntax_error(parsed)),
        }
    }
}

fn syntax_error(reason: Term) -> CallError {
    CallError::Error { reason, stacktrace: Term::nil() }
}

/// Element `i` of a tuple result, or the result itself if it is not such a tuple.
fn first_of(t: Term, i: usize) -> Term {
    match t.as_tuple().and_then(|x| x.get(i)) {
        Some(v) => v.clone(),
        None => t,
    }
}
