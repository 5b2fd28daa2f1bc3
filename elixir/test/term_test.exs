defmodule Beamlink.TermTest do
  use ExUnit.Case, async: true
  doctest Beamlink.Term

  alias Beamlink.Term

  test "decodes what term_to_binary writes, under every option, as binary_to_term does" do
    terms = [
      {:ok, [1, "two", 3.0, :four, {5}, %{six: [7]}]},
      Enum.to_list(1..1000),
      %{(Enum.map(1..100, &{"key_#{&1}", &1}) |> Map.new()) | "key_1" => :changed},
      :binary.copy(<<1, 2, 3>>, 100_000),
      <<1::3>>,
      [1 | :improper],
      -(2 ** 200),
      self(),
      make_ref(),
      hd(Port.list()),
      &Enum.map/2,
      fn x -> x + 1 end,
      Enum.reduce(1..500, :leaf, fn i, acc -> {i, [acc]} end)
    ]

    for t <- terms, opts <- [[], [:compressed], [minor_version: 1], [minor_version: 0], [:deterministic]] do
      bin = :erlang.term_to_binary(t, opts)
      assert Term.decode(bin, atoms: :create) == {:ok, :erlang.binary_to_term(bin)}, inspect({t, opts})
      assert Term.encode(t, opts) == bin
    end
  end

  test "limits: size, depth, decompressed size, with the offset where they were broken" do
    bin = :erlang.term_to_binary(Enum.to_list(1..100))
    assert {:error, %Beamlink.DecodeError{reason: :too_large, offset: 0}} = Term.decode(bin, max_size: 10)
    assert {:ok, _} = Term.decode(bin, max_size: byte_size(bin))

    deep = Enum.reduce(1..2000, :leaf, fn _, t -> {t} end) |> :erlang.term_to_binary()
    assert {:error, %Beamlink.DecodeError{reason: :too_deep, offset: 2051}} = Term.decode(deep)
    assert {:ok, _} = Term.decode(deep, max_depth: :infinity)

    bomb = :erlang.term_to_binary(:binary.copy(<<0>>, 10_000_000), [:compressed])
    assert byte_size(bomb) < 20_000

    assert {:error, %Beamlink.DecodeError{reason: :too_large, offset: 2}} =
             Term.decode(bomb, max_decompressed: 1_000_000)

    assert {:ok, b} = Term.decode(bomb, max_decompressed: 20_000_000)
    assert byte_size(b) == 10_000_000
  end

  test "atoms: existing only by default, created on request" do
    name = "beamlink_term_test_#{System.unique_integer([:positive])}"
    bin = <<131, 119, byte_size(name), name::binary>>
    nested = <<131, 104, 2, 97, 1, 119, byte_size(name), name::binary>>

    assert {:error, %Beamlink.DecodeError{reason: :unknown_atom, offset: 1}} = Term.decode(bin)
    assert {:error, %Beamlink.DecodeError{reason: :unknown_atom, offset: 5}} = Term.decode(nested)
    assert_raise ArgumentError, fn -> String.to_existing_atom(name) end
    assert {:ok, atom} = Term.decode(bin, atoms: :create)
    assert Atom.to_string(atom) == name
    assert {:ok, {1, ^atom}} = Term.decode(nested)
  end

  test "malformed input gives a typed error with its offset, never a crash" do
    cases = [
      {<<>>, :truncated, 0},
      {<<130, 97, 1>>, :bad_version, 0},
      {<<131, 200>>, :unknown_tag, 1},
      {<<131, 104, 2, 97, 1>>, :truncated, 5},
      {<<131, 97, 1, 0>>, :trailing_bytes, 3},
      {<<131, 104, 1, 82, 0>>, :atom_cache_ref, 3},
      {<<131, 110, 4, 0, 1>>, :truncated, 3},
      {<<131, 80, 0, 0, 0, 9, 1, 2, 3>>, :compression, 2},
      # A map with a duplicate key: only binary_to_term itself objects.
      {<<131, 116, 0, 0, 0, 2, 97, 1, 97, 1, 97, 1, 97, 2>>, :invalid, 1}
    ]

    for {bin, reason, offset} <- cases do
      assert {:error, %Beamlink.DecodeError{reason: ^reason, offset: ^offset}} = Term.decode(bin),
             inspect(bin)

      # binary_to_term ignores bytes after the term; decode/2 does not.
      if reason != :trailing_bytes, do: assert_raise(ArgumentError, fn -> :erlang.binary_to_term(bin) end)
    end
  end

  test "mangled encodings: never a crash, and binary_to_term's answer whenever it takes all the bytes" do
    :rand.seed(:exsss, {1, 2, 3})
    base = :erlang.term_to_binary({:ok, [1, 2.5, "bin", {:a, :b}, %{k: [-1 | :t]}, 2 ** 70]})

    for _ <- 1..5000 do
      bin =
        Enum.reduce(1..:rand.uniform(3), base, fn _, b ->
          i = :rand.uniform(byte_size(b)) - 1
          <<pre::binary-size(i), _, post::binary>> = b
          <<pre::binary, :rand.uniform(256) - 1, post::binary>>
        end)

      bin = binary_part(bin, 0, :rand.uniform(byte_size(bin)))
      ours = Term.decode(bin)
      # The same through the native scanner (these bytes could nest deeper than 5 levels).
      assert Term.decode(bin, max_depth: 5) == ours or
               match?({:error, %{reason: :too_deep}}, Term.decode(bin, max_depth: 5))

      case (try do
              :erlang.binary_to_term(bin, [:safe, :used])
            rescue
              ArgumentError -> :badarg
            end) do
        {t, used} when used == byte_size(bin) -> assert ours == {:ok, t}, inspect(bin)
        {_, used} -> assert {:error, %Beamlink.DecodeError{reason: :trailing_bytes, offset: ^used}} = ours
        :badarg -> assert {:error, %Beamlink.DecodeError{}} = ours, inspect(bin)
      end
    end
  end

  test "large and compressed inputs go to a dirty scheduler and come out the same" do
    big = Enum.map(1..50_000, &{&1, "v#{&1}"})
    bin = :erlang.term_to_binary(big)
    assert byte_size(bin) > 32 * 1024
    assert Term.decode!(bin) == big
    assert Term.decode!(:erlang.term_to_binary(big, [:compressed])) == big
  end

  test "encode refuses options term_to_binary would not take from us" do
    assert_raise ArgumentError, fn -> Term.encode(:x, [:bogus]) end
  end
end
