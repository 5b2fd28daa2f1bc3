//! beamlink: speak the Erlang distribution protocol natively.
//!
//! A Rust program becomes a first-class (hidden) peer of a BEAM cluster: it can look nodes up
//! in epmd, connect with the cookie handshake, ping, call functions (`rpc:call` and `erpc`
//! semantics), spawn remote processes whose output comes back, send and receive messages, and
//! be connected to as a "C node".
//!
//! Layers, bottom up: [`term`] (external term format), then the distribution engine modules.

pub mod blocking;
pub mod connection;
pub mod control;
pub mod cookie;
pub mod epmd;
pub mod flags;
pub mod handshake;
mod mailbox;
pub mod name;
pub mod node;
pub mod process;
pub mod resolve;
pub mod rpc;
pub mod term;

pub use node::{Node, NodeBuilder, NodeError, NodeEvent};
pub use process::{Message, Outbound, Payload, Process};
pub use rpc::CallError;
pub use term::Term;
