# The seed session (`iex --sname hoge --cookie mycookie` talking to fuga and piyo), from a
# plain `elixir` script whose VM is not distributed. `make demo` runs it as:
#
#   elixir -pa elixir/_build/prod/lib/beamlink/ebin elixir/examples/seed.exs FUGA PIYO COOKIE
#
# (`cd elixir && MIX_ENV=prod mix compile` builds that directory, the NIF included.)

[fuga, piyo, cookie] = System.argv()
[fuga, piyo] = Enum.map([fuga, piyo], &String.to_atom/1)

show = fn code, value -> IO.puts("hoge> #{code}\n#{inspect(value)}") end

{:ok, _} = Beamlink.start_link(name: :hoge, node: "hoge_ex_#{System.pid()}@localhost", cookie: cookie)
show.("Node.alive?()", Node.alive?())

show.("Beamlink.ping(:hoge, #{inspect(fuga)})", Beamlink.ping(:hoge, fuga))
show.("Beamlink.ping(:hoge, #{inspect(piyo)})", Beamlink.ping(:hoge, piyo))
show.("Beamlink.nodes(:hoge)", Beamlink.nodes(:hoge))

show.(
  "Beamlink.call(:hoge, #{inspect(fuga)}, Person, :say_hello, [:hoge])",
  Beamlink.call(:hoge, fuga, Person, :say_hello, [:hoge])
)

# The function as iex makes it (an :erl_eval fun, which any node of the same OTP release can
# run). A `fn` written directly in a script is compiled into a module of this script that
# the remote node does not have: see Beamlink.spawn/3.
{aisatsu, _} = Code.eval_string("fn -> Toukon.aisatsu() |> IO.puts() end")
IO.puts("hoge> Beamlink.spawn(:hoge, #{inspect(fuga)}, fn -> Toukon.aisatsu() |> IO.puts() end)")
{:ok, {_pid, ref}} = Beamlink.spawn_monitor(:hoge, fuga, aisatsu)
# The remote output has appeared above by the time the DOWN arrives.
receive do: ({:DOWN, ^ref, :process, _, :normal} -> :ok)

{:error, e} = Beamlink.call(:hoge, fuga, :erlang, :error, [:boom])
IO.puts("hoge> Beamlink.call(:hoge, #{inspect(fuga)}, :erlang, :error, [:boom])")
IO.puts("{:error, %#{inspect(e.__struct__)}{reason: #{inspect(e.reason)}, stacktrace: [...]}}")

caught =
  try do
    Beamlink.call!(:hoge, fuga, :erlang, :error, [:boom])
  catch
    class, {tag, reason, _stack} -> {class, {tag, reason, :remote_stacktrace}}
  end

show.("Beamlink.call!(:hoge, #{inspect(fuga)}, :erlang, :error, [:boom])  # raises as :erpc.call", caught)

{:ok, me} = Beamlink.pid(:hoge)
:ok = Beamlink.register(:hoge, :shell)

# piyo sends to that name over the connection we opened (ours is the only way in).
Beamlink.call!(:hoge, piyo, :erlang, :send, [{:shell, Beamlink.name(:hoge)}, {:hello_from, piyo}])

show.("{:shell, node} ! from piyo, received here", receive(do: (m -> m)))
show.("Beamlink.pid(:hoge)", me)

deep = Enum.reduce(1..5000, :leaf, fn _, t -> [t] end) |> :erlang.term_to_binary()
show.("Beamlink.Term.decode(deep_term_bytes, max_depth: 100)", Beamlink.Term.decode(deep, max_depth: 100))
