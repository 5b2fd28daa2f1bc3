defmodule Beamlink.Node do
  @moduledoc """
  A beamlink node: this VM's hidden, outbound-only peer identity in one cluster.

  Started under a supervisor with `Beamlink.child_spec/1` (or `start_link/1`), it owns the
  native node (connections are made on demand, each operation on an engine thread) and
  closes it when it stops. Several can run in one VM, each with its own name and cookie, to
  reach several clusters at once.

  The handle the `Beamlink` functions take is the `:name` given at start (an atom: looked up
  in an ETS table this server owns), the server's pid, or the `t:t/0` struct
  `handle/1` returns (no lookup at all).

  ## What a beamlink node is not

  It is not `Node.start/3`: the VM stays non-distributed (`Node.alive?/0` is false), nothing
  listens and nothing is published in epmd (unless `listen:` is given), so no remote node can
  connect to it, ping it or run code in this VM. Remote nodes see it as a hidden node only
  while it holds a connection to them; it never joins the mesh and `global` ignores it.
  """
  use GenServer

  @enforce_keys [:ref, :server, :name]
  defstruct [:ref, :server, :name]

  @typedoc "A started node: use it where a `t:Beamlink.handle/0` is expected."
  @type t :: %__MODULE__{ref: reference(), server: pid(), name: node()}

  @typedoc """
  Options for `start_link/1`:

    * `:name` — an atom to refer to the node by (registers the server and its handle table);
    * `:node` — this node's name, `"hoge"` (host added) or `"hoge@localhost"` / `:"hoge@host"`
      (default: `beamlink_<OS pid>_<n>`);
    * `:cookie` — a string, or a zero-arity function returning one (so the cookie does not
      sit in the child spec); default: `~/.erlang.cookie`, as `erl` reads it;
    * `:long_names` — `erl -name` style names instead of `-sname` (default `false`);
    * `:hidden` — connect as a hidden node (default `true`);
    * `:listen` — `false` (default: outbound only), `true` (any port) or a port number: accept
      connections and publish the name in epmd, like a C node;
    * `:connect_timeout` — milliseconds for connecting and each handshake step (default 7000);
    * `:net_ticktime` — seconds, as OTP's `net_ticktime` (default 60);
    * `:atoms` — `:create` (default, as distribution does) or `:existing`: terms from the
      network may only name atoms that exist, otherwise they come back as
      `Beamlink.DecodeError` (`:unknown_atom`), so no peer can grow the atom table;
    * `:tls` — TLS distribution, to reach nodes started with `-proto_dist inet_tls`: a
      keyword list of `t:tls_option/0` (default `false`: plain TCP). See `start_link/1`.
  """
  @type option ::
          {:name, atom()}
          | {:node, String.t() | node()}
          | {:cookie, String.t() | (() -> String.t())}
          | {:long_names, boolean()}
          | {:hidden, boolean()}
          | {:listen, boolean() | :inet.port_number()}
          | {:connect_timeout, non_neg_integer()}
          | {:net_ticktime, pos_integer()}
          | {:atoms, :create | :existing}
          | {:tls, [tls_option()] | false}

  @typedoc """
  TLS distribution settings (the `:tls` option), named as in OTP's `-ssl_dist_optfile` and
  `:ssl` options:

    * `:certfile` — this node's certificate (PEM; a chain may follow it);
    * `:keyfile` — its private key (PEM: PKCS#8, PKCS#1 or SEC1; default: read from `:certfile`);
    * `:cacertfile` — the CA certificates that sign the cluster's nodes (PEM);
    * `:versions` — `[:"tlsv1.3"]`, `[:"tlsv1.2"]` or both (the default);
    * `:server_name_indication` — `:disable` to check only that a node's certificate chains
      to the CA, not that it names the host dialed (checked by default, as OTP does);
    * `:fail_if_no_peer_cert` — with `listen:`, refuse a client without a certificate
      (default `true`);
    * `:verify` — `:verify_peer`, the only mode here (peers are always verified);
    * `:ssl_dist_optfile` — instead of all of the above: the file the nodes are started with
      (`erl -ssl_dist_optfile FILE`), its `client` section used to connect and its `server`
      section to accept.
  """
  @type tls_option ::
          {:certfile, Path.t()}
          | {:keyfile, Path.t()}
          | {:cacertfile, Path.t()}
          | {:versions, [:"tlsv1.2" | :"tlsv1.3"]}
          | {:server_name_indication, :disable}
          | {:fail_if_no_peer_cert, boolean()}
          | {:verify, :verify_peer}
          | {:ssl_dist_optfile, Path.t()}

  @doc """
  Starts a node and links it to the caller.

      iex> {:ok, server} = Beamlink.Node.start_link(node: "doc_start", cookie: "secret")
      iex> Beamlink.Node.handle(server).name |> Atom.to_string() |> String.starts_with?("doc_start@")
      true
      iex> Beamlink.Node.stop(server)
      :ok

  ## TLS distribution

  Nodes started with `-proto_dist inet_tls -ssl_dist_optfile FILE` are reached over TLS (1.2
  or 1.3) when `:tls` gives the PEM files those nodes use (see `t:tls_option/0`):

      {:ok, _} =
        Beamlink.Node.start_link(
          name: :secure,
          cookie: "secret",
          tls: [certfile: "node.pem", keyfile: "node.key", cacertfile: "ca.pem", versions: [:"tlsv1.3"]]
        )

      # or the nodes' own optfile:
      Beamlink.Node.start_link(name: :secure, tls: [ssl_dist_optfile: "/etc/erlang/ssl_dist.conf"])

  Both sides are verified, as with `{verify, verify_peer}` and `{fail_if_no_peer_cert, true}`:
  a node's certificate must chain to `:cacertfile` and name the host dialed, and ours must
  satisfy the node. Options that are not TLS settings raise `ArgumentError` here:

      iex> Beamlink.Node.start_link(tls: [certfile: "node.pem"])
      ** (ArgumentError) tls: :cacertfile is required (the CA certificates that sign the nodes), or give :ssl_dist_optfile

  Files that cannot be used stop the start with a `Beamlink.NodeError` of kind `:tls_config`
  (the caller, linked, gets the exit signal too):

      iex> Process.flag(:trap_exit, true)
      iex> {:error, %Beamlink.NodeError{kind: :tls_config, detail: detail}} =
      ...>   Beamlink.Node.start_link(tls: [certfile: "/nonexistent/node.pem", cacertfile: "/nonexistent/ca.pem"])
      iex> detail
      "TLS settings: cannot read certificate from /nonexistent/node.pem: No such file or directory (os error 2)"

  A handshake that fails makes the operation fail with the reason: a call returns
  `{:error, %Beamlink.NoConnectionError{kind: :tls, reason: {:unknown_ca, :theirs}}}` when the
  node's certificate is not signed by `:cacertfile` (`{:unknown_ca, :ours}` when the node
  refuses ours), `:wrong_host_name`, `{:expired, whose}`… (see `Beamlink.NoConnectionError`).
  """
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts) do
    {gen_opts, opts} =
      case Keyword.fetch(opts, :name) do
        {:ok, name} when is_atom(name) -> {[name: name], opts}
        {:ok, other} -> raise ArgumentError, ":name must be an atom, got: #{inspect(other)}"
        :error -> {[], opts}
      end

    opts =
      case Keyword.fetch(opts, :tls) do
        {:ok, tls} -> Keyword.put(opts, :tls, tls_options(tls))
        :error -> opts
      end

    GenServer.start_link(__MODULE__, opts, gen_opts)
  end

  @tls_keys [
    :certfile,
    :keyfile,
    :cacertfile,
    :versions,
    :server_name_indication,
    :fail_if_no_peer_cert,
    :verify,
    :ssl_dist_optfile
  ]

  # The :tls option checked and made the map the NIF reads (bindings/elixir/src/node.rs,
  # TlsOptions); the files themselves are read when the node starts.
  defp tls_options(off) when off in [nil, false], do: nil

  defp tls_options(opts) when is_list(opts) do
    unless Keyword.keyword?(opts),
      do: raise(ArgumentError, "tls: expected a keyword list, got: #{inspect(opts)}")

    case Keyword.keys(opts) -- @tls_keys do
      [] ->
        :ok

      unknown ->
        raise ArgumentError, "tls: unknown options #{inspect(unknown)} (known: #{inspect(@tls_keys)})"
    end

    base = %{
      ssl_dist_optfile: nil,
      certfile: nil,
      keyfile: nil,
      cacertfile: nil,
      versions: [],
      check_host_name: true,
      fail_if_no_peer_cert: true
    }

    case Keyword.fetch(opts, :ssl_dist_optfile) do
      {:ok, file} ->
        case Keyword.keys(opts) -- [:ssl_dist_optfile] do
          [] ->
            :ok

          others ->
            raise ArgumentError, "tls: :ssl_dist_optfile holds every setting, leave out #{inspect(others)}"
        end

        %{base | ssl_dist_optfile: path!(file, :ssl_dist_optfile)}

      :error ->
        verify!(Keyword.get(opts, :verify, :verify_peer))

        certfile =
          Keyword.get(opts, :certfile) ||
            raise(ArgumentError, "tls: :certfile is required, or give :ssl_dist_optfile")

        cacertfile =
          Keyword.get(opts, :cacertfile) ||
            raise(
              ArgumentError,
              "tls: :cacertfile is required (the CA certificates that sign the nodes), or give :ssl_dist_optfile"
            )

        %{
          base
          | certfile: path!(certfile, :certfile),
            keyfile: if(k = Keyword.get(opts, :keyfile), do: path!(k, :keyfile)),
            cacertfile: path!(cacertfile, :cacertfile),
            versions: versions!(Keyword.get(opts, :versions, [:"tlsv1.3", :"tlsv1.2"])),
            check_host_name: sni!(Keyword.get(opts, :server_name_indication)),
            fail_if_no_peer_cert:
              boolean!(Keyword.get(opts, :fail_if_no_peer_cert, true), :fail_if_no_peer_cert)
        }
    end
  end

  defp tls_options(other),
    do: raise(ArgumentError, "tls: expected a keyword list of TLS settings or false, got: #{inspect(other)}")

  defp path!(p, key) when is_binary(p) and p != "" do
    if String.valid?(p),
      do: p,
      else: raise(ArgumentError, "tls: #{inspect(key)} must be UTF-8 text, got: #{inspect(p)}")
  end

  defp path!(p, key) when is_list(p) and p != [], do: path!(IO.chardata_to_string(p), key)
  defp path!(p, key), do: raise(ArgumentError, "tls: #{inspect(key)} must be a file name, got: #{inspect(p)}")

  defp versions!(vs) when is_list(vs) and vs != [] do
    Enum.map(vs, fn
      :"tlsv1.3" ->
        "tlsv1.3"

      :"tlsv1.2" ->
        "tlsv1.2"

      v ->
        raise ArgumentError, "tls: :versions may hold :\"tlsv1.2\" and :\"tlsv1.3\" only, got: #{inspect(v)}"
    end)
  end

  defp versions!(vs),
    do:
      raise(
        ArgumentError,
        "tls: :versions must be a non-empty list such as [:\"tlsv1.3\"], got: #{inspect(vs)}"
      )

  defp sni!(nil), do: true
  defp sni!(:disable), do: false

  defp sni!(other),
    do:
      raise(
        ArgumentError,
        "tls: :server_name_indication may only be :disable here (to check another host name, " <>
          "use an :ssl_dist_optfile), got: #{inspect(other)}"
      )

  defp boolean!(b, _key) when is_boolean(b), do: b

  defp boolean!(b, key),
    do: raise(ArgumentError, "tls: #{inspect(key)} must be true or false, got: #{inspect(b)}")

  defp verify!(:verify_peer), do: :ok

  defp verify!(other),
    do:
      raise(
        ArgumentError,
        "tls: :verify may only be :verify_peer (beamlink always verifies peers with these options), got: #{inspect(other)}"
      )

  @doc "A child spec: `{Beamlink.Node, opts}` or `Beamlink.child_spec(opts)`."
  @spec child_spec([option()]) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{id: Keyword.get(opts, :name, __MODULE__), start: {__MODULE__, :start_link, [opts]}, type: :worker}
  end

  @doc "Stops the node: its connections close and its handle stops working."
  @spec stop(GenServer.server()) :: :ok
  def stop(server), do: GenServer.stop(server)

  @doc "The handle struct of a node given by name, pid or struct."
  @spec handle(Beamlink.handle()) :: t()
  def handle(%__MODULE__{} = h), do: h

  def handle(name) when is_atom(name) do
    :ets.lookup_element(name, :handle, 2)
  rescue
    ArgumentError ->
      raise Beamlink.NodeError, kind: :not_started, detail: "no beamlink node named #{inspect(name)}"
  end

  def handle(pid) when is_pid(pid), do: GenServer.call(pid, :handle)

  @doc false
  # The handle, or the error that a stopped or unknown node gives.
  def resolve(h) do
    {:ok, handle(h)}
  rescue
    e in Beamlink.NodeError -> {:error, e}
  catch
    :exit, _ -> {:error, %Beamlink.NodeError{kind: :closed, detail: "the beamlink node was stopped"}}
  end

  ## Server

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)

    native_opts = %{
      name: node_name(Keyword.get(opts, :node)),
      cookie: cookie(Keyword.get(opts, :cookie)),
      long_names: Keyword.get(opts, :long_names, false),
      hidden: Keyword.get(opts, :hidden, true),
      listen: listen(Keyword.get(opts, :listen, false)),
      connect_timeout: Keyword.get(opts, :connect_timeout, 7_000),
      net_ticktime: Keyword.get(opts, :net_ticktime, 60) * 1000,
      existing_atoms: Keyword.get(opts, :atoms, :create) == :existing,
      tls: Keyword.get(opts, :tls)
    }

    with {:ok, tag} <- Beamlink.Native.node_start(native_opts),
         {:ok, ref} <- await(tag) do
      name = Beamlink.Native.node_name(ref)
      handle = %__MODULE__{ref: ref, server: self(), name: name}
      :ok = Beamlink.Native.subscribe(ref, self())

      with {:ok, registered} <- Keyword.fetch(opts, :name) do
        :ets.new(registered, [:named_table, :protected, read_concurrency: true])
        :ets.insert(registered, {:handle, handle})
      end

      {:ok, %{handle: handle, owners: %{}, subscribers: %{}}}
    else
      {:error, native} -> {:stop, Beamlink.Error.from_native(native)}
    end
  end

  defp await(tag) do
    receive do
      {:"$beamlink", ^tag, result} -> result
    end
  end

  defp node_name(nil),
    do: "beamlink_#{System.pid()}_#{System.unique_integer([:positive, :monotonic])}"

  defp node_name(name) when is_atom(name), do: Atom.to_string(name)
  defp node_name(name) when is_binary(name), do: name

  defp cookie(nil), do: nil
  defp cookie(fun) when is_function(fun, 0), do: cookie(fun.())
  defp cookie(c) when is_binary(c), do: c
  defp cookie(c) when is_atom(c), do: Atom.to_string(c)

  defp listen(false), do: nil
  defp listen(true), do: 0
  defp listen(port) when is_integer(port) and port in 0..65535, do: port

  @impl true
  def handle_call(:handle, _from, state), do: {:reply, state.handle, state}

  def handle_call({:proxy, owner}, _from, state) do
    reply = Beamlink.Native.proxy_create(state.handle.ref, owner)

    owners =
      case {reply, state.owners} do
        {{:ok, _}, %{^owner => _}} -> state.owners
        {{:ok, _}, owners} -> Map.put(owners, owner, Process.monitor(owner))
        _ -> state.owners
      end

    {:reply, reply, %{state | owners: owners}}
  end

  def handle_call({:monitor_nodes, pid, true}, _from, state) do
    subs = Map.put_new_lazy(state.subscribers, pid, fn -> Process.monitor(pid) end)
    {:reply, :ok, %{state | subscribers: subs}}
  end

  def handle_call({:monitor_nodes, pid, false}, _from, state) do
    {mref, subs} = Map.pop(state.subscribers, pid)
    if mref, do: Process.demonitor(mref, [:flush])
    {:reply, :ok, %{state | subscribers: subs}}
  end

  @impl true
  def handle_info({:"$beamlink_node", kind, node, reason}, state) do
    info = [beamlink: state.handle.name] ++ if(reason, do: [reason: reason], else: [])
    msg = if kind == :up, do: {:nodeup, node, info}, else: {:nodedown, node, info}
    for {pid, _} <- state.subscribers, do: send(pid, msg)
    {:noreply, state}
  end

  def handle_info({:DOWN, _mref, :process, pid, reason}, state) do
    state =
      case Map.pop(state.owners, pid) do
        {nil, _} ->
          state

        {_mref, owners} ->
          Beamlink.Native.proxy_end(state.handle.ref, pid, :erlang.term_to_binary(reason))
          %{state | owners: owners}
      end

    {:noreply, %{state | subscribers: Map.delete(state.subscribers, pid)}}
  end

  def handle_info(_other, state), do: {:noreply, state}

  @impl true
  def terminate(_reason, state) do
    Beamlink.Native.node_close(state.handle.ref)
  end
end
