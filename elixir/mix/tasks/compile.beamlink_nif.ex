defmodule Mix.Tasks.Compile.BeamlinkNif do
  @moduledoc """
  Builds the NIF (the rustler crate in `bindings/elixir`) with cargo and puts it where
  `Beamlink.Native` loads it from: `priv/native/` of the application's build directory.

  A release build in the `:prod` environment (the one dependencies compile in), a debug
  build otherwise; set `BEAMLINK_NIF_PROFILE=release` or `debug` to choose. cargo decides
  what to rebuild, so an unchanged crate costs only cargo's check. The crate's path comes
  from the project's `:beamlink_crate` setting.

  This file lives outside `lib/` and is required at the top of `mix.exs`, and the compiler is
  listed before Elixir's: the NIF must exist before `Beamlink.Native` is compiled, because
  its `@on_load` runs when it is.
  """
  use Mix.Task.Compiler

  @recursive true
  @crate "beamlink-elixir"
  @library "beamlink_elixir"

  @impl true
  def run(_args) do
    config = Mix.Project.config()
    crate = Keyword.fetch!(config, :beamlink_crate)
    release? = release?()

    unless System.find_executable("cargo") do
      Mix.raise("beamlink: cargo (Rust) is needed to build the NIF; install it from https://rustup.rs")
    end

    args =
      ["build", "-p", @crate, "--message-format=json-render-diagnostics"] ++
        if(release?, do: ["--release"], else: [])

    {out, status} =
      System.cmd("cargo", args,
        cd: crate,
        stderr_to_stdout: false,
        into: "",
        env: [{"CARGO_TERM_COLOR", "never"}]
      )

    if status != 0 do
      Mix.raise("beamlink: cargo #{Enum.join(args, " ")} failed (exit #{status}); its messages are above")
    end

    built = artifact(out) || Mix.raise("beamlink: cargo built no #{@library} library")
    dest_dir = Path.join(Mix.Project.app_path(config), "priv/native")
    dest = Path.join(dest_dir, "lib#{@library}.so")
    File.mkdir_p!(dest_dir)

    if stale?(built, dest) do
      # Copy to a new file and rename: a loaded .so must not be overwritten in place.
      tmp = dest <> ".tmp"
      File.cp!(built, tmp)
      File.rename!(tmp, dest)
      Mix.shell().info("beamlink: built the NIF (#{if release?, do: "release", else: "debug"})")
      {:ok, []}
    else
      {:noop, []}
    end
  end

  defp release? do
    case System.get_env("BEAMLINK_NIF_PROFILE") do
      "release" -> true
      "debug" -> false
      _ -> Mix.env() == :prod
    end
  end

  # Elixir 1.14 has no JSON module: the artifact line of cargo's JSON output is matched
  # with a regular expression. The line names the target and lists the files built.
  defp artifact(cargo_json) do
    cargo_json
    |> String.split("\n")
    |> Enum.filter(&(&1 =~ ~s("reason":"compiler-artifact") and &1 =~ ~s("name":"#{@library}")))
    |> Enum.find_value(fn line ->
      case Regex.run(~r/"filenames":\[([^\]]*)\]/, line) do
        [_, files] ->
          Regex.scan(~r/"([^"]+\.(?:so|dylib))"/, files, capture: :all_but_first)
          |> List.flatten()
          |> List.first()

        nil ->
          nil
      end
    end)
  end

  defp stale?(built, dest) do
    case {File.stat(built), File.stat(dest)} do
      {{:ok, b}, {:ok, d}} -> b.mtime > d.mtime or b.size != d.size
      _ -> true
    end
  end
end
