//! A group leader: serves the Erlang I/O protocol (notes §6.4) so remote `io:format`,
//! `io:put_chars`, `IO.puts` and `io:get_line` work when our pid is a process's group leader.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::node::Node;
use crate::process::{Message, Outbound, Process};
use crate::term::{Pid, Term};

/// How long a group leader waits for `io_lib:format` (or a `get_until` function) evaluated
/// back on the requesting node.
const EVAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where printed text goes.
pub(crate) enum Sink {
    Discard,
    Buffer(String),
    Channel(mpsc::UnboundedSender<String>),
}

impl Sink {
    fn put(&mut self, s: String) {
        if s.is_empty() {
            return;
        }
        match self {
            Sink::Discard => {}
            Sink::Buffer(b) => b.push_str(&s),
            Sink::Channel(tx) => {
                let _ = tx.send(s);
            }
        }
    }

    pub(crate) fn into_string(self) -> String {
        match self {
            Sink::Buffer(b) => b,
            _ => String::new(),
        }
    }
}

/// A remote process asks for a line of input (`io:get_line`, `io:read`, `IO.gets`…) from a
/// group leader started with [`IoServer::start_interactive`]. Show [`prompt`](Self::prompt),
/// read a line, and [`answer`](Self::answer) it; answering `None` (or dropping the request)
/// is end of input, which the remote sees as `eof`.
#[derive(Debug)]
pub struct InputRequest {
    prompt: String,
    reply: oneshot::Sender<Option<String>>,
}

impl InputRequest {
    /// The prompt the remote code gave (`""` when none).
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Delivers one line (a missing final `\n` is added), or end of input with `None`.
    pub fn answer(self, line: Option<String>) {
        let _ = self.reply.send(line);
    }
}

/// The I/O protocol state of one group leader: where output goes and the input not yet read.
pub(crate) struct IoHandler {
    sink: Sink,
    input: VecDeque<char>,
    /// Where further lines come from once `input` runs dry; `None`: end of input.
    source: Option<mpsc::UnboundedSender<InputRequest>>,
}

impl IoHandler {
    pub(crate) fn new(sink: Sink) -> IoHandler {
        IoHandler { sink, input: VecDeque::new(), source: None }
    }

    pub(crate) fn with_input(sink: Sink, input: &str) -> IoHandler {
        IoHandler { sink, input: input.chars().collect(), source: None }
    }

    fn interactive(sink: Sink, source: mpsc::UnboundedSender<InputRequest>) -> IoHandler {
        IoHandler { sink, input: VecDeque::new(), source: Some(source) }
    }

    pub(crate) fn into_sink(self) -> Sink {
        self.sink
    }

    /// Answers `{io_request, From, ReplyAs, Request}` with `{io_reply, ReplyAs, Reply}`; any
    /// other message is ignored.
    pub(crate) async fn serve(&mut self, me: &Process, _sender: Option<&Pid>, msg: &Term) {
        let Some([kind, Term::Pid(from), reply_as, request]) = msg.as_tuple() else { return };
        if !kind.is_atom("io_request") {
            return;
        }
        let reply = self.request(me.node(), from.node.as_str(), request).await;
        let answer = Term::tuple([Term::atom("io_reply"), reply_as.clone(), reply]);
        // If the requester is gone there is nobody to tell.
        let _ = me.send(from, Outbound::Term(answer)).await;
    }

    async fn request(&mut self, node: &Node, remote: &str, req: &Term) -> Term {
        let ok = Term::atom("ok");
        let items: &[Term] = match req {
            Term::Tuple(t) => t,
            Term::Atom(_) => std::slice::from_ref(req),
            _ => return error("request"),
        };
        let name = items.first().and_then(Term::as_atom).unwrap_or("");
        let enc = |t: &Term| t.is_atom("unicode") || t.is_atom("latin1");
        match (name, items.len()) {
            ("put_chars", 3) if enc(&items[1]) => match chardata(&items[2], items[1].is_atom("latin1")) {
                Some(s) => {
                    self.sink.put(s);
                    ok
                }
                None => error("put_chars"),
            },
            ("put_chars", 2) => match chardata(&items[1], true) {
                Some(s) => {
                    self.sink.put(s);
                    ok
                }
                None => error("put_chars"),
            },
            ("put_chars", 5) if enc(&items[1]) => {
                self.put_mfa(node, remote, &items[2], &items[3], &items[4]).await
            }
            ("put_chars", 4) => self.put_mfa(node, remote, &items[1], &items[2], &items[3]).await,
            ("get_line", 3) | ("get_line", 2) => {
                let prompt = prompt_text(&items[items.len() - 1]);
                match self.next_line(&prompt).await {
                    Some(l) => chars_term(&l),
                    None => Term::atom("eof"),
                }
            }
            ("get_chars", 4) | ("get_chars", 3) => {
                let prompt = prompt_text(&items[items.len() - 2]);
                let n = items[items.len() - 1].as_int().unwrap_or(0).max(0) as usize;
                if self.input.is_empty() {
                    match self.next_line(&prompt).await {
                        Some(l) => self.input.extend(l.chars()),
                        None => return Term::atom("eof"),
                    }
                }
                let s: String = self.input.drain(..n.min(self.input.len())).collect();
                chars_term(&s)
            }
            ("get_until", 6) | ("get_until", 5) => {
                let base = items.len() - 4;
                let prompt = prompt_text(&items[base]);
                let (m, f, xa) = (&items[base + 1], &items[base + 2], &items[base + 3]);
                self.get_until(node, remote, &prompt, m, f, xa).await
            }
            // A bare option list, as OTP's own servers answer (`io:getopts/1` returns it as is).
            ("getopts", 1) => Term::list([
                Term::tuple([Term::atom("binary"), Term::atom("false")]),
                Term::tuple([Term::atom("encoding"), Term::atom("unicode")]),
            ]),
            ("setopts", 2) => ok,
            ("get_geometry", 2) => error("enotsup"),
            ("requests", 2) => {
                let Some(reqs) = items[1].as_list() else { return error("request") };
                let mut last = ok;
                for r in reqs {
                    last = Box::pin(self.request(node, remote, r)).await;
                    if matches!(last.as_tuple(), Some([e, _]) if e.is_atom("error")) {
                        break;
                    }
                }
                last
            }
            _ => error("request"),
        }
    }

