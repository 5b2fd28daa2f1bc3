defmodule Beamlink.NodeTest do
  use ExUnit.Case, async: false
  doctest Beamlink.Node
  doctest Beamlink, only: [ping: 3]

  alias Beamlink.{TestNode, TestNodes}

  setup do
    server = start_supervised!({Beamlink.Node, cookie: TestNodes.cookie()})
    %{h: Beamlink.Node.handle(server)}
  end

  test "the test VM is not distributed, before and after using beamlink", %{h: h} do
    refute Node.alive?()
    assert Beamlink.ping(h, TestNodes.get(:otp25).name) == :pong
    refute Node.alive?()
    assert node() == :nonode@nohost
  end

  test "ping: pong from OTP 25, OTP 28 and Elixir nodes, pang from an unknown one", %{h: h} do
    names = TestNodes.all() |> Map.values() |> Enum.map(& &1.name)
    for n <- names, do: assert(Beamlink.ping(h, n) == :pong, "#{n}")
    assert Beamlink.ping(h, :"nobody_#{System.unique_integer([:positive])}@localhost") == :pang
    assert Beamlink.nodes(h) == Enum.sort(names)
  end

  test "the handle works by struct, by server pid and by registered name", %{h: h} do
    n = TestNodes.get(:otp28).name
    assert Beamlink.ping(h.server, n) == :pong
    start_supervised!({Beamlink.Node, name: :node_test_named, cookie: TestNodes.cookie()}, id: :named)
    assert Beamlink.ping(:node_test_named, n) == :pong
    assert %Beamlink.Node{name: name} = Beamlink.Node.handle(:node_test_named)
    assert Beamlink.name(:node_test_named) == name
  end

  test "a wrong cookie: pang, and calls fail with no connection" do
    wrong = start_supervised!({Beamlink.Node, cookie: "not_the_cookie"}, id: :wrong)
    n = TestNodes.get(:otp25).name
    assert Beamlink.ping(wrong, n) == :pang

    assert {:error, %Beamlink.NoConnectionError{node: ^n, detail: detail}} =
             Beamlink.call(wrong, n, :erlang, :node, [])

    assert detail =~ "cookie"
  end

  test "two handles with different cookies reach two clusters from one VM", %{h: h} do
    other = TestNodes.fresh(:otp25, cookie: "another_cluster")

    try do
      h2 = Beamlink.Node.handle(start_supervised!({Beamlink.Node, cookie: "another_cluster"}, id: :h2))
      ours = TestNodes.get(:elixir).name
      assert Beamlink.ping(h, ours) == :pong
      assert Beamlink.ping(h, other.name) == :pang
      assert Beamlink.ping(h2, other.name) == :pong
      assert Beamlink.ping(h2, ours) == :pang
      assert {:ok, ^ours} = Beamlink.call(h, ours, :erlang, :node, [])
      assert {:ok, "another_cluster"} = Beamlink.call(h2, other.name, :erlang, :get_cookie, []) |> atom_text()
      assert Beamlink.nodes(h2) == [other.name]
    after
      TestNode.stop(other)
    end
  end

  defp atom_text({:ok, a}), do: {:ok, Atom.to_string(a)}

  test "node up and down reach subscribers as messages", %{h: h} do
    n = TestNodes.fresh(:otp28)

    try do
      :ok = Beamlink.monitor_nodes(h)
      assert Beamlink.ping(h, n.name) == :pong
      name = n.name
      assert_receive {:nodeup, ^name, [beamlink: ours]}, 5_000
      assert ours == h.name
      TestNode.kill(n)
      assert_receive {:nodedown, ^name, [beamlink: ^ours, reason: reason]}, 10_000
      assert is_binary(reason)
      refute name in Beamlink.nodes(h)
    after
      TestNode.stop(n)
    end
  end

  test "outbound only: a remote cannot find us in epmd, ping us or spawn on us", %{h: h} do
    remote = TestNodes.get(:otp25)
    ours = h.name
    [alive, _] = String.split(Atom.to_string(ours), "@")
    {:ok, {:ok, names}} = TestNode.eval(remote, "net_adm:names().")
    refute Enum.any?(names, fn {n, _port} -> List.to_string(n) == alive end)
    # No connection from us yet: the remote's Node.ping of our name is pang.
    assert {:ok, :pang} = TestNode.eval(remote, "bl_fixtures:remote_ping('#{ours}').")
    # Connected (we called it): still nothing it can run here.
    assert {:ok, _} = Beamlink.call(h, remote.name, :erlang, :node, [])
    assert {:ok, {:not_run, reason}} = TestNode.eval(remote, "bl_fixtures:remote_spawn('#{ours}').")
    assert reason in [:notsup, :noproc]
    refute Node.alive?()
  end

  test "a node listening on request: remotes can reach it" do
    server = start_supervised!({Beamlink.Node, cookie: TestNodes.cookie(), listen: true}, id: :listening)
    ours = Beamlink.name(server)
    remote = TestNodes.get(:otp28)
    assert {:ok, :pong} = TestNode.eval(remote, "bl_fixtures:remote_ping('#{ours}').")
    assert {:ok, {:not_run, _}} = TestNode.eval(remote, "bl_fixtures:remote_spawn('#{ours}').")
  end

  test "under a supervisor: restarted with a fresh handle when it dies" do
    {:ok, sup} =
      Supervisor.start_link([{Beamlink, name: :supervised_node, cookie: TestNodes.cookie()}],
        strategy: :one_for_one
      )

    try do
      n = TestNodes.get(:elixir).name
      assert Beamlink.ping(:supervised_node, n) == :pong
      old = Beamlink.Node.handle(:supervised_node)
      ref = Process.monitor(old.server)
      Process.exit(old.server, :kill)
      assert_receive {:DOWN, ^ref, :process, _, :killed}
      # The old handle's node is closed when its owner dies (the NIF monitors it).
      assert {:error, %Beamlink.NodeError{kind: :closed}} = Beamlink.call(old, n, :erlang, :node, [])
      new = wait_for(fn -> Beamlink.Node.resolve(:supervised_node) end)
      assert new.server != old.server
      assert Beamlink.ping(:supervised_node, n) == :pong
    after
      Supervisor.stop(sup)
    end
  end

  test "a stopped node answers with errors, not hangs", %{h: h} do
    stop_supervised!(Beamlink.Node)
    n = TestNodes.get(:otp25).name
    assert {:error, %Beamlink.NodeError{kind: :closed}} = Beamlink.call(h, n, :erlang, :node, [])
    assert {:error, %Beamlink.NodeError{kind: :closed}} = Beamlink.call(h.server, n, :erlang, :node, [])
    assert Beamlink.ping(h, n) == :pang

    assert {:error, %Beamlink.NodeError{kind: :not_started}} =
             Beamlink.call(:no_such_beamlink_node, n, :erlang, :node, [])
  end

  test "a bad node name and an unreadable cookie file are start errors" do
    Process.flag(:trap_exit, true)
    assert {:error, %Beamlink.NodeError{kind: :bad_name}} = Beamlink.Node.start_link(node: "bad name@@x")
  end

  defp wait_for(fun, tries \\ 100) do
    case fun.() do
      {:ok, v} -> v
      _ when tries > 0 -> Process.sleep(50) && wait_for(fun, tries - 1)
    end
  end
end
