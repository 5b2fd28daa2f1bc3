//! The node handle: starting and closing a node, connecting, ping, the connected nodes, and
//! epmd's list of names.

use std::ffi::{CString, c_char, c_int};
use std::ptr;
use std::time::Duration;

use beamlink::epmd;
use beamlink::runtime::Runtime;
use beamlink::tls::TlsConfig;
use beamlink::{Node, NodeError};

use crate::buf::{bl_epmd_list, bl_strlist, c_string};
use crate::ffi::{self, entry, entry_value};
use crate::status::{Failure, bl_status};
use crate::wait;

/// A beamlink node: a hidden (or visible) peer of a BEAM cluster. Opaque; start it with
/// bl_node_start(), close it with bl_node_close().
pub struct bl_node {
    pub(crate) rt: Runtime,
    pub(crate) node: Node,
    name: CString,
}

/// How to start a node. All-zero (`bl_node_options o = {0};`) is the default: the cookie
/// from `~/.erlang.cookie`, hidden, short names, not listening, plain TCP.
///
/// TLS distribution (the nodes run `-proto_dist inet_tls`): every connection, made or
/// accepted, runs in TLS 1.2 or 1.3, with both sides' certificates checked against the CA, a
/// server's also against the host part of the node name dialed, and a client certificate
/// required by a listening node (`verify_peer`, `fail_if_no_peer_cert`). Either the three PEM
/// files the nodes already have, or their `-ssl_dist_optfile`:
///
/// ```c
/// bl_node_options opts = {0};
/// opts.cookie = "mycookie";
/// opts.tls_certfile = "/etc/erlang/node.pem";     // or, alone:
/// opts.tls_keyfile = "/etc/erlang/node.key";      // opts.ssl_dist_optfile =
/// opts.tls_cacertfile = "/etc/erlang/ca.pem";     //     "/etc/erlang/ssl_dist.conf";
/// bl_node *node;
/// if (bl_node_start("hoge@localhost", &opts, 5000, &node) != BL_OK)
///     fprintf(stderr, "%s\n", bl_error_message());  // BL_TLS_CONFIG: which file, why
/// bl_node_close(node);                            // NULL after a failed start: a no-op
/// ```
///
/// The files are read by bl_node_start(), which fails with BL_TLS_CONFIG (the message names
/// the file and why) when they cannot be used. A connection whose certificates do not pass
/// fails with BL_TLS. Other settings (TLS versions, no host-name check, optional client
/// certificates) are written in an optfile, as for `erl`.
#[repr(C)]
#[derive(Debug)]
pub struct bl_node_options {
    /// The cookie, or NULL to read `~/.erlang.cookie` as `erl` does. Copied.
    pub cookie: *const c_char,
    /// Non-zero: a visible node (it shows in the peers' `nodes()`); 0: hidden, like a C node.
    pub visible: c_int,
    /// Non-zero: long names (`erl -name`, `alive@host.domain`); 0: short (`erl -sname`).
    pub long_names: c_int,
    /// Non-zero: accept connections and publish the name in the local epmd, so other nodes
    /// can connect to this one (a C node).
    pub listen: c_int,
    /// With `listen`: the port to accept on; 0 picks a free one (bl_node_port() tells which).
    pub port: u16,
    /// With `listen`: the only peers let in (`net_kernel:allow/1`), an array of `allow_len`
    /// node names; any other peer's handshake is refused (`not_allowed`). NULL: every node
    /// with the cookie. Copied.
    pub allow: *const *const c_char,
    pub allow_len: usize,
    /// TLS: this node's certificate (PEM, the chain if there is one), as `certfile` in an
    /// optfile. With `tls_keyfile` and `tls_cacertfile`: all three or none. Copied (the
    /// files are read by bl_node_start()).
    pub tls_certfile: *const c_char,
    /// TLS: the private key of `tls_certfile` (PEM: PKCS#8, PKCS#1 or SEC1), as `keyfile`.
    pub tls_keyfile: *const c_char,
    /// TLS: the CA certificates (PEM) a peer's certificate must chain to, as `cacertfile`.
    pub tls_cacertfile: *const c_char,
    /// TLS from an OTP `-ssl_dist_optfile` (`[{server, Opts}, {client, Opts}]`): its client
    /// section when connecting, its server section when accepting; relative file names in it
    /// are taken from the current directory, as `erl` does. Instead of the three `tls_*file`
    /// fields, not with them. Options beamlink cannot honour (`password`, `verify_fun`,
    /// `ciphers`, `crl_check`...) are refused with BL_TLS_CONFIG. Copied.
    pub ssl_dist_optfile: *const c_char,
}