    /// `io:format` sends the format and arguments, not text: evaluate `M:F(A…)` (in practice
    /// `io_lib:format/2`) on the node that asked, then print the characters it returns.
    async fn put_mfa(&mut self, node: &Node, remote: &str, m: &Term, f: &Term, a: &Term) -> Term {
        let (Some(m), Some(f)) = (m.as_atom(), f.as_atom()) else { return error("put_chars") };
        let r = node.call_boxed(remote, m, f, Outbound::Term(a.clone()), EVAL_TIMEOUT, Sink::Discard).await.0;
        match r.ok().and_then(|t| chardata(&t, false)) {
            Some(s) => {
                self.sink.put(s);
                Term::atom("ok")
            }
            // io.erl turns `{error, format}` into a badarg in the caller, as a real server does.
            None => error("format"),
        }
    }

    /// `get_until`: feed the input a line at a time to `M:F(State, Data, ExtraArgs…)` on the
    /// requesting node until it says `{done, Result, Rest}`; `eof` once input runs out.
    async fn get_until(
        &mut self,
        node: &Node,
        remote: &str,
        prompt: &str,
        m: &Term,
        f: &Term,
        xa: &Term,
    ) -> Term {
        let (Some(m), Some(f)) = (m.as_atom(), f.as_atom()) else { return error("request") };
        let extra = xa.as_list().map(|l| l.to_vec()).unwrap_or_default();
        let mut state = Term::nil();
        let mut prompt = prompt.to_string();
        loop {
            // Only the first line of a multi-line read shows the prompt, as OTP's shell does.
            let data = match self.next_line(&std::mem::take(&mut prompt)).await {
                Some(l) => chars_term(&l),
                None => Term::atom("eof"),
            };
            let at_eof = data.is_atom("eof");
            let mut args = vec![state.clone(), data];
            args.extend(extra.iter().cloned());
            let r = node
                .call_boxed(remote, m, f, Outbound::Term(Term::List(args)), EVAL_TIMEOUT, Sink::Discard)
                .await
                .0;
            match r {
                Ok(Term::Tuple(ref t)) if t.len() == 3 && t[0].is_atom("done") => {
                    if let Some(rest) = chardata(&t[2], false) {
                        for c in rest.chars().rev() {
                            self.input.push_front(c);
                        }
                    }
                    return t[1].clone();
                }
                Ok(Term::Tuple(ref t)) if t.len() == 2 && t[0].is_atom("more") && !at_eof => {
                    state = t[1].clone()
                }
                Ok(_) => return Term::atom("eof"),
                Err(_) => return error("get_until"),
            }
        }
    }

    /// The next line of input: from the text given at start, then (interactive servers) from
    /// the source, which shows the prompt itself; otherwise the prompt is printed.
    async fn next_line(&mut self, prompt: &str) -> Option<String> {
        if self.input.is_empty()
            && let Some(source) = &self.source
        {
            let (reply, answer) = oneshot::channel();
            if source.send(InputRequest { prompt: prompt.to_string(), reply }).is_err() {
                self.source = None;
                return None;
            }
            let mut line = answer.await.ok().flatten()?;
            if !line.ends_with('\n') {
                line.push('\n');
            }
            return Some(line);
        }
        self.sink.put(prompt.to_string());
        self.take_line()
    }

    fn take_line(&mut self) -> Option<String> {
        if self.input.is_empty() {
            return None;
        }
        let n = self.input.iter().position(|&c| c == '\n').map_or(self.input.len(), |i| i + 1);
        let mut line: String = self.input.drain(..n).collect();
        if !line.ends_with('\n') {
            line.push('\n');
        }
        Some(line)
    }
}

