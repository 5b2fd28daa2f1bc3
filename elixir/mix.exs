# The NIF compiler must be defined before the project is: Mix looks compilers up when it
# compiles, and this one runs first (see its moduledoc).
Code.require_file("mix/tasks/compile.beamlink_nif.ex", __DIR__)

defmodule Beamlink.MixProject do
  use Mix.Project

  def project do
    [
      app: :beamlink,
      version: "0.1.0",
      elixir: "~> 1.14",
      description:
        "Reach BEAM clusters from a VM that is not distributed: ping, call, spawn and message " <>
          "any node as a hidden peer, and a term decoder with limits (a rustler NIF over the beamlink engine)",
      compilers: [:beamlink_nif] ++ Mix.compilers(),
      beamlink_crate: Path.expand("../bindings/elixir", __DIR__),
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      # No dependencies at all: hex.pm is not needed to build or test.
      deps: [],
      docs: [main: "Beamlink"]
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
