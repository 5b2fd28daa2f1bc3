defmodule Beamlink.ConsumerTest do
  # Builds a throwaway project that depends on beamlink by path: the NIF must be built by
  # `mix compile` alone, load, and work. Dependencies compile in :prod, where the NIF is a
  # release build; to keep `make test` short this test asks for the debug build the suite
  # has already made (BEAMLINK_NIF_PROFILE=debug) unless BEAMLINK_CONSUMER_RELEASE=1. The
  # release path runs in `make demo` and `make bench`.
  use ExUnit.Case, async: true

  alias Beamlink.{TestNode, TestNodes}

  @moduletag timeout: 900_000

  test "a project with {:beamlink, path: ...} gets the NIF built and loaded with no further step" do
    dir = TestNode.scratch_dir("consumer")
    beamlink = Path.expand("..", __DIR__)
    target = TestNodes.get(:otp25)

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule Consumer.MixProject do
      use Mix.Project

      def project do
        [app: :consumer, version: "0.1.0", deps: [{:beamlink, path: #{inspect(beamlink)}}]]
      end
    end
    """)

    File.mkdir_p!(Path.join(dir, "lib"))

    File.write!(Path.join(dir, "lib/consumer.ex"), """
    defmodule Consumer do
      def run(target, cookie) do
        false = Node.alive?()
        {:ok, _} = Beamlink.start_link(name: :consumer, cookie: cookie)
        {:ok, node} = Beamlink.call(:consumer, target, :erlang, :node, [])
        {:ok, term} = Beamlink.Term.decode(:erlang.term_to_binary({:decoded, node}))
        IO.puts("consumer: " <> inspect(term))
      end
    end
    """)

    profile = if System.get_env("BEAMLINK_CONSUMER_RELEASE") == "1", do: "release", else: "debug"

    env = [
      {"MIX_ENV", "dev"},
      {"MIX_EXS", nil},
      {"MIX_BUILD_PATH", nil},
      {"MIX_DEPS_PATH", nil},
      {"BEAMLINK_NIF_PROFILE", profile}
    ]

    run = "Consumer.run(#{inspect(target.name)}, #{inspect(TestNodes.cookie())})"

    try do
      {out, status} = System.cmd("mix", ["run", "-e", run], cd: dir, env: env, stderr_to_stdout: true)
      assert status == 0, out
      assert out =~ "consumer: {:decoded, #{inspect(target.name)}}"
      assert File.exists?(Path.join(dir, "_build/dev/lib/beamlink/priv/native/libbeamlink_elixir.so"))
    after
      File.rm_rf(dir)
    end
  end
end
