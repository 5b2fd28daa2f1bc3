# The Elixir rows of `make bench` (the `elixir` family, bench/src/rows/elixir.rs runs this).
#
#   cd elixir && MIX_ENV=prod mix run ../bench/elixir/bench.exs TARGET CALLER COOKIE REPS QUICK
#
# From this VM, which is not distributed, beamlink calls TARGET (an OTP 25 node); the
# reference figures come from CALLER, a distributed OTP 25 node with bench/erl/beamlink_bench
# loaded, calling the same TARGET with :erpc.call — reached through beamlink itself, so its
# timings are taken inside CALLER, next to the work. The codec rows compare
# Beamlink.Term.decode (with limits) and encode with :erlang.binary_to_term(bin, [:safe]) and
# :erlang.term_to_binary/1 in this VM, on the bench corpus (bench/src/corpus.rs, rebuilt here
# term for term). Each row is printed as one tab-separated `ROW` line (see print_row/1).

[target, caller, cookie, reps, quick] = System.argv()
target = String.to_atom(target)
caller = String.to_atom(caller)
reps = String.to_integer(reps)
quick = quick == "1"
false = Node.alive?()

{:ok, _} = Beamlink.start_link(name: :bench, cookie: cookie)

defmodule Bench do
  def now, do: :erlang.monotonic_time(:nanosecond)

  def percentile(v, p) do
    s = Enum.sort(v)
    Enum.at(s, round(p / 100 * (length(s) - 1)))
  end

  # ns per operation, doubling batches until min_ms have passed (as the other codec rows).
  def per_op(f, min_ms), do: per_op(f, min_ms * 1_000_000, 1, 0, 0)
  defp per_op(_f, min_ns, _batch, ops, ns) when ns >= min_ns, do: ns / ops

  defp per_op(f, min_ns, batch, ops, ns) do
    t0 = now()
    loop(f, batch)
    per_op(f, min_ns, batch * 2, ops + batch, ns + now() - t0)
  end

  defp loop(_f, 0), do: :ok

  defp loop(f, n) do
    f.()
    loop(f, n - 1)
  end

  # In a fresh process, so garbage from earlier measurements is not collected inside this one.
  def isolated(f) do
    task = Task.async(f)
    Task.await(task, :infinity)
  end

  # One table row: the figures are the repetitions' values, the table takes their median.
  def print_row(r) do
    csv = fn v -> Enum.map_join(v, ",", &Float.to_string(&1 / 1)) end

    IO.puts(
      Enum.join(
        [
          "ROW",
          r.name,
          r.unit,
          if(r[:higher_better], do: "1", else: "0"),
          csv.(r.bl),
          r.reference,
          csv.(r.rf),
          r[:target] || "-",
          r[:headline] || "-",
          r[:note] || ""
        ],
        "\t"
      )
    )
  end

  # The corpus of bench/src/corpus.rs, term for term.
  def corpus do
    base = Bitwise.bsl(1, 100)

    [
      {"small rpc-like tuple", {:call, :erlang, :node, [1, "arg"], :user}},
      {"1000 small ints", Enum.map(0..999, &rem(&1 * 37, 5000))},
      {"map of 100 binary keys", Map.new(0..99, &{"key_#{&1}", &1})},
      {"1 MiB binary", :binary.list_to_bin(Enum.map(0..(1_048_576 - 1), &rem(&1 * 7, 256)))},
      {"1000 nested maps",
       Enum.map(0..999, fn i ->
         %{
           id: i,
           score: i * 1.25 + 0.1,
           name: "name_#{i}",
           pos: {i, i * 2, -1.5},
           inner: %{a: i / 3, b: "payload"}
         }
       end)},
      {"10k atoms (50 distinct)", Enum.map(0..9_999, &String.to_atom("atom_#{rem(&1, 50)}"))},
      {"1000 bignums ~2^100", Enum.map(0..999, &(base + &1 * 1_000_003))}
    ]
  end
end

note = fn msg -> IO.puts(:stderr, "bench: elixir: #{msg}") end
{warm, n} = if quick, do: {100, 500}, else: {500, 2000}
codec_ms = if quick, do: 20, else: 60

## Sequential call latency

note.("call p50 against :erpc.call from a distributed VM")
:pong = Beamlink.ping(:bench, target)
:pong = Beamlink.ping(:bench, caller)

{ours, theirs} =
  Enum.map(1..reps, fn _ ->
    mine =
      Bench.isolated(fn ->
        for _ <- 1..warm, do: {:ok, _} = Beamlink.call(:bench, target, :erlang, :node, [])

        for _ <- 1..n do
          t0 = Bench.now()
          {:ok, _} = Beamlink.call(:bench, target, :erlang, :node, [])
          Bench.now() - t0
        end
      end)

    {:ok, ref} =
      Beamlink.call(:bench, caller, :beamlink_bench, :isolated, [:lat, [target, :erlang, :node, [], warm, n]])

    {Bench.percentile(mine, 50) / 1000, Bench.percentile(ref, 50) / 1000}
  end)
  |> Enum.unzip()

Bench.print_row(%{
  name: "Elixir call p50 (VM not distributed), otp25",
  unit: "µs",
  bl: ours,
  reference: ":erpc.call from a distributed VM",
  rf: theirs,
  target: "1.3",
  headline: "Elixir `Beamlink.call` p50 (no distribution) vs `:erpc.call` from a distributed VM"
})

