//! Command-line arguments: the global options (accepted before or after the subcommand) and
//! one variant per subcommand, each with its own help page.

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit status:
    0  success
    1  pang: a node did not answer (ping)
    2  the remote code raised an error (error/1, an Elixir exception)
    3  it exited (exit/1) or was killed
    4  it threw a value nobody caught
    5  an undefined function was called
    6  no connection: the node is not there, or went away
    7  timeout: not done within --timeout
    8  the node refused to spawn
    9  badrpc (--rex)
   10  the answer could not be decoded
   11  a value larger than --max-output (cut there)
   64  bad command line, or a syntax error in EXPR, ARGS or TERM
   69  epmd cannot be reached, or what answers is not epmd
   74  the output cannot be written (disk full)
   78  bad node name, cookie, cookie file or TLS settings
  130  interrupted (Ctrl-C); 143: terminated (SIGTERM). The remote work is stopped too.
  141  stdout was closed by its reader (`| head`): quiet, as for other tools";

const ENVIRONMENT: &str = "\
Environment:
  BEAMLINK_COOKIE  the cookie (default: ~/.erlang.cookie, which must be mode 0400 or 0600)
  ERL_EPMD_PORT    the port of epmd, as erl reads it (default 4369)
  BEAMLINK_TLS_CERT, BEAMLINK_TLS_KEY, BEAMLINK_TLS_CA, BEAMLINK_SSL_DIST_OPTFILE
                   TLS distribution, as the --tls-* and --ssl-dist-optfile options
  HOME             where .erlang.cookie is looked for";

const NODE: &str = "\
NODE is a node name: `name@host`, or a short `name` on this host (expanded to name@<host>,
as `erl_call -sname` does; `name@localhost` stays as written).";

