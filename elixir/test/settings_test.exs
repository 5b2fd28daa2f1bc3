defmodule Beamlink.SettingsTest do
  use ExUnit.Case, async: true

  alias Beamlink.{TestNode, TestNodes}

  test "long names: a node named alive@127.0.0.1 reaches -name nodes" do
    remote = TestNodes.fresh(:otp28, long_names: true)

    try do
      server =
        start_supervised!(
          {Beamlink.Node,
           node: TestNode.unique("bl_long") <> "@127.0.0.1", long_names: true, cookie: TestNodes.cookie()}
        )

      assert Beamlink.ping(server, remote.name) == :pong
      assert {:ok, name} = Beamlink.call(server, remote.name, :erlang, :node, [])
      assert name == remote.name
    after
      TestNode.stop(remote)
    end
  end

  # The cookie file is found through $HOME, which the native code reads from the OS process's
  # environment: these run in a VM of their own with HOME set.
  defp in_fresh_vm(home, code) do
    ebin = Path.join(:code.lib_dir(:beamlink), "ebin")
    dir = TestNode.scratch_dir("vm")

    try do
      System.cmd("elixir", ["-pa", ebin, "-e", code], env: [{"HOME", home}], cd: dir, stderr_to_stdout: true)
    after
      File.rm_rf(dir)
    end
  end

  defp home_with_cookie(cookie, mode) do
    home = TestNode.scratch_dir("home")
    path = Path.join(home, ".erlang.cookie")
    File.write!(path, cookie)
    File.chmod!(path, mode)
    home
  end

  test "the cookie defaults to ~/.erlang.cookie, as erl reads it" do
    home = home_with_cookie("from_the_cookie_file", 0o400)
    remote = TestNodes.fresh(:otp25, cookie: "from_the_cookie_file")

    try do
      code = """
      {:ok, _} = Beamlink.start_link(name: :n)
      {:ok, _} = Beamlink.start_link(name: :explicit, cookie: "something_else")
      IO.inspect({Beamlink.ping(:n, #{inspect(remote.name)}), Beamlink.ping(:explicit, #{inspect(remote.name)})})
      """

      {out, 0} = in_fresh_vm(home, code)
      # The file's cookie gets in; a cookie given explicitly wins over the file.
      assert out =~ "{:pong, :pang}"
    after
      TestNode.stop(remote)
      File.rm_rf(home)
    end
  end

  test "a cookie file others can read is refused, with the reason" do
    home = home_with_cookie("readable", 0o644)

    try do
      {out, 0} =
        in_fresh_vm(home, """
        Process.flag(:trap_exit, true)
        IO.inspect(Beamlink.Node.start_link([]), width: :infinity)
        """)

      assert out =~ "%Beamlink.NodeError{kind: :bad_cookie,"
      assert out =~ "chmod 400"
    after
      File.rm_rf(home)
    end
  end
end
