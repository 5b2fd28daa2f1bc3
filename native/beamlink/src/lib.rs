//! beamlink: speak the Erlang distribution protocol natively.
//!
//! A Rust program becomes a first-class (hidden) peer of a BEAM cluster: it can look nodes up
//! in epmd, connect with the cookie handshake, ping, call functions (`rpc:call` and `erpc`
//! semantics), spawn remote processes whose output comes back, send and receive messages, and
//! be connected to as a "C node".
//!
//! ```no_run
//! use std::time::Duration;
//! use beamlink::{CallError, Node, Term};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // Like `iex --sname hoge --cookie mycookie` (without --cookie: ~/.erlang.cookie).
//! let node = Node::builder("hoge").cookie("mycookie").start().await?;
//! assert!(node.ping("fuga@localhost").await);                 // Node.ping/1
//! println!("{:?}", node.nodes());                               // Node.list/0
//! let t = Duration::from_secs(5);
//! let v = node.call("fuga@localhost", "erlang", "node", Term::nil(), t).await?;
//! println!("{v}");                                              // fuga@localhost
//! match node.call("fuga@localhost", "erlang", "error", Term::list([Term::atom("boom")]), t).await {
//!     Err(CallError::Error { reason, .. }) => println!("raised {reason}"),
//!     other => println!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! Layers, bottom up, one job per module:
//! - [`term`]: the external term format (codec, term order, Erlang and Elixir syntax);
//! - [`name`], [`cookie`], [`resolve`], [`epmd`], [`flags`], [`tls`], [`handshake`]: finding a
//!   node and getting in;
//! - [`transport`], [`control`], [`connection`]: the connected state (the stream under it,
//!   control messages, framing, fragments, atom cache, ticks);
//! - [`node`], [`process`]: the local node (its connections, its routing table of processes,
//!   links, monitors and names) and the process handle built on it;
//! - [`rpc`]: `rpc:call`, `erpc:call`, multicall, spawn with output, discovery;
//! - [`runtime`]: the shared engine runtime and the completion path the bindings wait on;
//! - [`blocking`]: the same API without an async runtime.

pub mod blocking;
pub mod connection;
pub mod control;
pub mod cookie;
pub mod epmd;
mod fasthash;
pub mod flags;
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod handshake;
mod mailbox;
mod message;
pub mod name;
pub mod node;
pub mod process;
mod registry;
pub mod resolve;
pub mod rpc;
pub mod runtime;
pub mod term;
pub mod tls;
pub mod transport;

pub use node::{Node, NodeBuilder, NodeError, NodeEvent};
pub use process::{Message, Outbound, Payload, Process};
pub use rpc::CallError;
pub use term::Term;
