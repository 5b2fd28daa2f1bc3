//! One module per bench family. Each adds its rows to the table; `BENCH_ONLY=key,…` picks
//! families by key. A new family is a module here and a line in [`FAMILIES`].

use crate::cfg::Cfg;
use crate::env::Env;
use crate::table::Table;

mod c_api;
mod codec;
mod connect;
mod echo;
mod elixir;
mod latency;
mod memory;
mod python;
mod throughput;
mod whole;

pub struct Family {
    /// The name `BENCH_ONLY` selects it by.
    pub key: &'static str,
    pub run: fn(&Env, &Cfg, &mut Table),
}

/// In table order.
pub const FAMILIES: &[Family] = &[
    Family { key: "rpc", run: latency::rows },
    Family { key: "tput", run: throughput::rows },
    Family { key: "ping", run: connect::ping_rows },
    Family { key: "fresh", run: connect::fresh_rows },
    Family { key: "whole", run: whole::rows },
    Family { key: "echo", run: echo::rows },
    Family { key: "codec", run: codec::rows },
    Family { key: "memory", run: memory::rows },
    Family { key: "python", run: python::rows },
    Family { key: "c", run: c_api::rows },
    Family { key: "elixir", run: elixir::rows },
];
