defmodule Beamlink.MessageTest do
  use ExUnit.Case, async: false
  doctest Beamlink, only: [pid: 1, register: 2]

  alias Beamlink.{TestNode, TestNodes}

  setup_all do
    server = start_supervised!({Beamlink.Node, cookie: TestNodes.cookie()})
    %{h: Beamlink.Node.handle(server)}
  end

  defp echo(h, kind) do
    {:ok, pid} = Beamlink.spawn(h, TestNodes.get(kind).name, :bl_fixtures, :echo_server, [])
    pid
  end

  test "each process has its own beamlink pid, the same on every ask", %{h: h} do
    {:ok, me} = Beamlink.pid(h)
    assert node(me) == h.name
    assert {:ok, ^me} = Beamlink.pid(h)
    other = Task.async(fn -> Beamlink.pid(h) end) |> Task.await()
    assert {:ok, them} = other
    assert them != me and node(them) == h.name
  end

  for kind <- [:otp25, :otp28, :elixir] do
    @kind kind
    test "a remote pid from a result takes messages, and replies reach our beamlink pid (#{kind})", %{h: h} do
      remote = echo(h, @kind)
      {:ok, me} = Beamlink.pid(h)
      :ok = Beamlink.send(h, remote, {me, {:hi, "there", [1.5]}})
      assert_receive {:echo, {:hi, "there", [1.5]}}, 5_000
      :ok = Beamlink.send(h, remote, :stop)
    end

    test "a name registered through beamlink takes messages from a #{kind} node", %{h: h} do
      n = TestNodes.get(@kind)
      name = :"inbox_#{@kind}_#{System.unique_integer([:positive])}"
      :ok = Beamlink.register(h, name)
      assert Beamlink.whereis(h, name) == elem(Beamlink.pid(h), 1)
      # The remote can send only over a connection we opened.
      assert Beamlink.ping(h, n.name) == :pong

      assert {:ok, :ok} =
               TestNode.eval(n, "bl_fixtures:send_to({'#{name}', '#{h.name}'}, {hello, <<\"x\">>}).")

      assert_receive {:hello, "x"}, 5_000
    end
  end

  test "send to {name, node} on a remote node", %{h: h} do
    n = TestNodes.get(:otp28).name
    name = :"echo_#{System.unique_integer([:positive])}"
    {:ok, _} = Beamlink.spawn(h, n, :bl_fixtures, :registered_echo, [name])
    {:ok, me} = Beamlink.pid(h)
    wait_until(fn -> match?({:ok, pid} when is_pid(pid), Beamlink.call(h, n, :erlang, :whereis, [name])) end)
    :ok = Beamlink.send(h, {name, n}, {me, :named})
    assert_receive {:echo, :named}, 5_000
    :ok = Beamlink.send(h, {name, Atom.to_string(n)}, :stop)
  end

  test "references and pids that come back stay usable", %{h: h} do
    n = TestNodes.get(:elixir).name
    {:ok, ref} = Beamlink.call(h, n, :bl_fixtures, :with_ref, [])
    assert node(ref) == n
    assert {:ok, ^ref} = Beamlink.call(h, n, :persistent_term, :get, [:bl_fixtures_ref])
    assert {:ok, true} = Beamlink.call(h, n, :erlang, :"=:=", [ref, ref])
    remote = echo(h, :elixir)
    {:ok, me} = Beamlink.pid(h)
    :ok = Beamlink.send(h, remote, {me, {ref, remote}})
    assert_receive {:echo, {^ref, ^remote}}, 5_000
  end

  test "a send to an unreachable node is a no-connection error", %{h: h} do
    nobody = :"nobody_#{System.unique_integer([:positive])}@localhost"
    assert {:error, %Beamlink.NoConnectionError{node: ^nobody}} = Beamlink.send(h, {:x, nobody}, :hi)
    assert_raise Beamlink.NoConnectionError, fn -> Beamlink.send!(h, {:x, nobody}, :hi) end
    # A pid of this VM is sent to directly.
    assert :ok = Beamlink.send(h, self(), :local)
    assert_receive :local
  end

  test "link: the remote's exit arrives as an EXIT message, and never kills us", %{h: h} do
    remote = echo(h, :otp25)
    :ok = Beamlink.link(h, remote)
    :ok = Beamlink.exit(h, remote, :shot)
    assert_receive {:EXIT, ^remote, :shot}, 5_000
    assert Process.alive?(self())

    remote = echo(h, :otp28)
    :ok = Beamlink.link(h, remote)
    :ok = Beamlink.unlink(h, remote)
    :ok = Beamlink.send(h, remote, :stop)
    refute_receive {:EXIT, ^remote, _}, 300
  end

  test "an owner's exit reason reaches the remote processes its beamlink pid is linked to", %{h: h} do
    n = TestNodes.get(:elixir).name
    {:ok, me} = Beamlink.pid(h)
    {:ok, reporter} = Beamlink.spawn(h, n, :bl_fixtures, :exit_reporter, [me])
    assert_receive {:reporter_ready, ^reporter}, 5_000

    {pid, ref} =
      spawn_monitor(fn ->
        :ok = Beamlink.link(h, reporter)
        exit(:custom_reason)
      end)

    assert_receive {:DOWN, ^ref, :process, ^pid, :custom_reason}
    assert_receive {:exit_seen, _their_beamlink_pid, :custom_reason}, 5_000
  end

  test "monitor: DOWN with the reason, noproc for a dead pid, none after demonitor", %{h: h} do
    remote = echo(h, :otp28)
    {:ok, ref} = Beamlink.monitor(h, remote)
    :ok = Beamlink.send(h, remote, :stop)
    assert_receive {:DOWN, ^ref, :process, ^remote, :normal}, 5_000

    {:ok, ref} = Beamlink.monitor(h, remote)
    assert_receive {:DOWN, ^ref, :process, ^remote, :noproc}, 5_000

    remote = echo(h, :otp25)
    {:ok, ref} = Beamlink.monitor(h, remote)
    :ok = Beamlink.demonitor(h, ref)
    :ok = Beamlink.send(h, remote, :stop)
    refute_receive {:DOWN, ^ref, _, _, _}, 300
  end

  test "a node that dies: DOWN and EXIT with noconnection", %{h: h} do
    n = TestNodes.fresh(:otp25)
    {:ok, remote} = Beamlink.spawn(h, n.name, :bl_fixtures, :echo_server, [])
    {:ok, ref} = Beamlink.monitor(h, remote)
    :ok = Beamlink.link(h, remote)
    {:ok, named_ref} = Beamlink.monitor(h, {:init, n.name})
    TestNode.kill(n)
    assert_receive {:DOWN, ^ref, :process, ^remote, :noconnection}, 10_000
    assert_receive {:EXIT, ^remote, :noconnection}, 10_000
    assert_receive {:DOWN, ^named_ref, :process, {:init, _}, :noconnection}, 10_000
    TestNode.stop(n)
  end

  defp wait_until(fun, tries \\ 200) do
    cond do
      fun.() -> :ok
      tries == 0 -> flunk("condition never held")
      true -> Process.sleep(25) && wait_until(fun, tries - 1)
    end
  end
end
