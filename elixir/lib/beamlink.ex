defmodule Beamlink do
  @moduledoc """
  Reach BEAM clusters from a VM that is not distributed.

  Distribution is all or nothing per VM: one name, one cookie, a full mesh. A Mix task, an
  escript, a release used as a CLI, a notebook or a test suite started without `--sname`
  cannot reach a node at all. Beamlink gives such a VM a hidden, outbound-only peer in any
  number of clusters (each `Beamlink.Node` with its own name and cookie): ping, call, spawn
  on and message any node, while `Node.alive?/0` stays false and nothing listens, nothing is
  published in epmd and no remote can run code here.

  The seed session (`iex --sname hoge` talking to `fuga@localhost`), from a plain `elixir`
  script:

      {:ok, _} = Beamlink.start_link(name: :hoge, node: "hoge@localhost", cookie: "mycookie")

      :pong = Beamlink.ping(:hoge, :"fuga@localhost")                   # Node.ping/1
      Beamlink.nodes(:hoge)                                             # Node.list/0
      {:ok, "Hello :hoge, this is fuga@localhost"} =
        Beamlink.call(:hoge, :"fuga@localhost", Person, :say_hello, [:hoge])
      {:ok, _pid} = Beamlink.spawn(:hoge, :"fuga@localhost", Toukon, :say, [])      # Node.spawn/4
      # 元気ですかーーーッ！ appears here, on this VM's console

  and in iex, `Beamlink.spawn(:hoge, :"fuga@localhost", fn -> Toukon.aisatsu() |> IO.puts() end)`
  sends the anonymous function as `Node.spawn/2` would (see `spawn/3` for where it can run).

  In an application, start nodes under your supervisor:

      children = [{Beamlink, name: MyApp.Cluster, node: "myapp", cookie: fn -> System.fetch_env!("COOKIE") end}]

  ## Handles

  Every function takes the node as its first argument, a `t:handle/0`: the `:name` it was
  started with, its pid, or the `Beamlink.Node` struct (`Beamlink.Node.handle/1`).

  ## Waiting

  No function here blocks a scheduler on the network: each operation starts on an engine
  thread and returns; the caller then waits in an ordinary `receive` for a message tagged
  `:"$beamlink"` that the engine sends when the result is in. A caller that dies or stops
  waiting cancels the operation (an erpc call stops its remote process).

  ## Remote pids and our own

  Pids, references and funs that come back in results are ordinary terms, usable for later
  `send/3`, `link/2` and `monitor/2` calls. This VM's own pids (`nonode@nohost` pids) mean
  nothing to a remote node; a process that wants to be reachable uses `pid/1`: its pid on the
  beamlink node, whose messages, exit signals and DOWNs arrive in its own mailbox as ordinary
  messages (see `pid/1`).

  ## Errors

  Functions return `{:ok, value}` or `{:error, exception}`, one exception struct per kind:
  `Beamlink.RemoteError` (the remote raised), `Beamlink.RemoteExit`, `Beamlink.RemoteThrow`,
  `Beamlink.UndefError`, `Beamlink.NoConnectionError` (unreachable, or the node died
  mid-call), `Beamlink.TimeoutError`, `Beamlink.SpawnError`, `Beamlink.BadRpcError`,
  `Beamlink.DecodeError`, `Beamlink.NodeError` and `Beamlink.InternalError` (a caught panic).
  Bang variants raise them; `call!/6` instead behaves exactly as `:erpc.call/5`.
  """

  import Kernel, except: [spawn: 3]
  alias Beamlink.{Error, Native}

  @typedoc "A beamlink node: its registered name, its server pid, or its handle struct."
  @type handle :: atom() | pid() | Beamlink.Node.t()

  @typedoc "Any beamlink exception."
  @type error :: Error.t()

  @typedoc "A remote node, as an atom (`:\"fuga@localhost\"`) or a string."
  @type remote :: node() | String.t()

  @typedoc "Milliseconds, or `:infinity`."
  @type wait :: timeout()

  # :infinity for the engine (u64::MAX; it waits at most a year).
  @infinity 18_446_744_073_709_551_615
  # How long past an operation's own timeout a caller waits before giving up on the engine.
  @grace 10_000

  @doc "A child spec for a `Beamlink.Node`; see `Beamlink.Node.start_link/1` for options."
  @spec child_spec([Beamlink.Node.option()]) :: Supervisor.child_spec()
  defdelegate child_spec(opts), to: Beamlink.Node

  @doc "Starts a `Beamlink.Node` linked to the caller (`Beamlink.Node.start_link/1`)."
  @spec start_link([Beamlink.Node.option()]) :: GenServer.on_start()
  defdelegate start_link(opts), to: Beamlink.Node

  @doc """
  This node's full name.

      iex> {:ok, _} = Beamlink.start_link(name: :doc_name, node: "doc_name@localhost", cookie: "c")
      iex> Beamlink.name(:doc_name)
      :"doc_name@localhost"
  """
  @spec name(handle()) :: node()
  def name(handle), do: Beamlink.Node.handle(handle).name

  @doc """
  Pings `node` as `Node.ping/1` does: `:pong` if it answers, `:pang` if it cannot be reached
  (unknown, down, wrong cookie) within `timeout`.

  Two beamlink nodes in one VM, one listening, with different cookies:

      iex> {:ok, _} = Beamlink.start_link(name: :doc_a, node: "doc_a@localhost", cookie: "one", listen: true)
      iex> {:ok, _} = Beamlink.start_link(name: :doc_b, node: "doc_b@localhost", cookie: "one")
      iex> {:ok, _} = Beamlink.start_link(name: :doc_c, node: "doc_c@localhost", cookie: "two")
      iex> Beamlink.ping(:doc_b, :"doc_a@localhost")
      :pong
      iex> Beamlink.ping(:doc_c, :"doc_a@localhost")
      :pang
      iex> Beamlink.nodes(:doc_b)
      [:"doc_a@localhost"]
  """
  @spec ping(handle(), remote(), wait()) :: :pong | :pang
  def ping(handle, node, timeout \\ 10_000) do
    with {:ok, h} <- Beamlink.Node.resolve(handle),
         {:ok, tag} <- Native.ping(h.ref, to_string(node), millis(timeout)),
         :pong <- await(tag, timeout) do
      :pong
    else
      _ -> :pang
    end
  end

  @doc "The nodes this node is connected to now, sorted (`Node.list(:connected)`)."
  @spec nodes(handle()) :: [node()]
  def nodes(handle), do: Native.nodes(Beamlink.Node.handle(handle).ref)

  @doc """
  Subscribes the caller to node events (`flag` true) or unsubscribes it, as
  `:net_kernel.monitor_nodes/2` does: `{:nodeup, node, info}` when a connection comes up and
  `{:nodedown, node, info}` when it goes, `info` being `[beamlink: our_name]` (and
  `reason: text` for nodedown).
  """
  @spec monitor_nodes(handle(), boolean()) :: :ok
  def monitor_nodes(handle, flag \\ true) when is_boolean(flag) do
    GenServer.call(Beamlink.Node.handle(handle).server, {:monitor_nodes, self(), flag})
  end

  @doc """
  Calls `module.function(args…)` on `node` with `:erpc.call/5` semantics: the function runs in
  a fresh process there, and its value comes back as `{:ok, value}`.

  Failures keep apart what happened: `Beamlink.RemoteError` (it raised; with the remote
  stacktrace), `Beamlink.RemoteExit`, `Beamlink.RemoteThrow`, `Beamlink.UndefError`,
  `Beamlink.NoConnectionError` (unreachable, or the node died mid-call) and
  `Beamlink.TimeoutError` (the call is abandoned and its remote process stopped).

      iex> {:ok, _} = Beamlink.start_link(name: :doc_call, node: "doc_call@localhost", cookie: "c")
      iex> {:error, %Beamlink.NoConnectionError{node: node}} =
      ...>   Beamlink.call(:doc_call, :"nobody@localhost", :erlang, :node, [])
      iex> node
      :"nobody@localhost"

  Against a real node: `Beamlink.call(:hoge, :"fuga@localhost", Enum, :sum, [[1, 2, 3]])`
  returns `{:ok, 6}`.
  """
  @spec call(handle(), remote(), module(), atom(), [term()], wait()) :: {:ok, term()} | {:error, error()}
  def call(handle, node, module, function, args, timeout \\ :infinity)
      when is_atom(module) and is_atom(function) and is_list(args) do
    with {:ok, h} <- Beamlink.Node.resolve(handle),
         {:ok, tag} <-
           Native.call(
             h.ref,
             to_string(node),
             Atom.to_string(module),
             Atom.to_string(function),
             :erlang.term_to_binary(args),
             millis(timeout)
           ) do
      await(tag, timeout)
    end
    |> result({remote(node), module, function})
  end

  @doc """
  Like `call/6`, and behaves exactly as `:erpc.call/5`: returns the value, and a remote
  failure is raised again here with the class and reason `:erpc.call/5` uses, so code written
  for it works unchanged:

    * the remote raised `reason` → `:erlang.error({:exception, reason, remote_stacktrace})`
      (`:undef` included);
    * the remote exited → `exit({:exception, reason})`; its process was killed →
      `exit({:signal, reason})`;
    * the remote threw `value` → `throw(value)`;
    * no connection, or the node died → `:erlang.error({:erpc, :noconnection})`; timeout →
      `:erlang.error({:erpc, :timeout})`; spawn refused → `:erlang.error({:erpc, reason})`.

  Failures with no erpc counterpart (an undecodable reply, a stopped beamlink node) raise
  their exception.

      iex> {:ok, _} = Beamlink.start_link(name: :doc_bang, node: "doc_bang@localhost", cookie: "c")
      iex> catch_error(Beamlink.call!(:doc_bang, :"nobody@localhost", :erlang, :node, []))
      {:erpc, :noconnection}
  """
  @spec call!(handle(), remote(), module(), atom(), [term()], wait()) :: term()
  def call!(handle, node, module, function, args, timeout \\ :infinity) do
    case call(handle, node, module, function, args, timeout) do
      {:ok, value} -> value
      {:error, e} -> raise_as_erpc(e)
    end
  end

  defp raise_as_erpc(%Beamlink.RemoteError{reason: {:erpc, _} = r, stacktrace: []}), do: :erlang.error(r)
  defp raise_as_erpc(%Beamlink.RemoteError{reason: r, stacktrace: st}), do: :erlang.error({:exception, r, st})
  defp raise_as_erpc(%Beamlink.UndefError{stacktrace: st}), do: :erlang.error({:exception, :undef, st})
  defp raise_as_erpc(%Beamlink.RemoteExit{reason: r, signal: false}), do: exit({:exception, r})
  defp raise_as_erpc(%Beamlink.RemoteExit{reason: r, signal: true}), do: exit({:signal, r})
  defp raise_as_erpc(%Beamlink.RemoteThrow{value: v}), do: throw(v)
  defp raise_as_erpc(%Beamlink.NoConnectionError{}), do: :erlang.error({:erpc, :noconnection})
  defp raise_as_erpc(%Beamlink.TimeoutError{}), do: :erlang.error({:erpc, :timeout})
  defp raise_as_erpc(%Beamlink.SpawnError{reason: r}), do: :erlang.error({:erpc, r})
  defp raise_as_erpc(e), do: raise(e)

  @doc """
  Calls `module.function(args…)` on `node` with `:rpc.call/5` semantics, through the remote
  `rex` server: returns the value (a thrown value is returned too) or `{:badrpc, reason}` —
  `{:badrpc, {:EXIT, …}}` when it raised or exited, `{:badrpc, :nodedown}` when the node
  cannot be reached, `{:badrpc, :timeout}`.

      iex> {:ok, _} = Beamlink.start_link(name: :doc_rpc, node: "doc_rpc@localhost", cookie: "c")
      iex> Beamlink.rpc(:doc_rpc, :"nobody@localhost", :erlang, :node, [])
      {:badrpc, :nodedown}
  """
  @spec rpc(handle(), remote(), module(), atom(), [term()], wait()) :: term() | {:badrpc, term()}
  def rpc(handle, node, module, function, args, timeout \\ :infinity)
      when is_atom(module) and is_atom(function) and is_list(args) do
    with {:ok, h} <- Beamlink.Node.resolve(handle),
         {:ok, tag} <-
           Native.rpc(
             h.ref,
             to_string(node),
             Atom.to_string(module),
             Atom.to_string(function),
             :erlang.term_to_binary(args),
             millis(timeout)
           ) do
      await(tag, timeout)
    end
    |> case do
      {:ok, value} -> value
      {:error, {:badrpc, reason}} -> {:badrpc, reason}
      {:error, {:noconnection, _, _}} -> {:badrpc, :nodedown}
      {:error, {:noconnection, _, _, _, _}} -> {:badrpc, :nodedown}
      {:error, {:timeout, _, _}} -> {:badrpc, :timeout}
      {:error, %{__exception__: true} = e} -> {:badrpc, e}
      {:error, native} -> {:badrpc, Error.from_native(native, {remote(node), module, function})}
    end
  end

  @doc """
  Calls `module.function(args…)` on every node at once, each with `call/6` semantics, and
  returns one result per node in the order of `nodes` (as `:erpc.multicall/5`). A node that
  is down gives its own `{:error, %Beamlink.NoConnectionError{}}` without delaying the others.
  """
  @spec multicall(handle(), [remote()], module(), atom(), [term()], wait()) :: [
          {:ok, term()} | {:error, error()}
        ]
  def multicall(handle, nodes, module, function, args, timeout \\ :infinity)
      when is_list(nodes) and is_atom(module) and is_atom(function) and is_list(args) do
    names = Enum.map(nodes, &to_string/1)

    with {:ok, h} <- Beamlink.Node.resolve(handle),
         {:ok, tag} <-
           Native.multicall(
             h.ref,
             names,
             Atom.to_string(module),
             Atom.to_string(function),
             :erlang.term_to_binary(args),
             millis(timeout)
           ) do
      await(tag, timeout)
    end
    |> case do
      {:ok, results} ->
        Enum.zip_with(nodes, results, fn n, r -> result(r, {remote(n), module, function}) end)

      other ->
        e = error(result(other, {nil, module, function}))
        Enum.map(nodes, fn _ -> {:error, e} end)
    end
  end

  defp error({:error, e}), do: e

  @doc """
  Spawns `fun` on `node`, as `Node.spawn/2` does, and returns `{:ok, pid}` once the node has
  started it. What the process prints appears on the caller's group leader (in iex: the local
  console).

  The function is sent as BEAM sends it (`:erlang.term_to_binary/1` makes it an ordinary
  `NEW_FUN_EXT`: the defining module, the fun's index and that module version's checksum,
  and its free variables). The remote node runs it only if it has that very version of the
  module: a fun from a compiled module needs the same `.beam` loaded there; a fun typed in
  iex or made by `Code.eval_string/1` is an `:erl_eval` fun, which runs on a node of the same
  OTP release (and, to call Elixir, one with Elixir loaded). A `fn` written in the body of an
  `.exs` script belongs to a module compiled for that script run (`:elixir_compiler_0`…), which
  no remote node has: make it with `Code.eval_string/1` instead. Otherwise the spawn still succeeds,
  and the process exits at once, as with `Node.spawn/2`: with `{{:badfun, fun}, stack}` when
  the module is loaded there in another version (an iex fun on a node of another OTP
  release), with `{:undef, [{fun, [], []}]}` when it is not loaded at all. `spawn_monitor/3`
  shows the reason.
  """
  @spec spawn(handle(), remote(), (() -> any())) :: {:ok, pid()} | {:error, error()}
  def spawn(handle, node, fun) when is_function(fun, 0), do: spawn(handle, node, :erlang, :apply, [fun, []])

  @doc """
  Spawns `module.function(args…)` on `node` (`Node.spawn/4`); the output comes back to the
  caller's group leader as with `spawn/3`.
  """
  @spec spawn(handle(), remote(), module(), atom(), [term()]) :: {:ok, pid()} | {:error, error()}
  def spawn(handle, node, module, function, args)
      when is_atom(module) and is_atom(function) and is_list(args) do
    start_remote(handle, node, module, function, args, nil)
  end

  @doc """
  Like `spawn/3`, also monitoring the process (`Node.spawn_monitor/2`): returns
  `{:ok, {pid, ref}}`, and `{:DOWN, ref, :process, pid, reason}` arrives when it exits — after
  all of its output has been written to the caller's group leader.
  """
  @spec spawn_monitor(handle(), remote(), (() -> any())) :: {:ok, {pid(), reference()}} | {:error, error()}
  def spawn_monitor(handle, node, fun) when is_function(fun, 0),
    do: spawn_monitor(handle, node, :erlang, :apply, [fun, []])

  @doc "Like `spawn/5`, also monitoring the process, as `spawn_monitor/3`."
  @spec spawn_monitor(handle(), remote(), module(), atom(), [term()]) ::
          {:ok, {pid(), reference()}} | {:error, error()}
  def spawn_monitor(handle, node, module, function, args)
      when is_atom(module) and is_atom(function) and is_list(args) do
    ref = make_ref()

    with {:ok, pid} <- start_remote(handle, node, module, function, args, {self(), ref}) do
      {:ok, {pid, ref}}
    end
  end

  defp start_remote(handle, node, module, function, args, down_to) do
    timeout = 10_000

    with {:ok, h} <- Beamlink.Node.resolve(handle) do
      forwarder = Beamlink.Output.start(Process.group_leader(), down_to)

      reply =
        with {:ok, tag} <-
               Native.spawn(
                 h.ref,
                 to_string(node),
                 Atom.to_string(module),
                 Atom.to_string(function),
                 :erlang.term_to_binary(args),
                 forwarder,
                 millis(timeout)
               ) do
          await(tag, timeout)
        end

      with {:error, _} <- reply, do: Kernel.send(forwarder, :"$beamlink_cancel")
      reply
    end
    |> result({remote(node), module, function})
  end

  @doc "Like `spawn/3`, returning the pid or raising the error."
  @spec spawn!(handle(), remote(), (() -> any())) :: pid()
  def spawn!(handle, node, fun), do: bang(spawn(handle, node, fun))

  @doc "Like `spawn/5`, returning the pid or raising the error."
  @spec spawn!(handle(), remote(), module(), atom(), [term()]) :: pid()
  def spawn!(handle, node, module, function, args), do: bang(spawn(handle, node, module, function, args))

  @doc """
  The calling process's pid on the beamlink node, created on first use.

  Remote nodes cannot address this VM's own pids (it is not distributed). This pid they can:
  messages sent to it, exit signals from processes linked to it (`link/2`) and DOWNs of its
  monitors (`monitor/2`) arrive in the caller's mailbox as ordinary messages — a message as
  sent, `{:EXIT, from, reason}`, `{:DOWN, ref, :process, object, reason}`. Exit signals never
  kill the caller (beamlink processes trap exits). When the caller exits, the beamlink
  process exits with the same reason, which its links and monitors see.

      iex> {:ok, _} = Beamlink.start_link(name: :doc_pid, node: "doc_pid@localhost", cookie: "c")
      iex> {:ok, pid} = Beamlink.pid(:doc_pid)
      iex> node(pid)
      :"doc_pid@localhost"
      iex> :ok = Beamlink.send(:doc_pid, pid, :hello)
      iex> receive do: (m -> m)
      :hello
  """
  @spec pid(handle()) :: {:ok, pid()} | {:error, error()}
  def pid(handle) do
    with {:ok, h} <- Beamlink.Node.resolve(handle) do
      case Native.proxy_lookup(h.ref) do
        {:ok, pid} -> {:ok, pid}
        :none -> GenServer.call(h.server, {:proxy, self()})
        other -> other
      end
      |> result({h.name, nil, nil})
    end
  end

  @doc """
  Registers the caller under `name` on the beamlink node: messages remote nodes send to
  `{name, our_node}` arrive in the caller's mailbox. The name is released when the caller
  exits.

      iex> {:ok, _} = Beamlink.start_link(name: :doc_reg, node: "doc_reg@localhost", cookie: "c")
      iex> :ok = Beamlink.register(:doc_reg, :inbox)
      iex> :ok = Beamlink.send(:doc_reg, {:inbox, :"doc_reg@localhost"}, {:note, 1})
      iex> receive do: ({:note, n} -> n)
      1
      iex> Beamlink.register(:doc_reg, :inbox) |> elem(1) |> Map.get(:kind)
      :name_in_use
  """
  @spec register(handle(), atom()) :: :ok | {:error, error()}
  def register(handle, name) when is_atom(name) do
    with_proxy(handle, fn h -> Native.register(h.ref, Atom.to_string(name)) end)
  end

  @doc "The beamlink pid registered under `name` on this node, or `nil`."
  @spec whereis(handle(), atom()) :: pid() | nil
  def whereis(handle, name) when is_atom(name) do
    Native.whereis(Beamlink.Node.handle(handle).ref, Atom.to_string(name))
  end

  @doc """
  Sends `message` to `dest` from the caller's beamlink pid: a pid (remote, or of the beamlink
  node), `{name, node}`, or a name registered on the beamlink node. Returns `:ok` once it is
  handed to the connection (connecting first if needed), or
  `{:error, %Beamlink.NoConnectionError{}}`. A pid of this VM is sent to directly.
  """
  @spec send(handle(), pid() | atom() | {atom(), remote()}, term()) :: :ok | {:error, error()}
  def send(handle, dest, message)

  def send(_handle, dest, message) when is_pid(dest) and node(dest) == node() do
    Kernel.send(dest, message)
    :ok
  end

  def send(handle, dest, message) do
    dest =
      case dest do
        {name, node} when is_atom(name) and is_binary(node) -> {name, String.to_atom(node)}
        other -> other
      end

    payload = :erlang.term_to_binary(message)
    with_proxy(handle, fn h -> Native.send(h.ref, dest, payload) end)
  end

  @doc "Like `send/3`, raising the error."
  @spec send!(handle(), pid() | atom() | {atom(), remote()}, term()) :: :ok
  def send!(handle, dest, message), do: bang(send(handle, dest, message))

  @doc """
  Links the caller's beamlink pid to `pid`: when `pid` exits, `{:EXIT, pid, reason}` arrives
  in the caller's mailbox (`reason` `:noconnection` if its node goes away); when the caller
  exits, `pid` gets the caller's exit reason.
  """
  @spec link(handle(), pid()) :: :ok | {:error, error()}
  def link(handle, pid) when is_pid(pid), do: with_proxy(handle, fn h -> Native.link(h.ref, pid) end)

  @doc "Removes a link made with `link/2`."
  @spec unlink(handle(), pid()) :: :ok | {:error, error()}
  def unlink(handle, pid) when is_pid(pid), do: with_proxy(handle, fn h -> Native.unlink(h.ref, pid) end)

  @doc """
  Monitors `target` (a pid, or `{name, node}`) from the caller's beamlink pid. Returns
  `{:ok, ref}`; `{:DOWN, ref, :process, target, reason}` arrives when it exits (`:noproc` if
  it did not exist, `:noconnection` if its node goes away).
  """
  @spec monitor(handle(), pid() | {atom(), remote()}) :: {:ok, reference()} | {:error, error()}
  def monitor(handle, target) do
    target =
      case target do
        {name, node} when is_atom(name) and is_binary(node) -> {name, String.to_atom(node)}
        other -> other
      end

    with_proxy(handle, fn h -> Native.monitor(h.ref, target) end)
  end

  @doc "Removes a monitor made with `monitor/2`; no DOWN comes for it afterwards."
  @spec demonitor(handle(), reference()) :: :ok | {:error, error()}
  def demonitor(handle, ref) when is_reference(ref),
    do: with_proxy(handle, fn h -> Native.demonitor(h.ref, ref) end)

  @doc "Sends the exit signal `reason` to `pid` from the caller's beamlink pid (`Process.exit/2`)."
  @spec exit(handle(), pid(), term()) :: :ok | {:error, error()}
  def exit(handle, pid, reason) when is_pid(pid) do
    reason = :erlang.term_to_binary(reason)
    with_proxy(handle, fn h -> Native.exit(h.ref, pid, reason) end)
  end

  ## Helpers

  # Runs a message operation with the caller's beamlink process, creating it on first use.
  defp with_proxy(handle, op) do
    with {:ok, h} <- Beamlink.Node.resolve(handle) do
      case run(h, op) do
        {:error, :none} ->
          with {:ok, _} <- GenServer.call(h.server, {:proxy, self()}), do: run(h, op)

        other ->
          other
      end
      |> result({h.name, nil, nil})
    end
  end

  defp run(h, op) do
    case op.(h) do
      {:ok, tag} when is_reference(tag) -> await(tag, :infinity)
      other -> other
    end
  end

  # The result message of an operation. The engine always answers (its own timeouts bound
  # every wait); the grace period only guards against a lost answer.
  defp await(tag, timeout) do
    receive do
      {:"$beamlink", ^tag, result} -> result
    after
      backstop(timeout) ->
        Native.cancel(tag)

        receive do
          {:"$beamlink", ^tag, result} -> result
        after
          0 -> {:error, {:timeout, "beamlink", timeout}}
        end
    end
  end

  defp backstop(:infinity), do: :infinity
  defp backstop(ms), do: ms + @grace

  defp millis(:infinity), do: @infinity
  defp millis(ms) when is_integer(ms) and ms >= 0, do: ms

  defp remote(node) when is_atom(node), do: node
  defp remote(node) when is_binary(node), do: String.to_atom(node)

  defp result(:ok, _), do: :ok
  defp result({:ok, _} = ok, _), do: ok
  defp result({:error, %{__exception__: true}} = e, _), do: e
  defp result({:error, native}, call), do: {:error, Error.from_native(native, call)}

  defp bang(:ok), do: :ok
  defp bang({:ok, value}), do: value
  defp bang({:error, e}), do: raise(e)
end