## 10 000 concurrent calls from 10 000 processes

note.("10 000 concurrent calls from 10 000 processes")
procs = 10_000

{ours, theirs} =
  Enum.map(1..max(div(reps, 2), 2), fn _ ->
    mine =
      Bench.isolated(fn ->
        parent = self()
        t0 = Bench.now()

        pids =
          for _ <- 1..procs do
            spawn_link(fn ->
              {:ok, _} = Beamlink.call(:bench, target, :erlang, :node, [], 120_000)
              send(parent, :done)
            end)
          end

        for _ <- pids, do: (receive do: (:done -> :ok))
        Bench.now() - t0
      end)

    {:ok, ref} =
      Beamlink.call(:bench, caller, :beamlink_bench, :isolated, [:tput, [target, :erlang, :node, [], procs, 1]])

    {procs / (mine / 1.0e9), procs / (ref / 1.0e9)}
  end)
  |> Enum.unzip()

Bench.print_row(%{
  name: "Elixir 10 000 calls from 10 000 processes at once, otp25",
  unit: "calls/s",
  higher_better: true,
  bl: ours,
  reference: "10 000 processes calling :erpc.call",
  rf: theirs,
  headline: "Elixir 10 000 concurrent calls from 10 000 processes vs `:erpc.call`"
})

## Codec on the corpus

limits = [max_depth: 1024, max_decompressed: 64 * 1024 * 1024, atoms: :existing]

for {name, term} <- Bench.corpus() do
  note.("codec: #{name}")
  bin = :erlang.term_to_binary(term)
  ^term = Beamlink.Term.decode!(bin, limits)

  {dec, ref_dec} =
    Enum.map(1..reps, fn _ ->
      ours = Bench.isolated(fn -> Bench.per_op(fn -> Beamlink.Term.decode(bin, limits) end, codec_ms) end)
      theirs = Bench.isolated(fn -> Bench.per_op(fn -> :erlang.binary_to_term(bin, [:safe]) end, codec_ms) end)
      {ours / 1000, theirs / 1000}
    end)
    |> Enum.unzip()

  Bench.print_row(%{
    name: "Elixir decode with limits: #{name} (#{byte_size(bin)} B)",
    unit: "µs",
    bl: dec,
    reference: "binary_to_term(bin, [:safe])",
    rf: ref_dec,
    target: "1.5",
    headline: "Elixir `Beamlink.Term.decode` with limits vs `binary_to_term(bin, [:safe])`, corpus"
  })

  {enc, ref_enc} =
    Enum.map(1..reps, fn _ ->
      ours = Bench.isolated(fn -> Bench.per_op(fn -> Beamlink.Term.encode(term) end, codec_ms) end)
      theirs = Bench.isolated(fn -> Bench.per_op(fn -> :erlang.term_to_binary(term) end, codec_ms) end)
      {ours / 1000, theirs / 1000}
    end)
    |> Enum.unzip()

  Bench.print_row(%{
    name: "Elixir encode: #{name}",
    unit: "µs",
    bl: enc,
    reference: "term_to_binary/1",
    rf: ref_enc,
    headline: "Elixir `Beamlink.Term.encode` vs `term_to_binary/1`, corpus"
  })
end

## Normal schedulers held by decoding

# long_schedule reports any process that ran for over 1 ms without yielding its normal
# scheduler. Dirty-scheduler NIF calls do not hold one.
note.("normal schedulers held ≥ 1 ms while decoding")
big = Enum.map(1..200_000, &{&1, "v#{&1}", [&1 * 1.5]})
inputs = Enum.map(Bench.corpus(), &:erlang.term_to_binary(elem(&1, 1))) ++ [:erlang.term_to_binary(big)]
inputs = inputs ++ [:erlang.term_to_binary(big, [:compressed])]
rounds = if quick, do: 5, else: 20

count_long = fn decode ->
  Bench.isolated(fn ->
    :erlang.system_monitor(self(), [{:long_schedule, 1}])
    me = self()

    worker =
      spawn_link(fn ->
        for _ <- 1..rounds, bin <- inputs, do: decode.(bin)
        send(me, :done)
      end)

    receive do: (:done -> :ok)
    :erlang.system_monitor(:undefined)

    events =
      Stream.repeatedly(fn ->
        receive do
          {:monitor, ^worker, :long_schedule, info} -> info[:timeout]
        after
          0 -> nil
        end
      end)
      |> Enum.take_while(& &1)

    {length(events), Enum.max(events, fn -> 0 end)}
  end)
end

decodes = rounds * length(inputs)
largest = inputs |> Enum.map(&byte_size/1) |> Enum.max()
{ours_n, ours_max} = count_long.(&Beamlink.Term.decode(&1, atoms: :create, max_depth: :infinity))
{theirs_n, theirs_max} = count_long.(&:erlang.binary_to_term/1)

Bench.print_row(%{
  name: "Elixir decode: normal-scheduler slices ≥ 1 ms (#{decodes} decodes, up to #{div(largest, 1024)} KiB)",
  unit: "events",
  bl: [ours_n * 1.0],
  reference: "binary_to_term/1 (a yielding BIF)",
  rf: [theirs_n * 1.0],
  note:
    "longest: #{ours_max} ms (beamlink), #{theirs_max} ms (binary_to_term); terms over 20 000 terms or 2 MiB, and compressed ones, decode on a dirty scheduler"
})