/// The options, read out of the caller's struct.
struct Options<'a> {
    cookie: Option<&'a str>,
    visible: bool,
    long_names: bool,
    listen: Option<u16>,
    allow: Option<Vec<&'a str>>,
    tls: Option<TlsConfig>,
}

impl<'a> Options<'a> {
    /// # Safety
    /// `o` is NULL or a valid options struct whose pointers outlive `'a`.
    unsafe fn read(o: *const bl_node_options) -> Result<Options<'a>, Failure> {
        // SAFETY: per the contract.
        let Some(o) = (unsafe { o.as_ref() }) else {
            return Ok(Options {
                cookie: None,
                visible: false,
                long_names: false,
                listen: None,
                allow: None,
                tls: None,
            });
        };
        let allow = if o.allow.is_null() {
            None
        } else {
            // SAFETY: `allow_len` readable pointers, per the contract.
            let names = unsafe { std::slice::from_raw_parts(o.allow, o.allow_len) };
            Some(
                names
                    .iter()
                    .map(|&n| unsafe { ffi::text(n, "options->allow[i]") })
                    .collect::<Result<Vec<_>, _>>()?,
            )
        };
        Ok(Options {
            cookie: unsafe { ffi::opt_text(o.cookie, "options->cookie") }?,
            visible: o.visible != 0,
            long_names: o.long_names != 0,
            listen: (o.listen != 0).then_some(o.port),
            allow,
            tls: unsafe { tls(o) }?,
        })
    }
}

/// The TLS settings the options name, loaded (the files are read here): none, the three PEM
/// files, or an optfile; any other combination is BL_TLS_CONFIG.
///
/// # Safety
/// `o`'s string pointers are NULL or valid strings.
unsafe fn tls(o: &bl_node_options) -> Result<Option<TlsConfig>, Failure> {
    let cert = unsafe { ffi::opt_path(o.tls_certfile, "options->tls_certfile") }?;
    let key = unsafe { ffi::opt_path(o.tls_keyfile, "options->tls_keyfile") }?;
    let ca = unsafe { ffi::opt_path(o.tls_cacertfile, "options->tls_cacertfile") }?;
    let optfile = unsafe { ffi::opt_path(o.ssl_dist_optfile, "options->ssl_dist_optfile") }?;
    let loaded = match (optfile, cert, key, ca) {
        (None, None, None, None) => return Ok(None),
        (Some(optfile), None, None, None) => TlsConfig::from_optfile(optfile),
        (None, Some(cert), Some(key), Some(ca)) => TlsConfig::from_pem_files(cert, key, ca),
        (Some(_), ..) => {
            return Err(tls_combination(
                "ssl_dist_optfile replaces tls_certfile, tls_keyfile and tls_cacertfile: give one or the other",
            ));
        }
        (None, ..) => {
            let missing: Vec<&str> = [(cert, "tls_certfile"), (key, "tls_keyfile"), (ca, "tls_cacertfile")]
                .into_iter()
                .filter_map(|(p, name)| p.is_none().then_some(name))
                .collect();
            let verb = if missing.len() == 1 { "is" } else { "are" };
            return Err(tls_combination(format_args!(
                "tls_certfile, tls_keyfile and tls_cacertfile go together, but {} {verb} NULL",
                missing.join(" and ")
            )));
        }
    };
    loaded.map(Some).map_err(|e| Failure::node(NodeError::Tls(e)))
}

fn tls_combination(why: impl std::fmt::Display) -> Failure {
    Failure::new(bl_status::BL_TLS_CONFIG, format_args!("TLS settings: {why}"))
}

