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
      `Beamlink.DecodeError` (`:unknown_atom`), so no peer can grow the atom table.
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

  @doc """
  Starts a node and links it to the caller.

      iex> {:ok, server} = Beamlink.Node.start_link(node: "doc_start", cookie: "secret")
      iex> Beamlink.Node.handle(server).name |> Atom.to_string() |> String.starts_with?("doc_start@")
      true
      iex> Beamlink.Node.stop(server)
      :ok
  """
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts) do
    {gen_opts, opts} =
      case Keyword.fetch(opts, :name) do
        {:ok, name} when is_atom(name) -> {[name: name], opts}
        {:ok, other} -> raise ArgumentError, ":name must be an atom, got: #{inspect(other)}"
        :error -> {[], opts}
      end

    GenServer.start_link(__MODULE__, opts, gen_opts)
  end

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
      existing_atoms: Keyword.get(opts, :atoms, :create) == :existing
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