/// A prompt as text; prompts may also be atoms (`io:get_line('')`), printed by name.
fn prompt_text(p: &Term) -> String {
    p.as_atom().map(str::to_string).or_else(|| chardata(p, false)).unwrap_or_default()
}

fn error(why: &str) -> Term {
    Term::tuple([Term::atom("error"), Term::atom(why)])
}

fn chars_term(s: &str) -> Term {
    Term::List(s.chars().map(|c| Term::Int(c as i64)).collect())
}

/// Flattens chardata (code points, binaries, nested and improper lists) into a string.
/// Binaries are UTF-8 unless `latin1`.
pub(crate) fn chardata(t: &Term, latin1: bool) -> Option<String> {
    fn go(t: &Term, latin1: bool, out: &mut String) -> bool {
        match t {
            Term::Int(c) => match u32::try_from(*c).ok().and_then(char::from_u32) {
                Some(ch) => {
                    out.push(ch);
                    true
                }
                None => false,
            },
            Term::Binary(b) => {
                if latin1 {
                    out.extend(b.iter().map(|&x| x as char));
                } else {
                    out.push_str(&String::from_utf8_lossy(b));
                }
                true
            }
            Term::List(l) => l.iter().all(|x| go(x, latin1, out)),
            Term::ImproperList(l, tail) => l.iter().all(|x| go(x, latin1, out)) && go(tail, latin1, out),
            _ => false,
        }
    }
    let mut s = String::new();
    go(t, latin1, &mut s).then_some(s)
}

/// A standalone group leader on our node. Give [`pid`](Self::pid) as a remote process's group
/// leader (for instance through [`Process::spawn_request`]) and what it prints arrives on the
/// receiver returned by [`start`](Self::start), one chunk per I/O request. Input requests read
/// the text given to [`start_with_input`](Self::start_with_input), then get `eof`. Dropping
/// the server ends its process.
///
/// ```no_run
/// # async fn demo(node: beamlink::Node) -> Result<(), Box<dyn std::error::Error>> {
/// use beamlink::{rpc::IoServer, term::Term};
/// let (gl, mut output) = IoServer::start(&node);
/// let me = node.spawn_process();
/// me.spawn_request("fuga@localhost", "io", "put_chars", Term::list([Term::from("hi\n")]), &[], Some(gl.pid())).await?;
/// assert_eq!(output.recv().await.as_deref(), Some("hi\n"));
/// # Ok(()) }
/// ```
pub struct IoServer {
    pid: Pid,
    task: JoinHandle<()>,
}

impl IoServer {
    /// Starts a group leader with no input (reads get `eof`).
    pub fn start(node: &Node) -> (IoServer, mpsc::UnboundedReceiver<String>) {
        Self::start_with_input(node, "")
    }

    /// Starts a group leader whose reads consume `input` (lines separated by `\n`).
    pub fn start_with_input(node: &Node, input: &str) -> (IoServer, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self::serve(node, IoHandler::with_input(Sink::Channel(tx), input)), rx)
    }

    /// Starts a group leader whose reads ask for input as they come: each read sends an
    /// [`InputRequest`] on the second receiver and waits for its answer (a terminal, for
    /// instance, shows the prompt and reads a line). Printed text arrives on the first
    /// receiver; text printed before a read is queued there before the read's request.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), Box<dyn std::error::Error>> {
    /// use beamlink::{rpc::IoServer, term::Term};
    /// let (gl, mut output, mut reads) = IoServer::start_interactive(&node);
    /// tokio::spawn(async move {
    ///     while let Some(read) = reads.recv().await {
    ///         let answer = format!("you said {:?}", read.prompt());
    ///         read.answer(Some(answer));
    ///     }
    /// });
    /// let prompt = Term::list("name? ".chars().map(|c| Term::from(c as u32)));
    /// let line = node
    ///     .call_with_io("fuga@localhost", "io", "get_line", Term::list([prompt]), std::time::Duration::from_secs(5), &gl)
    ///     .await?;
    /// println!("{line}"); // "you said \"name? \"\n"
    /// # Ok(()) }
    /// ```
    pub fn start_interactive(
        node: &Node,
    ) -> (IoServer, mpsc::UnboundedReceiver<String>, mpsc::UnboundedReceiver<InputRequest>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (reads, requests) = mpsc::unbounded_channel();
        (Self::serve(node, IoHandler::interactive(Sink::Channel(tx), reads)), rx, requests)
    }

    fn serve(node: &Node, mut io: IoHandler) -> IoServer {
        let proc = node.spawn_process();
        let pid = proc.pid().clone();
        let task = tokio::spawn(async move {
            while let Some(m) = proc.receive().await {
                if let Message::Send { from, payload } = m
                    && let Ok(t) = payload.term()
                {
                    io.serve(&proc, from.as_ref(), &t).await;
                }
            }
        });
        IoServer { pid, task }
    }

    pub fn pid(&self) -> &Pid {
        &self.pid
    }
}

impl Drop for IoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
