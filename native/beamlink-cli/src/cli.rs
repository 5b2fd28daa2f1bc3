//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// beamlink: talk to Erlang/Elixir nodes over the distribution protocol.
///
/// Connects as a hidden node, like erl_call. Our own node name defaults to
/// `beamlink_<pid>@localhost` (or `@127.0.0.1` when the target has a long name); the cookie
/// defaults to ~/.erlang.cookie, as erl reads it.
#[derive(Parser, Debug)]
#[command(name = "beamlink", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Our short node name (`name` or `name@host`), like erl -sname.
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "name")]
    pub sname: Option<String>,
    /// Our long node name (`name@fq.dn` or `name@ip`), like erl -name.
    #[arg(long, global = true, value_name = "NAME")]
    pub name: Option<String>,
    /// The cookie (default: ~/.erlang.cookie, or $BEAMLINK_COOKIE). Prefer either of those:
    /// arguments are visible to every user in ps.
    #[arg(long, global = true, value_name = "COOKIE", env = "BEAMLINK_COOKIE", hide_env_values = true)]
    pub cookie: Option<beamlink::cookie::Cookie>,
    /// Seconds the whole command may take, connecting included (default 10; spawn without it:
    /// 10 s to get started, then as long as the process runs).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Print terms in Elixir syntax (and, for eval, read Elixir code).
    #[arg(long, global = true)]
    pub elixir: bool,
    /// TLS distribution (for nodes started with -proto_dist inet_tls): our certificate, PEM.
    /// Needs --tls-key and --tls-ca too.
    #[arg(long, global = true, value_name = "FILE", env = "BEAMLINK_TLS_CERT", requires_all = ["tls_key", "tls_ca"])]
    pub tls_cert: Option<PathBuf>,
    /// TLS distribution: our private key, PEM.
    #[arg(long, global = true, value_name = "FILE", env = "BEAMLINK_TLS_KEY", requires_all = ["tls_cert", "tls_ca"])]
    pub tls_key: Option<PathBuf>,
    /// TLS distribution: the CA certificates the node's certificate must chain to, PEM.
    #[arg(long, global = true, value_name = "FILE", env = "BEAMLINK_TLS_CA", requires_all = ["tls_cert", "tls_key"])]
    pub tls_ca: Option<PathBuf>,
    /// TLS distribution configured as the nodes are: their -ssl_dist_optfile (its `client`
    /// options are ours).
    #[arg(
        long = "ssl-dist-optfile",
        global = true,
        value_name = "FILE",
        env = "BEAMLINK_SSL_DIST_OPTFILE",
        conflicts_with_all = ["tls_cert", "tls_key", "tls_ca"]
    )]
    pub ssl_dist_optfile: Option<PathBuf>,
}

impl Global {
    /// The TLS settings the options ask for, if any.
    pub fn tls(&self) -> Result<Option<beamlink::tls::TlsConfig>, beamlink::tls::TlsConfigError> {
        use beamlink::tls::TlsConfig;
        match (&self.ssl_dist_optfile, &self.tls_cert, &self.tls_key, &self.tls_ca) {
            (Some(optfile), ..) => TlsConfig::from_optfile(optfile).map(Some),
            (None, Some(cert), Some(key), Some(ca)) => TlsConfig::from_pem_files(cert, key, ca).map(Some),
            _ => Ok(None),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the nodes epmd knows on HOST (like `epmd -names`).
    Names {
        #[arg(default_value = "localhost")]
        host: String,
    },
    /// Ping NODE: prints pong (exit 0) or pang (exit 1).
    Ping { node: String },
    /// Call MODULE:FUNCTION(ARGS…) on NODE and print the result.
    Rpc {
        node: String,
        module: String,
        function: String,
        /// The arguments as one Erlang list, e.g. '[1, "text", <<"bin">>, {a, b}]'.
        #[arg(default_value = "[]")]
        args: String,
        /// rpc:call semantics through the remote `rex` server instead of erpc's.
        #[arg(long)]
        rex: bool,
    },
    /// Evaluate an Erlang expression (or Elixir code with --elixir) on NODE; print its output,
    /// then its value.
    Eval { node: String, expr: String },
    /// Spawn MODULE:FUNCTION(ARGS…) on NODE and stream its output until it exits.
    Spawn {
        node: String,
        module: String,
        function: String,
        #[arg(default_value = "[]")]
        args: String,
    },
    /// What a dashboard shows about NODE: release, uptime, schedulers, counts, memory.
    Info {
        node: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Call MODULE:FUNCTION(ARGS) on every NODE at once: `multicall N1 N2… M F [ARGS]`.
    Multicall {
        #[arg(required = true, num_args = 3.., value_name = "NODE… MODULE FUNCTION [ARGS]")]
        items: Vec<String>,
    },
    /// Discover the cluster around NODE: its connected nodes, all connected to.
    Cluster { node: String },
}
