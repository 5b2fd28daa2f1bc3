defmodule Beamlink.Native do
  @moduledoc false
  # The NIF's functions (bindings/elixir), loaded from priv/native. Only the public modules
  # call these; every network operation returns `{:ok, tag}` at once and its result arrives
  # later as `{:"$beamlink", tag, result}`.

  @on_load :load_nif

  def load_nif do
    path = :filename.join(:code.priv_dir(:beamlink), ~c"native/libbeamlink_elixir")
    :erlang.load_nif(path, 0)
  end

  defp nif, do: :erlang.nif_error(:beamlink_nif_not_loaded)

  def node_start(_opts), do: nif()
  def node_close(_node), do: nif()
  def node_name(_node), do: nif()
  def nodes(_node), do: nif()
  def ping(_node, _name, _timeout), do: nif()
  def subscribe(_node, _pid), do: nif()
  def cancel(_tag), do: nif()

  def call(_node, _name, _m, _f, _args, _timeout), do: nif()
  def rpc(_node, _name, _m, _f, _args, _timeout), do: nif()
  def multicall(_node, _names, _m, _f, _args, _timeout), do: nif()
  def spawn(_node, _name, _m, _f, _args, _forwarder, _timeout), do: nif()

  def proxy_create(_node, _owner), do: nif()
  def proxy_lookup(_node), do: nif()
  def proxy_end(_node, _owner, _reason), do: nif()
  def register(_node, _name), do: nif()
  def whereis(_node, _name), do: nif()
  def send(_node, _to, _msg), do: nif()
  def link(_node, _pid), do: nif()
  def unlink(_node, _pid), do: nif()
  def monitor(_node, _target), do: nif()
  def demonitor(_node, _ref), do: nif()
  def exit(_node, _pid, _reason), do: nif()

  def decode(_bin, _opts), do: nif()
  def decode_dirty(_bin, _opts), do: nif()

  def panic_for_test(_node, _place), do: nif()
  def roundtrip(_node), do: nif()
end
