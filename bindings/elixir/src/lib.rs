//! The NIF behind the Elixir package `:beamlink` (module `Beamlink.Native`): a thin rustler
//! translation over the beamlink engine (`native/beamlink`), which does all protocol work.
//!
//! Two rules shape every function here:
//! - **Nothing waits on a scheduler.** A network operation starts an engine future on the
//!   shared [`beamlink::runtime::Runtime`] and returns at once; its result arrives in the
//!   caller's mailbox as `{:"$beamlink", tag, result}`, sent from an engine thread
//!   ([`reply`]). Long codec work runs on dirty schedulers ([`codec`]).
//! - **Nothing crashes the VM.** Every entry point and every engine future catches panics and
//!   turns them into `{:panic, message}` errors ([`guard`]).
//!
//! Terms cross the boundary as external term format: Elixir encodes arguments with
//! `:erlang.term_to_binary/1`, and results are built by BEAM's own `binary_to_term` in the
//! message environment, on the engine thread ([`etf`]). The modules mirror the engine's
//! concepts: [`node`] (handles, ping, node events), [`call`] (erpc, rpc, multicall),
//! [`spawn`] (remote spawns whose output streams back), [`process`] (Elixir processes as
//! beamlink processes: names, sends, links, monitors), [`codec`] (`Beamlink.Term`), and
//! [`errors`] (engine errors as tagged tuples the Elixir side turns into exceptions).

mod atoms;
mod call;
mod codec;
mod errors;
mod etf;
mod guard;
mod node;
mod process;
mod reply;
mod spawn;

rustler::init!("Elixir.Beamlink.Native");
