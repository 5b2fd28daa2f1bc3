//! The NIF behind the Elixir package `:beamlink` (module `Beamlink.Native`): a thin rustler
//! translation over the beamlink engine (`native/beamlink`), which does all protocol work.
//!
//! Two rules shape every function here:
//! - **Nothing waits on a scheduler.** A network operation takes its first, non-blocking step
//!   (a request written to the socket) and leaves the rest to an engine future on the shared
//!   [`beamlink::runtime::Runtime`]; its result arrives in the caller's mailbox as
//!   `{:"$beamlink", tag, result}`, sent from an engine thread ([`reply`]). A term check too
//!   big for a normal scheduler runs on a dirty one ([`codec`]).
//! - **Nothing crashes the VM.** Every entry point, and the first step it runs, catches panics
//!   (the runtime catches them in the engine futures) and turns them into `{:panic, message}`
//!   errors ([`guard`]).
//!
//! Terms cross the boundary as external term format: Elixir encodes arguments with
//! `:erlang.term_to_binary/1`, and results are built by BEAM's own `binary_to_term` in the
//! message environment, on the engine thread ([`etf`]), under the handle's atom policy. The modules mirror the engine's
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
