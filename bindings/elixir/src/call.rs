//! Remote calls: `erpc:call` semantics ([`call`]), `rpc:call` semantics ([`rpc`]) and
//! multicall. Each returns `{:ok, tag}` at once; `{:"$beamlink", tag, {:ok, value}}` or
//! `{:"$beamlink", tag, {:error, kind_tuple}}` follows.

use rustler::{Binary, Encoder, Env, ResourceArc, Term};

use crate::atoms;
use crate::errors;
use crate::etf;
use crate::guard;
use crate::node::{NodeRes, millis};
use crate::reply;

/// The arguments as the engine sends them, or the `{:error, _}` to return at once.
fn arguments<'a>(env: Env<'a>, res: &NodeRes, args: Binary<'a>) -> Result<beamlink::Outbound, Term<'a>> {
    if res.is_closed() {
        return Err(errors::error(env, errors::closed(env)));
    }
    etf::outbound(env, args).map_err(|e| errors::error(env, errors::decode(env, &e, false)))
}

/// `erpc:call(Node, M, F, A, Timeout)`. `args` is `:erlang.term_to_binary(list)`.
#[rustler::nif]
fn call<'a>(
    env: Env<'a>,
    res: ResourceArc<NodeRes>,
    node: String,
    module: String,
    function: String,
    args_etf: Binary<'a>,
    timeout: u64,
) -> Term<'a> {
    guard::nif(env, || {
        let args = match arguments(env, &res, args_etf) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let n = res.node.clone();
        let atoms = res.atoms;
        let work = async move { n.call_raw(&node, &module, &function, args, millis(timeout)).await };
        let tag = reply::start(env, res.rt(), work, move |e, result| match result {
            Ok(payload) => match etf::payload(e, &payload, atoms) {
                Ok(v) => (atoms::ok(), v).encode(e),
                Err(u) => errors::error(e, errors::undecodable(e, &u)),
            },
            Err(f) => errors::error(e, errors::call(e, &f, atoms)),
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// `rpc:call(Node, M, F, A, Timeout)` through the remote `rex` server.
#[rustler::nif]
fn rpc<'a>(
    env: Env<'a>,
    res: ResourceArc<NodeRes>,
    node: String,
    module: String,
    function: String,
    args_etf: Binary<'a>,
    timeout: u64,
) -> Term<'a> {
    guard::nif(env, || {
        let args = match arguments(env, &res, args_etf) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let n = res.node.clone();
        let atoms = res.atoms;
        let work = async move { n.rpc_call(&node, &module, &function, args, millis(timeout)).await };
        let tag = reply::start(env, res.rt(), work, move |e, result| match result {
            Ok(v) => match etf::engine(e, &v, atoms) {
                Ok(v) => (atoms::ok(), v).encode(e),
                Err(u) => errors::error(e, errors::undecodable(e, &u)),
            },
            Err(f) => errors::error(e, errors::call(e, &f, atoms)),
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// `erpc:multicall`: one result per node, in the order of `nodes`.
#[rustler::nif]
fn multicall<'a>(
    env: Env<'a>,
    res: ResourceArc<NodeRes>,
    nodes: Vec<String>,
    module: String,
    function: String,
    args_etf: Binary<'a>,
    timeout: u64,
) -> Term<'a> {
    guard::nif(env, || {
        let args = match arguments(env, &res, args_etf) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let n = res.node.clone();
        let atoms = res.atoms;
        let work = async move {
            let names: Vec<&str> = nodes.iter().map(String::as_str).collect();
            n.multicall(&names, &module, &function, args, millis(timeout)).await
        };
        let tag = reply::start(env, res.rt(), work, move |e, results| {
            let items: Vec<Term> = results
                .iter()
                .map(|r| match r {
                    Ok(v) => match etf::engine(e, v, atoms) {
                        Ok(v) => (atoms::ok(), v).encode(e),
                        Err(u) => errors::error(e, errors::undecodable(e, &u)),
                    },
                    Err(err) => errors::error(e, errors::call(e, err, atoms)),
                })
                .collect();
            (atoms::ok(), items).encode(e)
        });
        (atoms::ok(), tag).encode(env)
    })
}