impl bl_node {
    fn start(name: &str, opts: Options<'_>, timeout: c_int) -> Result<bl_node, Failure> {
        let rt =
            Runtime::shared().map_err(|e| Failure::internal(format_args!("cannot start the engine: {e}")))?;
        let mut b = Node::builder(name).hidden(!opts.visible).long_names(opts.long_names);
        if let Some(c) = opts.cookie {
            b = b.cookie(c);
        }
        if let Some(port) = opts.listen {
            b = b.listen(port);
        }
        if let Some(allow) = opts.allow {
            b = b.allow(allow);
        }
        if let Some(tls) = opts.tls {
            b = b.tls(tls);
        }
        let node = wait::run(&rt, "bl_node_start", ffi::timeout(timeout), b.start())?
            .ok_or_else(|| Failure::timeout(format_args!("starting node {name}"), ffi::timeout(timeout)))?
            .map_err(Failure::node)?;
        let name = c_string(node.name().as_str().to_string());
        Ok(bl_node { rt, node, name })
    }

    /// Runs a node operation with the caller's timeout; the timeout becomes BL_TIMEOUT.
    pub(crate) fn run<F, T>(&self, what: &str, timeout: c_int, fut: F) -> Result<T, Failure>
    where
        F: std::future::Future<Output = Result<T, Failure>> + Send + 'static,
        T: Send + 'static,
    {
        let t = ffi::timeout(timeout);
        wait::run(&self.rt, what, t, fut)?.unwrap_or_else(|| Err(Failure::timeout(what, t)))
    }
}

/// Starts a node called `name`: `"alive"` (this host is added) or `"alive@host"`. `options`
/// may be NULL for the defaults. With `listen` it registers in the local epmd, which may take
/// up to `timeout_ms`.
/// Returns BL_OK with `*out` set, or BL_BAD_NAME, BL_BAD_COOKIE (unreadable cookie file),
/// BL_EPMD_UNREACHABLE, BL_NAME_IN_USE (the name is taken in epmd), BL_BAD_ARGUMENT (the
/// port cannot be listened on), BL_TLS_CONFIG (TLS files or fields that cannot be used; a
/// listening node also needs a certificate and key for its server role), BL_TIMEOUT.
///
/// Ownership: `*out` belongs to the caller, who closes it with bl_node_close(); `name` and
/// `options` are copied. Thread safety: any thread. The first node started in a process
/// starts the engine's threads (two, or `BEAMLINK_THREADS`); they stop when the last node and
/// every handle made from it are freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_node_start(
    name: *const c_char,
    options: *const bl_node_options,
    timeout_ms: c_int,
    out: *mut *mut bl_node,
) -> c_int {
    entry("bl_node_start", || {
        let out = unsafe { ffi::out(out, ptr::null_mut(), "out") }?;
        let name = unsafe { ffi::text(name, "name") }?;
        let opts = unsafe { Options::read(options) }?;
        let node = bl_node::start(name, opts, timeout_ms)?;
        out.set(Box::into_raw(Box::new(node)));
        Ok(())
    })
}

/// Closes the node: its connections close and its name leaves epmd. NULL is a no-op.
/// Handles made from it (processes, calls, spawned processes, event streams) stay valid until
/// freed, but can no longer reach other nodes through it; free them too.
///
/// Ownership: frees `node`. Thread safety: no other thread may be using `node` any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_node_close(node: *mut bl_node) {
    entry_value("bl_node_close", (), || {
        if !node.is_null() {
            // SAFETY: a node from bl_node_start, closed once, per the contract.
            let n = unsafe { Box::from_raw(node) };
            n.node.shutdown();
        }
    })
}

/// The node's full name, `alive@host`.
///
/// Ownership: the string belongs to the node and lives as long as it. Thread safety: any
/// thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_node_name(node: *const bl_node) -> *const c_char {
    // SAFETY: NULL or a live node, per the contract.
    unsafe { node.as_ref() }.map_or(c"".as_ptr(), |n| n.name.as_ptr())
}

/// The port the node accepts connections on, or 0 when it does not listen.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_node_port(node: *const bl_node) -> c_int {
    entry_value("bl_node_port", 0, || {
        // SAFETY: NULL or a live node, per the contract.
        unsafe { node.as_ref() }.and_then(|n| n.node.port()).map_or(0, c_int::from)
    })
}

