defmodule Beamlink.Term do
  @moduledoc """
  The external term format with limits.

  `decode/2` is `:erlang.binary_to_term/2` for bytes you do not trust: it bounds the input
  size, the nesting depth and what a compressed term may expand to, refuses atoms that do not
  exist yet unless told otherwise, and says what is wrong and at which byte
  (`Beamlink.DecodeError`). The bytes are checked first (by the engine's scanner, without
  building anything) and then built by BEAM's own `binary_to_term`, so the terms are exactly
  the ones BEAM would build. Bytes too short to break the limits skip the check. A term that
  is quick to decode (up to 20 000 terms in up to 2 MiB, uncompressed: about half a
  millisecond) is decoded on the calling scheduler; any other on a dirty scheduler, so no
  normal scheduler is held for long.

  `encode/2` is `:erlang.term_to_binary/2` itself (a native encoder could not see inside
  funs, and BEAM's yields to other processes on large terms): byte for byte what BEAM writes,
  with the options checked.
  """

  @infinity 18_446_744_073_709_551_615
  @max_decompressed 64 * 1024 * 1024
  @safe_used [:safe, :used]
  @used [:used]

  @typedoc """
  Options for `decode/2`:

    * `:max_size` — the longest input accepted, in bytes (default `:infinity`);
    * `:max_depth` — the deepest nesting of tuples, lists, maps and funs (default 1024; a
      list is one level however long);
    * `:max_decompressed` — the most a compressed term may expand to (default 64 MiB);
    * `:atoms` — `:existing` (default: as `binary_to_term(bin, [:safe])`, an atom that does
      not exist is an error) or `:create`.
  """
  @type decode_option ::
          {:max_size, non_neg_integer() | :infinity}
          | {:max_depth, pos_integer() | :infinity}
          | {:max_decompressed, non_neg_integer() | :infinity}
          | {:atoms, :existing | :create}

  @typedoc "Options for `encode/2`: those of `:erlang.term_to_binary/2`."
  @type encode_option ::
          :compressed
          | {:compressed, 0..9}
          | {:minor_version, 0..2}
          | :deterministic

  @doc """
  Decodes one term (version byte first, nothing after it) within limits.

      iex> Beamlink.Term.decode(:erlang.term_to_binary({:ok, [1, "two", 3.0]}))
      {:ok, {:ok, [1, "two", 3.0]}}
      iex> deep = Enum.reduce(1..100, :leaf, fn _, t -> [t] end) |> :erlang.term_to_binary()
      iex> {:error, %Beamlink.DecodeError{reason: :too_deep, offset: offset}} =
      ...>   Beamlink.Term.decode(deep, max_depth: 10)
      iex> offset
      56
      iex> Beamlink.Term.decode(<<131, 100, 0, 9, "no_such_a">>)
      {:error, %Beamlink.DecodeError{reason: :unknown_atom, offset: 1,
        detail: "invalid atom (not an existing atom) at byte 1"}}
      iex> Beamlink.Term.decode(<<131, 104, 2, 97, 1>>) |> elem(1) |> Map.take([:reason, :offset])
      %{offset: 5, reason: :truncated}
  """
  @spec decode(binary(), [decode_option()]) :: {:ok, term()} | {:error, Beamlink.DecodeError.t()}
  def decode(binary, opts \\ [])

  def decode(binary, []) when is_binary(binary),
    do: decode(binary, :infinity, 1024, @max_decompressed, true)

  def decode(binary, opts) when is_binary(binary) do
    decode(
      binary,
      Keyword.get(opts, :max_size, :infinity),
      Keyword.get(opts, :max_depth, 1024),
      Keyword.get(opts, :max_decompressed, @max_decompressed),
      existing?(Keyword.get(opts, :atoms, :existing))
    )
  end

  defp decode(binary, max_size, max_depth, max_decompressed, existing) do
    with :check <- unbreakable(binary, max_size, max_depth, existing) do
      limits = {limit(max_size), limit(max_depth), limit(max_decompressed), existing}

      # The NIF answers :dirty when the term is too big to decode on this scheduler.
      native =
        case Beamlink.Native.decode(binary, limits) do
          :dirty -> Beamlink.Native.decode_dirty(binary, limits)
          done -> done
        end

      case native do
        {:ok, term} -> {:ok, term}
        {:error, e} -> {:error, Beamlink.Error.from_native(e)}
      end
    end
  end

  # Bytes that cannot break the limits need no check: not compressed, within max_size, and too
  # short to nest deeper than max_depth (every level takes at least two bytes). BEAM's own
  # binary_to_term decodes them (yielding on large input); whatever it refuses goes to the
  # native decoder, for the reason and the offset.
  defp unbreakable(<<131, 80, _::binary>>, _, _, _), do: :check

  defp unbreakable(bin, max_size, max_depth, existing) do
    size = byte_size(bin)

    if size <= max_size and (max_depth == :infinity or size <= 2 * max_depth) do
      try do
        :erlang.binary_to_term(bin, if(existing, do: @safe_used, else: @used))
      rescue
        ArgumentError -> :check
      else
        {term, ^size} -> {:ok, term}
        _trailing -> :check
      end
    else
      :check
    end
  end

  @doc """
  Like `decode/2`, returning the term or raising `Beamlink.DecodeError`.

      iex> Beamlink.Term.decode!(<<131, 97, 42>>)
      42
  """
  @spec decode!(binary(), [decode_option()]) :: term()
  def decode!(binary, opts \\ []) do
    case decode(binary, opts) do
      {:ok, term} -> term
      {:error, e} -> raise e
    end
  end

  @doc """
  Encodes a term exactly as `:erlang.term_to_binary/2` does.

      iex> Beamlink.Term.encode({:ok, "x"}) == :erlang.term_to_binary({:ok, "x"})
      true
      iex> Beamlink.Term.encode(%{b: 1, a: 2}, [:deterministic]) |> Beamlink.Term.decode!()
      %{a: 2, b: 1}
  """
  @spec encode(term(), [encode_option()]) :: binary()
  def encode(term, opts \\ []) do
    Enum.each(opts, &check_encode_option/1)
    :erlang.term_to_binary(term, opts)
  end

  defp check_encode_option(:compressed), do: :ok
  defp check_encode_option({:compressed, l}) when l in 0..9, do: :ok
  defp check_encode_option({:minor_version, v}) when v in 0..2, do: :ok
  defp check_encode_option(:deterministic), do: :ok
  defp check_encode_option(o), do: raise(ArgumentError, "unknown encode option #{inspect(o)}")

  defp limit(:infinity), do: @infinity
  defp limit(n) when is_integer(n) and n >= 0, do: n

  defp existing?(:existing), do: true
  defp existing?(:create), do: false
end
