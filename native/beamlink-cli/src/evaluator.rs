//! Evaluating source text on a node in one round trip, keeping the variables bound between
//! evaluations (for `shell`): Erlang through the node's own `erl_scan`, `erl_parse` and
//! `erl_eval` (so the syntax is exactly the node's), Elixir through `Code.eval_string/3`.

use std::time::Duration;

use beamlink::rpc::IoServer;
use beamlink::term::Term;
use beamlink::{CallError, Node};

/// Why an evaluation gave no value.
pub enum EvalError {
    /// Erlang source the node's scanner or parser refused: its own message, and where.
    Syntax { line: i64, column: i64, message: String },
    /// The code raised, exited or threw (an Elixir syntax error is a raised `SyntaxError` or
    /// `TokenMissingError`), or the call itself failed.
    Call(CallError),
}

pub struct Evaluator {
    node: Node,
    target: String,
    elixir: bool,
    /// The bindings after the last evaluation (`[]` at first): an erl_eval binding list, or
    /// an Elixir keyword list.
    bindings: Term,
}

impl Evaluator {
    pub fn new(node: Node, target: &str, elixir: bool) -> Evaluator {
        Evaluator { node, target: target.to_string(), elixir, bindings: Term::nil() }
    }

    /// Forgets every variable bound so far (the Erlang shell's `f()`).
    pub fn forget(&mut self) {
        self.bindings = Term::nil();
    }

    /// Evaluates `code` with `io` as its group leader (what it prints streams there, its reads
    /// come from there) and returns the value of its last expression.
    pub async fn eval(&mut self, code: &str, io: &IoServer, timeout: Duration) -> Result<Term, EvalError> {
        let (module, function, args) = if self.elixir {
            let opts = Term::list([Term::tuple([Term::atom("file"), Term::from("beamlink")])]);
            ("Elixir.Code", "eval_string", Term::list([Term::from(code), self.bindings.clone(), opts]))
        } else {
            let mut text = code.trim_end().to_string();
            if !text.ends_with('.') {
                text.push('.');
            }
            let source = Term::list(text.chars().map(|c| Term::from(c as u32)));
            let outer = Term::list([
                Term::tuple([Term::atom("S"), source]),
                Term::tuple([Term::atom("B"), self.bindings.clone()]),
            ]);
            ("erl_eval", "exprs", Term::list([erlang_wrapper(), outer]))
        };
        let r = self.node.call_with_io(&self.target, module, function, args, timeout, io).await;
        let mut value = r.map_err(EvalError::Call)?;
        if !self.elixir {
            // The outer erl_eval:exprs/2 returns {value, WrapperValue, _}.
            match value.as_tuple() {
                Some([tag, inner, _]) if tag.is_atom("value") => value = inner.clone(),
                _ => return Err(EvalError::Call(CallError::BadRpc { reason: value })),
            }
        }
        let unexpected = |t: &Term| EvalError::Call(CallError::BadRpc { reason: t.clone() });
        match (self.elixir, value.as_tuple()) {
            // Code.eval_string/3: {Value, Binding}.
            (true, Some([v, bindings])) => {
                self.bindings = bindings.clone();
                Ok(v.clone())
            }
            // The wrapper: {value, Value, Bindings} from erl_eval, or {syntax_error, Loc, Text}.
            (false, Some([tag, v, bindings])) if tag.is_atom("value") => {
                self.bindings = bindings.clone();
                Ok(v.clone())
            }
            (false, Some([tag, loc, text])) if tag.is_atom("syntax_error") => {
                let (line, column) = match loc.as_tuple() {
                    Some([l, c]) => (l.as_int().unwrap_or(0), c.as_int().unwrap_or(0)),
                    _ => (loc.as_int().unwrap_or(0), 0),
                };
                let message = match text {
                    Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
                    other => other.to_string(),
                };
                Err(EvalError::Syntax { line, column, message })
            }
            _ => Err(unexpected(&value)),
        }
    }
}

/// The Erlang expression (as abstract format, for `erl_eval:exprs/2`) that scans, parses and
/// evaluates the source `S` with bindings `B` on the node, in one call:
///
/// ```erlang
/// case erl_scan:string(S, {1, 1}) of
///     {ok, T, _} ->
///         case erl_parse:parse_exprs(T) of
///             {ok, E} -> erl_eval:exprs(E, B);
///             {error, {L, M, D}} -> {syntax_error, L, unicode:characters_to_binary(M:format_error(D))}
///         end;
///     {error, {L, M, D}, _} -> {syntax_error, L, unicode:characters_to_binary(M:format_error(D))}
/// end
/// ```
fn erlang_wrapper() -> Term {
    let a = |name: &str| Term::tuple([Term::atom("atom"), Term::from(1), Term::atom(name)]);
    let v = |name: &str| Term::tuple([Term::atom("var"), Term::from(1), Term::atom(name)]);
    let int = |n: i64| Term::tuple([Term::atom("integer"), Term::from(1), Term::from(n)]);
    let tuple = |items: Vec<Term>| Term::tuple([Term::atom("tuple"), Term::from(1), Term::List(items)]);
    let call = |m: Term, f: &str, args: Vec<Term>| {
        let remote = Term::tuple([Term::atom("remote"), Term::from(1), m, a(f)]);
        Term::tuple([Term::atom("call"), Term::from(1), remote, Term::List(args)])
    };
    let clause = |pattern: Term, body: Term| {
        Term::tuple([
            Term::atom("clause"),
            Term::from(1),
            Term::list([pattern]),
            Term::nil(),
            Term::list([body]),
        ])
    };
    let case = |e: Term, clauses: Vec<Term>| {
        Term::tuple([Term::atom("case"), Term::from(1), e, Term::List(clauses)])
    };
    let syntax_error = || {
        let text = call(v("M"), "format_error", vec![v("D")]);
        tuple(vec![a("syntax_error"), v("L"), call(a("unicode"), "characters_to_binary", vec![text])])
    };
    let lmd = || tuple(vec![v("L"), v("M"), v("D")]);
    let parse = case(
        call(a("erl_parse"), "parse_exprs", vec![v("T")]),
        vec![
            clause(tuple(vec![a("ok"), v("E")]), call(a("erl_eval"), "exprs", vec![v("E"), v("B")])),
            clause(tuple(vec![a("error"), lmd()]), syntax_error()),
        ],
    );
    let scan = case(
        call(a("erl_scan"), "string", vec![v("S"), tuple(vec![int(1), int(1)])]),
        vec![
            clause(tuple(vec![a("ok"), v("T"), v("_")]), parse),
            clause(tuple(vec![a("error"), lmd(), v("_")]), syntax_error()),
        ],
    );
    Term::list([scan])
}
