defmodule Beamlink.SpawnFuns do
  @moduledoc false
  # Funs from a compiled module, for the spawn tests: they run where this very module version
  # is loaded.
  def printer(text), do: fn -> IO.puts("from a compiled fun: #{text}") end
end
