defmodule Beamlink.CallTest do
  use ExUnit.Case, async: false
  doctest Beamlink, only: [name: 1, call: 6, call!: 6, rpc: 6]

  alias Beamlink.{TestNode, TestNodes}

  setup_all do
    server = start_supervised!({Beamlink.Node, cookie: TestNodes.cookie()})
    %{h: Beamlink.Node.handle(server)}
  end

  for kind <- [:otp25, :otp28, :elixir] do
    @kind kind

    test "values of every shape come back from #{kind}", %{h: h} do
      n = TestNodes.get(@kind).name
      assert {:ok, ^n} = Beamlink.call(h, n, :erlang, :node, [])
      assert {:ok, [3, 2, 1]} = Beamlink.call(h, n, :lists, :reverse, [[1, 2, 3]])
      term = {:ok, "bin", [1.5, -(2 ** 90)], %{a: {<<1::3>>}}, [1 | :improper]}
      assert {:ok, ^term} = Beamlink.call(h, n, :erlang, :hd, [[term]])
      # Large arguments go to the engine without a copy; the reply is rebuilt by BEAM.
      big = :binary.copy(<<7, 1, 2>>, 1_000_000)
      assert {:ok, ^big} = Beamlink.call(h, n, :erlang, :iolist_to_binary, [[big]])
      assert {:ok, remote_pid} = Beamlink.call(h, n, :erlang, :whereis, [:init])
      assert node(remote_pid) == n
    end

    test "every error kind is told apart on #{kind}", %{h: h} do
      n = TestNodes.get(@kind).name

      assert {:error, %Beamlink.RemoteError{reason: :boom, stacktrace: [_ | _]} = e} =
               Beamlink.call(h, n, :erlang, :error, [:boom])

      assert Exception.message(e) =~ "raised :boom"

      assert {:error, %Beamlink.RemoteExit{reason: :bye, signal: false}} =
               Beamlink.call(h, n, :erlang, :exit, [:bye])

      assert {:error, %Beamlink.RemoteExit{reason: :killed, signal: true}} =
               Beamlink.call(h, n, :bl_fixtures, :self_kill, [])

      assert {:error, %Beamlink.RemoteThrow{value: :ball}} = Beamlink.call(h, n, :erlang, :throw, [:ball])

      assert {:error, %Beamlink.UndefError{module: :no_such_mod, function: :f, arity: 1, stacktrace: [_ | _]}} =
               Beamlink.call(h, n, :no_such_mod, :f, [1])

      assert {:error, %Beamlink.RemoteError{reason: :undef}} =
               Beamlink.call(h, n, :bl_fixtures, :nested_undef, [])

      assert {:error, %Beamlink.TimeoutError{node: ^n, timeout: 200}} =
               Beamlink.call(h, n, :timer, :sleep, [5_000], 200)

      nobody = :"nobody_#{System.unique_integer([:positive])}@localhost"

      assert {:error, %Beamlink.NoConnectionError{node: ^nobody}} =
               Beamlink.call(h, nobody, :erlang, :node, [])
    end
  end

  # {module, function, args, timeout} run through both erpc (on the helper) and beamlink.
  @cases [
    {:erlang, :node, [], 5_000},
    {:lists, :seq, [1, 5], 5_000},
    {:erlang, :error, [:boom], 5_000},
    {:erlang, :error, [{:badmatch, [1, 2]}], 5_000},
    {:erlang, :binary_to_atom, [1], 5_000},
    {:erlang, :exit, [:bye], 5_000},
    {:erlang, :exit, [{:shutdown, 1}], 5_000},
    {:erlang, :throw, [:ball], 5_000},
    {:bl_fixtures, :self_kill, [], 5_000},
    {:no_such_mod, :f, [1], 5_000},
    {:lists, :no_such_fun, [], 5_000},
    {:bl_fixtures, :nested_undef, [], 5_000},
    {:timer, :sleep, [3_000], 200}
  ]

  @elixir_cases [
    {Map, :fetch!, [%{}, :key], 5_000},
    {String, :to_integer, ["x"], 5_000},
    {Kernel, :exit, [:normal], 5_000}
  ]

  test "call! raises exactly what :erpc.call raises, compared case by case from a distributed helper",
       %{h: h} do
    helper = TestNodes.get(:otp25)

    targets = [
      {TestNodes.get(:otp28).name, @cases},
      {TestNodes.get(:elixir).name, @cases ++ @elixir_cases},
      {:"nobody_#{System.unique_integer([:positive])}@localhost", [{:erlang, :node, [], 5_000}]}
    ]

    for {target, cases} <- targets, {m, f, a, t} <- cases do
      erpc = TestNode.eval!(helper, "bl_fixtures:erpc(#{etf([target, m, f, a, t])}).")

      ours =
        try do
          {:return, Beamlink.call!(h, target, m, f, a, t)}
        catch
          class, reason -> {class, reason}
        end

      assert ours == erpc, "#{target} #{inspect({m, f, a})}"
    end
  end

  test "rpc returns what :rpc.call returns, compared from a distributed helper", %{h: h} do
    helper = TestNodes.get(:otp25)
    target = TestNodes.get(:elixir).name

    cases = [
      {:erlang, :node, [], 5_000},
      {:erlang, :throw, [:ball], 5_000},
      {:erlang, :exit, [:bye], 5_000},
      {:timer, :sleep, [3_000], 200}
    ]

    for {m, f, a, t} <- cases do
      want = TestNode.eval!(helper, "bl_fixtures:rpc(#{etf([target, m, f, a, t])}).")
      assert Beamlink.rpc(h, target, m, f, a, t) == want, inspect({m, f, a})
    end

    # Errors: the same shape and reason (the stack is rex's here and erpc's there).
    for {m, f, a} <- [{:erlang, :error, [:boom]}, {:no_such_mod, :f, [1]}] do
      want = TestNode.eval!(helper, "bl_fixtures:rpc(#{etf([target, m, f, a, 5_000])}).")
      assert {:badrpc, {:EXIT, {reason, [_ | _]}}} = Beamlink.rpc(h, target, m, f, a, 5_000)
      assert {:badrpc, {:EXIT, {^reason, _}}} = want
    end

    nobody = :"nobody_#{System.unique_integer([:positive])}@localhost"
    assert Beamlink.rpc(h, nobody, :erlang, :node, []) == {:badrpc, :nodedown}

    assert TestNode.eval!(helper, "bl_fixtures:rpc(#{etf([nobody, :erlang, :node, [], 5_000])}).") ==
             {:badrpc, :nodedown}
  end

  # The arguments as an Erlang binary literal holding their encoding in base64.
  defp etf(args), do: "<<\"#{args |> :erlang.term_to_binary() |> Base.encode64()}\">>"

  test "multicall: one result per node, in order, a dead node apart", %{h: h} do
    names = TestNodes.all() |> Map.values() |> Enum.map(& &1.name)
    nobody = :"nobody_#{System.unique_integer([:positive])}@localhost"
    results = Beamlink.multicall(h, names ++ [nobody], :erlang, :node, [], 5_000)
    assert Enum.take(results, 3) == Enum.map(names, &{:ok, &1})
    assert [{:error, %Beamlink.NoConnectionError{node: ^nobody}}] = Enum.drop(results, 3)
  end

  test "a node killed mid-call is a no-connection error", %{h: h} do
    n = TestNodes.fresh(:otp28)
    task = Task.async(fn -> Beamlink.call(h, n.name, :timer, :sleep, [30_000], 60_000) end)
    wait_until(fn -> n.name in Beamlink.nodes(h) end)
    Process.sleep(100)
    TestNode.kill(n)
    assert {:error, %Beamlink.NoConnectionError{node: name}} = Task.await(task, 20_000)
    assert name == n.name
    TestNode.stop(n)
  end

  test "a caller that dies stops its remote call", %{h: h} do
    n = TestNodes.get(:elixir)
    name = :"bl_sleeper_#{System.unique_integer([:positive])}"

    {pid, ref} =
      spawn_monitor(fn -> Beamlink.call(h, n.name, :bl_fixtures, :registered_sleeper, [name, 60_000]) end)

    wait_until(fn -> TestNode.eval!(n, "is_pid(whereis('#{name}')).") end)
    Process.exit(pid, :kill)
    assert_receive {:DOWN, ^ref, :process, ^pid, :killed}
    wait_until(fn -> TestNode.eval!(n, "whereis('#{name}').") == :undefined end)
  end

  test "1000 concurrent calls from 1000 processes each get their own answer", %{h: h} do
    n = TestNodes.get(:otp28).name

    1..1000
    |> Enum.map(fn i -> Task.async(fn -> {i, Beamlink.call(h, n, :erlang, :abs, [-i], 30_000)} end) end)
    |> Task.await_many(60_000)
    |> Enum.each(fn {i, r} -> assert r == {:ok, i} end)
  end

  test "atoms: a handle that allows existing atoms only refuses replies naming new ones", %{h: h} do
    strict = start_supervised!({Beamlink.Node, cookie: TestNodes.cookie(), atoms: :existing}, id: :strict)
    n = TestNodes.get(:otp25).name
    i = System.unique_integer([:positive])

    assert {:error, %Beamlink.DecodeError{reason: :unknown_atom}} =
             Beamlink.call(strict, n, :bl_fixtures, :make_atom, [i])

    assert {:ok, atom} = Beamlink.call(h, n, :bl_fixtures, :make_atom, [i])
    assert Atom.to_string(atom) == "bl_fresh_atom_#{i}"
    # Now it exists: the strict handle takes it.
    assert {:ok, ^atom} = Beamlink.call(strict, n, :bl_fixtures, :make_atom, [i])
  end

  test "panics become errors and the VM lives on", %{h: h} do
    assert {:error, {:panic, "NIF body panicked on purpose"}} = Beamlink.Native.panic_for_test(h.ref, :nif)

    for place <- [:engine, :reply] do
      {:ok, tag} = Beamlink.Native.panic_for_test(h.ref, place)
      assert_receive {:"$beamlink", ^tag, {:error, {:panic, text}}}, 5_000
      assert text =~ "on purpose"
    end

    assert {:ok, _} = Beamlink.call(h, TestNodes.get(:otp25).name, :erlang, :node, [])
  end

  defp wait_until(fun, tries \\ 200) do
    cond do
      fun.() -> :ok
      tries == 0 -> flunk("condition never held")
      true -> Process.sleep(50) && wait_until(fun, tries - 1)
    end
  end
end
