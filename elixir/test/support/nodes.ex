defmodule Beamlink.TestNodes do
  @moduledoc """
  The nodes the whole suite shares (started once by `test_helper.exs`, stopped after the
  suite): an OTP 25 node, an OTP 28 node and an Elixir node, all with the fixtures of
  `bl_fixtures.erl` loaded; the Elixir node also knows the seed's `Person` and `Toukon`.
  The OTP 25 node doubles as the distributed helper that runs `:erpc.call` and `:rpc.call`
  for comparisons. Tests that kill or restart a node start their own.
  """
  alias Beamlink.TestNode

  @seed ~S"""
  defmodule Person do
    def say_hello(name), do: "Hello #{inspect(name)}, this is #{node()}"
  end

  defmodule Toukon do
    def aisatsu, do: "元気ですかーーーッ！"
    def say, do: Toukon.aisatsu() |> IO.puts()
  end
  """

  def start_all do
    fixtures = TestNode.compile_erl(Path.expand("bl_fixtures.erl", __DIR__))
    :persistent_term.put({__MODULE__, :fixtures}, fixtures)

    nodes =
      [otp25: [otp: 25], otp28: [otp: 28], elixir: [otp: 25, elixir: true]]
      |> Enum.map(fn {key, opts} ->
        Task.async(fn -> {key, TestNode.start([prefix: "ex_#{key}", code_paths: [fixtures]] ++ opts)} end)
      end)
      |> Task.await_many(60_000)
      |> Map.new()

    {:ok, _} = TestNode.eval(nodes.elixir, "'Elixir.Code':eval_string(<<#{erl_binary(@seed)}>>).")
    :persistent_term.put(__MODULE__, nodes)
    nodes
  end

  def stop_all do
    for {_, n} <- :persistent_term.get(__MODULE__, %{}), do: TestNode.stop(n)
    File.rm_rf(:persistent_term.get({__MODULE__, :fixtures}, "/nonexistent"))
    :ok
  end

  @doc "The shared nodes: `%{otp25: node, otp28: node, elixir: node}`."
  def all, do: :persistent_term.get(__MODULE__)
  def get(key), do: Map.fetch!(all(), key)

  @doc "The folder holding the compiled fixtures, for nodes a test starts itself."
  def fixtures, do: :persistent_term.get({__MODULE__, :fixtures})

  @doc "A fresh node of the given kind with the fixtures loaded (for tests that kill it)."
  def fresh(kind, opts \\ []) do
    base =
      case kind do
        :otp25 -> [otp: 25]
        :otp28 -> [otp: 28]
        :elixir -> [otp: 25, elixir: true]
      end

    TestNode.start([prefix: "ex_fresh", code_paths: [fixtures()]] ++ base ++ opts)
  end

  # A UTF-8 binary as the inside of an Erlang binary literal.
  defp erl_binary(text) do
    text |> :binary.bin_to_list() |> Enum.map_join(",", &Integer.to_string/1)
  end

  @doc "The cookie the shared nodes use."
  def cookie, do: "beamlink_test_cookie"
end
