defmodule Beamlink.SpawnTest do
  use ExUnit.Case, async: false

  alias Beamlink.{TestNode, TestNodes}

  setup_all do
    server = start_supervised!({Beamlink.Node, cookie: TestNodes.cookie()})
    %{h: Beamlink.Node.handle(server)}
  end

  # Runs `fun` with a fresh StringIO as the caller's group leader; returns its result and
  # what was written there.
  defp with_console(fun) do
    {:ok, dev} = StringIO.open("")
    old = Process.group_leader()
    Process.group_leader(self(), dev)

    try do
      r = fun.()
      {r, dev}
    after
      Process.group_leader(self(), old)
    end
  end

  defp written(dev), do: dev |> StringIO.contents() |> elem(1)

  test "the seed: a script's anonymous function runs on an Elixir node and prints on our console", %{h: h} do
    n = TestNodes.get(:elixir).name
    # What an .exs script or iex gives: an :erl_eval fun.
    {fun, _} = Code.eval_string("fn -> Toukon.aisatsu() |> IO.puts() end")
    {r, dev} = with_console(fn -> Beamlink.spawn_monitor(h, n, fun) end)
    assert {:ok, {pid, ref}} = r
    assert node(pid) == n
    assert_receive {:DOWN, ^ref, :process, ^pid, :normal}, 10_000
    assert written(dev) == "元気ですかーーーッ！\n"
  end

  test "spawn/3 with the same function: output arrives as Node.spawn's does", %{h: h} do
    n = TestNodes.get(:elixir).name
    {fun, _} = Code.eval_string("fn -> Toukon.aisatsu() |> IO.puts() end")
    {r, dev} = with_console(fn -> Beamlink.spawn(h, n, fun) end)
    assert {:ok, pid} = r
    assert node(pid) == n
    wait_until(fn -> written(dev) == "元気ですかーーーッ！\n" end)
  end

  for kind <- [:otp25, :otp28, :elixir] do
    @kind kind
    test "spawn(m, f, a) on #{kind}: io:format and unicode output come back", %{h: h} do
      n = TestNodes.get(@kind).name
      {r, dev} = with_console(fn -> Beamlink.spawn_monitor(h, n, :bl_fixtures, :printer, [42]) end)
      assert {:ok, {pid, ref}} = r
      assert_receive {:DOWN, ^ref, :process, ^pid, :normal}, 10_000
      assert written(dev) == "hi 42\nünï\n"
    end
  end

  test "a fun from a compiled module runs where that module version is loaded, and only there", %{h: h} do
    n = TestNodes.get(:elixir).name
    {mod, bin, file} = :code.get_object_code(Beamlink.SpawnFuns)
    assert {:ok, {:module, ^mod}} = Beamlink.call(h, n, :code, :load_binary, [mod, file, bin])
    {r, dev} = with_console(fn -> Beamlink.spawn_monitor(h, n, Beamlink.SpawnFuns.printer("closure")) end)
    assert {:ok, {pid, ref}} = r
    assert_receive {:DOWN, ^ref, :process, ^pid, :normal}, 10_000
    assert written(dev) == "from a compiled fun: closure\n"

    # A node without the module: the spawn succeeds, the process cannot run the fun.
    other = TestNodes.get(:otp25).name
    {r, _} = with_console(fn -> Beamlink.spawn_monitor(h, other, Beamlink.SpawnFuns.printer("x")) end)
    assert {:ok, {pid, ref}} = r
    assert_receive {:DOWN, ^ref, :process, ^pid, reason}, 10_000
    assert {:undef, [{f, [], _} | _]} = reason
    assert Function.info(f, :module) == {:module, Beamlink.SpawnFuns}
  end

  test "an :erl_eval fun on a node of another OTP release exits with badfun", %{h: h} do
    n = TestNodes.get(:otp28).name
    {fun, _} = Code.eval_string("fn -> :ok end")
    assert {:ok, {pid, ref}} = Beamlink.spawn_monitor(h, n, fun)
    assert_receive {:DOWN, ^ref, :process, ^pid, reason}, 10_000
    assert {{:badfun, ^fun}, _stack} = reason
  end

  test "spawn errors: an unreachable node, and a node that runs no code", %{h: h} do
    nobody = :"nobody_#{System.unique_integer([:positive])}@localhost"

    assert {:error, %Beamlink.NoConnectionError{node: ^nobody}} =
             Beamlink.spawn(h, nobody, :erlang, :node, [])

    assert_raise Beamlink.NoConnectionError, fn -> Beamlink.spawn!(h, nobody, fn -> :ok end) end
    listening = start_supervised!({Beamlink.Node, cookie: TestNodes.cookie(), listen: true}, id: :l)

    assert {:error, %Beamlink.SpawnError{reason: :notsup}} =
             Beamlink.spawn(h, Beamlink.name(listening), :erlang, :node, [])
  end

  test "a remote process that never ends keeps its output flowing", %{h: h} do
    n = TestNodes.get(:otp28)
    name = :"bl_printer_#{System.unique_integer([:positive])}"

    code =
      "fun() -> register('#{name}', self()), [begin io:format(\"tick ~p~n\", [I]), timer:sleep(20) end || I <- lists:seq(1, 5)], receive stop -> ok end end"

    {:ok, fun} =
      TestNode.eval(n, "F = #{code}, term_to_binary(F).")
      |> then(fn {:ok, b} -> {:ok, :erlang.binary_to_term(b)} end)

    {r, dev} = with_console(fn -> Beamlink.spawn_monitor(h, n.name, fun) end)
    assert {:ok, {pid, ref}} = r
    wait_until(fn -> written(dev) =~ "tick 5\n" end)
    assert written(dev) == Enum.map_join(1..5, &"tick #{&1}\n")
    :ok = Beamlink.send(h, pid, :stop)
    assert_receive {:DOWN, ^ref, :process, ^pid, :normal}, 10_000
  end

  defp wait_until(fun, tries \\ 200) do
    cond do
      fun.() -> :ok
      tries == 0 -> flunk("condition never held")
      true -> Process.sleep(25) && wait_until(fun, tries - 1)
    end
  end
end
