# The remote side of the seed session (the same modules `make demo` starts its nodes with).
defmodule Person do
  def say_hello(name), do: "Hello #{inspect(name)}, this is #{node()}"
end

defmodule Toukon do
  def aisatsu, do: "元気ですかーーーッ！"
  def say, do: Toukon.aisatsu() |> IO.puts()
end
