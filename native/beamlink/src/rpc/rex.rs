//! `rpc:call/5` and `rpc:cast/4` semantics through the remote `rex` server (notes §6.2).

use std::time::Duration;

use tokio::time::Instant;

use super::error::CallError;
use super::io_server::{IoHandler, Sink};
use super::{enc, tuple_of_encoded};
use crate::node::Node;
use crate::process::{Message, Outbound};
use crate::term::Term;

impl Node {
    /// Calls `module:function(args…)` on `node` through its `rex` server, like `rpc:call/5`.
    /// Output goes to the remote node's `user` (its stdout).
    ///
    /// Results as `rpc:call` gives them: a value (a `throw` comes back as the thrown value, not
    /// an error). `{badrpc, Reason}` from rex, and a returned `{'EXIT', _}` (which OTP's
    /// caller-side `rpc:call` also turns into `{badrpc, {'EXIT', _}}`), become
    /// [`CallError::BadRpc`]. Where OTP would make `{badrpc, nodedown}` and `{badrpc, timeout}`
    /// locally, this returns [`CallError::NoConnection`] and [`CallError::Timeout`], so the
    /// kinds stay apart; a late reply after a timeout is dropped with the temporary process.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// use std::time::Duration;
    /// use beamlink::term::Term;
    /// let who = node.rpc_call("fuga@localhost", "erlang", "node", Term::nil(), Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn rpc_call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> Result<Term, CallError> {
        self.rex_call(node, module, function, args.into(), timeout, false).await.0
    }

    /// Like [`rpc_call`](Self::rpc_call) with our temporary process as the group leader, so
    /// the call's output comes back with the result instead of going to the remote stdout.
    pub async fn rpc_call_with_output(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> (Result<Term, CallError>, String) {
        self.rex_call(node, module, function, args.into(), timeout, true).await
    }

    async fn rex_call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: Outbound,
        timeout: Duration,
        capture: bool,
    ) -> (Result<Term, CallError>, String) {
        let deadline = Instant::now() + timeout;
        let me = self.spawn_process();
        let mut io = IoHandler::new(if capture { Sink::Buffer(String::new()) } else { Sink::Discard });
        // Watching rex turns a lost connection into an answer now rather than a timeout.
        let mref = match me.monitor_named(node, "rex").await {
            Ok(r) => r,
            Err(e) => return (Err(CallError::from_node(node, e)), String::new()),
        };
        let tag = self.make_ref();
        let gl = if capture { Term::Pid(me.pid().clone()) } else { Term::atom("user") };
        let from = enc(&Term::tuple([Term::Pid(me.pid().clone()), Term::Reference(tag.clone())]));
        let args = args.into_bytes();
        let call = tuple_of_encoded(&[
            &enc(&Term::atom("call")),
            &enc(&Term::atom(module)),
            &enc(&Term::atom(function)),
            &args,
            &enc(&gl),
        ]);
        let msg = tuple_of_encoded(&[&enc(&Term::atom("$gen_call")), &from, &call]);
        if let Err(e) = me.send_named(node, "rex", Outbound::Encoded(msg.into())).await {
            return (Err(CallError::from_node(node, e)), String::new());
        }
        let tag = Term::Reference(tag);
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(m) = me.receive_timeout(left).await else {
                break Err(CallError::Timeout { node: node.to_string(), after: timeout });
            };
            match m {
                Message::Send { from, payload } => {
                    let t = match payload.term() {
                        Ok(t) => t,
                        Err(e) => break Err(CallError::Decode(e)),
                    };
                    match t {
                        Term::Tuple(ref v) if v.len() == 2 && v[0] == tag => {
                            break rex_result(t.into_items().expect("a tuple").pop().expect("2"));
                        }
                        t => io.serve(&me, from.as_ref(), &t).await,
                    }
                }
                Message::Down { reference, reason, .. } if reference == mref => {
                    break Err(if reason.is_atom("noconnection") {
                        CallError::lost(node)
                    } else {
                        // rex is not running there (`noproc`): what `rpc` reports as nodedown.
                        CallError::BadRpc { reason: Term::atom("nodedown") }
                    });
                }
                _ => {}
            }
        };
        (result, io.into_sink().into_string())
    }

    /// Runs `module:function(args…)` on `node` without waiting (`rpc:cast/4`): rex spawns it
    /// with the remote `user` as group leader. Succeeds once the request is handed to the
    /// connection; nothing reports whether the function ran.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// use beamlink::term::Term;
    /// node.cast("fuga@localhost", "erlang", "garbage_collect", Term::nil()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn cast(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
    ) -> Result<(), CallError> {
        let me = self.spawn_process();
        let args = args.into().into_bytes();
        let cast = tuple_of_encoded(&[
            &enc(&Term::atom("cast")),
            &enc(&Term::atom(module)),
            &enc(&Term::atom(function)),
            &args,
            &enc(&Term::atom("user")),
        ]);
        let msg = tuple_of_encoded(&[&enc(&Term::atom("$gen_cast")), &cast]);
        me.send_named(node, "rex", Outbound::Encoded(msg.into()))
            .await
            .map_err(|e| CallError::from_node(node, e))
    }
}

fn rex_result(r: Term) -> Result<Term, CallError> {
    match &r {
        Term::Tuple(t) if t.len() == 2 && t[0].is_atom("badrpc") => {
            Err(CallError::BadRpc { reason: r.into_items().expect("a tuple").pop().expect("2") })
        }
        Term::Tuple(t) if t.len() == 2 && t[0].is_atom("EXIT") => Err(CallError::BadRpc { reason: r }),
        _ => Ok(r),
    }
}