/// beamlink: reach Erlang and Elixir nodes from the shell, with no Erlang installed.
///
/// Connects as a hidden node (like erl_call). Our own node name is `beamlink_<pid>@<host>`
/// unless --sname/--name say otherwise; the cookie comes from ~/.erlang.cookie as erl reads
/// it, or $BEAMLINK_COOKIE. Options may come before or after the subcommand.
#[derive(Parser, Debug)]
#[command(name = "beamlink", version, about, long_about, after_help = format!("{ENVIRONMENT}\n\n{EXIT_CODES}"))]
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
    /// Seconds the whole command may take, connecting included (default 10; for spawn, listen,
    /// shell and top without it: 10 s to get started, then no limit).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Elixir syntax: terms printed as Elixir does, ARGS and TERM read as Elixir literals,
    /// module names without `Elixir.` (`Person` is `Elixir.Person`), eval and shell in Elixir.
    #[arg(long, global = true)]
    pub elixir: bool,
    /// Machine-readable output: one JSON document (JSON lines for spawn and listen). The
    /// mapping of terms is in the README ("Terms as JSON").
    #[arg(long, global = true)]
    pub json: bool,
    /// Connect as a visible node (the peer's `nodes()` lists us) instead of a hidden one. See
    /// the README on what `global` does with a visible node that does not run it.
    #[arg(long, global = true)]
    pub visible: bool,
    /// rpc and multicall: `rpc:call` semantics through the remote `rex` server instead of
    /// erpc's.
    #[arg(long, global = true)]
    pub rex: bool,
    /// Largest printed value in bytes (0: no limit). A larger one is cut there (exit 11) rather
    /// than turning a 200 MB binary into 400 MB of text.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_output: usize,
    /// TLS distribution (`-proto_dist inet_tls`), set up as erl reads it: an OTP
    /// `ssl_dist_optfile` (`[{server, Opts}, {client, Opts}]`).
    #[arg(long, global = true, value_name = "FILE", env = "BEAMLINK_SSL_DIST_OPTFILE", conflicts_with_all = ["tls_cert", "tls_key", "tls_ca"])]
    pub ssl_dist_optfile: Option<std::path::PathBuf>,
    /// TLS distribution with this certificate (PEM); needs --tls-key and --tls-ca.
    #[arg(long, global = true, value_name = "FILE", env = "BEAMLINK_TLS_CERT", requires_all = ["tls_key", "tls_ca"])]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, global = true, value_name = "FILE", env = "BEAMLINK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// The CA certificates the peers' certificates must chain to (PEM).
    #[arg(long, global = true, value_name = "FILE", env = "BEAMLINK_TLS_CA", requires = "tls_cert")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// Print the remote stacktrace of an exception (on stderr, after the message).
    #[arg(long, global = true)]
    pub stacktrace: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the nodes epmd knows on HOST (like `epmd -names`).
    #[command(after_help = format!("HOST is a host name or address (default localhost); epmd's port is \
        $ERL_EPMD_PORT or 4369.\n\nExample:\n  beamlink names\n  beamlink --json names db1.example.com\n\n{EXIT_CODES}"))]
    Names {
        #[arg(default_value = "localhost")]
        host: String,
    },
    /// Ping one or more nodes: `pong` or `pang` for each (exit 1 if any is pang).
    #[command(after_help = format!("{NODE}\nSeveral nodes are pinged at once; with more than one, \
        each line is `NODE pong|pang`.\n\nExample:\n  beamlink ping fuga@localhost\n  beamlink ping fuga piyo\n\n{EXIT_CODES}"))]
    Ping {
        #[arg(required = true, value_name = "NODE")]
        nodes: Vec<String>,
    },
    /// Call MODULE:FUNCTION(ARGS…) on NODE; print what it printed, then its value.
    #[command(after_help = format!("{NODE}\nARGS is one list of the arguments, in Erlang syntax \
        ('[1, \"text\", <<\"bin\">>, {{a, b}}]'), or Elixir syntax with --elixir \
        ('[:a, \"text\", %{{k: 1}}]'); `-` reads it from stdin. Default: no arguments.\n\
        Errors raised remotely exit 2 (error), 3 (exit), 4 (throw) or 5 (undef).\n\n\
        Example:\n  beamlink rpc fuga@localhost lists reverse '[[1, 2, 3]]'\n  \
        beamlink --elixir rpc fuga Person say_hello '[:hoge]'\n\n{EXIT_CODES}"))]
    Rpc {
        node: String,
        module: String,
        function: String,
        #[arg(default_value = "[]")]
        args: String,
    },
    /// Evaluate Erlang expressions (Elixir code with --elixir) on NODE; print what they
    /// printed, then the value.
    #[command(after_help = format!("{NODE}\nEXPR is evaluated by the node's own erl_eval (the final \
        `.` may be left out) or Code.eval_string; `-` reads it from stdin. A syntax error exits 64.\n\n\
        Example:\n  beamlink eval fuga@localhost 'lists:sum([1, 2, 3])'\n  \
        beamlink --elixir eval fuga 'Enum.map(1..3, &(&1 * 2))'\n\n{EXIT_CODES}"))]
    Eval { node: String, expr: String },
    /// Spawn MODULE:FUNCTION(ARGS…) on NODE and stream its output until it exits.
    #[command(after_help = format!("{NODE}\nARGS as for rpc. The exit status follows the process's \
        exit: 0 normal, 2 error, 3 exit, 4 throw, 5 undef. Ctrl-C kills the process.\n\n\
        Example:\n  beamlink spawn fuga@localhost timer sleep '[1000]'\n  \
        beamlink --elixir spawn fuga Toukon say\n\n{EXIT_CODES}"))]
    Spawn {
        node: String,
        module: String,
        function: String,
        #[arg(default_value = "[]")]
        args: String,
    },
    /// What a dashboard shows about NODE: release, uptime, schedulers, counts, memory.
    #[command(after_help = format!("{NODE}\n\nExample:\n  beamlink info fuga@localhost\n  \
        beamlink --json info fuga\n\n{EXIT_CODES}"))]
    Info { node: String },
    /// Call MODULE:FUNCTION(ARGS) on every NODE at once: `multicall N1 N2… M F [ARGS]`.
    #[command(after_help = format!("{NODE}\nARGS as for rpc (a last item starting with `[`, or `-`). \
        One line per node, in the order given; the exit status is the first failure's.\n\n\
        Example:\n  beamlink multicall fuga piyo erlang node\n\n{EXIT_CODES}"))]
    Multicall {
        #[arg(required = true, num_args = 3.., value_name = "NODE… MODULE FUNCTION [ARGS]")]
        items: Vec<String>,
    },
    /// Discover the cluster around NODE: its connected nodes, each connected to.
    #[command(after_help = format!("{NODE}\n\nExample:\n  beamlink cluster fuga@localhost\n\n{EXIT_CODES}"))]
    Cluster { node: String },
    /// Send TERM to the process registered as NAME on NODE (`{Name, Node} ! Term`).
    #[command(after_help = format!("{NODE}\nNAME is a registered name; TERM is in Erlang syntax \
        (Elixir with --elixir), `-` reads it from stdin. Exits 3 when nothing is registered as \
        NAME.\n\nExample:\n  beamlink send fuga@localhost logger_sink '{{hello, 1}}'\n\n{EXIT_CODES}"))]
    Send {
        node: String,
        /// (`id` apart from the global --name option's.)
        #[arg(id = "registered_name", value_name = "NAME")]
        name: String,
        term: String,
    },
    /// Be a C node: publish our name, register NAME, print every message received.
    #[command(after_help = format!("Our node name comes from --sname/--name (default \
        beamlink_<pid>@<host>); it is printed first. Each message is printed as a line (JSON \
        lines with --json); with --reply TERM, TERM is sent back to the sender of each message \
        (when known). Runs until Ctrl-C, --count messages or --timeout.\n\n\
        Example:\n  beamlink --sname inbox listen sink\n  \
        (then, in erl: {{sink, 'inbox@host'}} ! hello)\n\n{EXIT_CODES}"))]
    Listen {
        #[arg(id = "registered_name", value_name = "NAME")]
        name: String,
        /// Send this term back to each message's sender.
        #[arg(long, value_name = "TERM")]
        reply: Option<String>,
        /// Stop after this many messages.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// An interactive shell evaluated on NODE (Erlang; IEx-like with --elixir), with line
    /// editing and history here and no Erlang installed locally.
    #[command(after_help = format!("{NODE}\nLike `erl -remsh` / `iex --remsh`: each expression runs on \
        NODE, variables stay bound, and io:get_line/IO.gets read from this terminal. Ctrl-C \
        interrupts a running evaluation, or clears the line; Ctrl-C twice on an empty line or \
        Ctrl-D leaves. History is kept in ~/.beamlink_history.\n\n\
        Example:\n  beamlink shell fuga@localhost\n  beamlink --elixir shell fuga\n\n{EXIT_CODES}"))]
    Shell { node: String },
}