/// Connects to `target` (`alive@host`) unless already connected: epmd lookup and handshake.
/// Every function that talks to a node connects by itself; this one tells why it cannot:
/// BL_NO_CONNECTION (not registered, unreachable), BL_EPMD_UNREACHABLE, BL_BAD_COOKIE,
/// BL_HANDSHAKE, BL_TLS (certificates refused, or TLS on one side only), BL_BAD_NAME,
/// BL_TIMEOUT.
///
/// Thread safety: any thread; concurrent connects to one target share one attempt.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_connect(node: *mut bl_node, target: *const c_char, timeout_ms: c_int) -> c_int {
    entry("bl_connect", || {
        let n = unsafe { ffi::handle(node, "node") }?;
        let target = unsafe { ffi::text(target, "target") }?.to_string();
        let node = n.node.clone();
        n.run("bl_connect", timeout_ms, async move {
            node.connect(&target).await.map(|_| ()).map_err(Failure::node)
        })
    })
}

/// Closes the connection to `target` (`erlang:disconnect_node/1`). Returns BL_OK, or
/// BL_NO_CONNECTION when there was none.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_disconnect(node: *mut bl_node, target: *const c_char) -> c_int {
    entry("bl_disconnect", || {
        let n = unsafe { ffi::handle(node, "node") }?;
        let target = unsafe { ffi::text(target, "target") }?;
        if n.node.disconnect(target) {
            Ok(())
        } else {
            Err(Failure::new(bl_status::BL_NO_CONNECTION, format_args!("not connected to {target}")))
        }
    })
}

/// `net_adm:ping/1`: BL_OK is pong. Pang comes with its reason: BL_NO_CONNECTION,
/// BL_EPMD_UNREACHABLE, BL_BAD_COOKIE, BL_HANDSHAKE, BL_TLS, BL_BAD_NAME, or BL_TIMEOUT.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_ping(node: *mut bl_node, target: *const c_char, timeout_ms: c_int) -> c_int {
    entry("bl_ping", || {
        let n = unsafe { ffi::handle(node, "node") }?;
        let target = unsafe { ffi::text(target, "target") }?.to_string();
        let node = n.node.clone();
        // The engine's own limit comes after ours, so a slow pong is our BL_TIMEOUT.
        let limit = ffi::timeout_or_long(timeout_ms).saturating_add(Duration::from_secs(2));
        n.run("bl_ping", timeout_ms, async move {
            node.connect(&target).await.map_err(Failure::node)?;
            node.ping_timeout(&target, limit).await.map_err(Failure::node)
        })
    })
}

/// The nodes this node is connected to, sorted (`nodes(connected)`).
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_strlist_free()).
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_nodes(node: *mut bl_node, out: *mut bl_strlist) -> c_int {
    entry("bl_nodes", || {
        let out = unsafe { ffi::out(out, bl_strlist::empty(), "out") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let names = n.node.nodes().into_iter().map(|a| a.as_str().to_string());
        out.set(bl_strlist::from_strings(names));
        Ok(())
    })
}

/// The names registered in the epmd on `host` (NULL: `"localhost"`), as `epmd -names` lists
/// them. `epmd_port` 0 means `$ERL_EPMD_PORT`, else 4369. Returns BL_OK, or
/// BL_EPMD_UNREACHABLE (not running, host unknown, no answer within `timeout_ms`).
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_epmd_list_free()).
/// Thread safety: any thread. Needs no node, but starts the engine while it runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_epmd_names(
    host: *const c_char,
    epmd_port: u16,
    timeout_ms: c_int,
    out: *mut bl_epmd_list,
) -> c_int {
    entry("bl_epmd_names", || {
        let out = unsafe { ffi::out(out, bl_epmd_list::empty(), "out") }?;
        let host = unsafe { ffi::opt_text(host, "host") }?.unwrap_or("localhost").to_string();
        let rt =
            Runtime::shared().map_err(|e| Failure::internal(format_args!("cannot start the engine: {e}")))?;
        let port = if epmd_port == 0 { epmd::port_from_env() } else { epmd_port };
        let client = epmd::Client::new(host.clone(), port).with_timeout(ffi::timeout_or_long(timeout_ms));
        let t = ffi::timeout(timeout_ms);
        let names = wait::run(&rt, "bl_epmd_names", t, async move { client.names().await })?
            .ok_or_else(|| {
                Failure::new(
                    bl_status::BL_EPMD_UNREACHABLE,
                    format_args!("epmd on {host}:{port} did not answer within {timeout_ms} ms"),
                )
            })?
            .map_err(Failure::epmd)?;
        out.set(bl_epmd_list::from_names(names));
        Ok(())
    })
}
