defmodule Beamlink.Output do
  @moduledoc false
  # The forwarder of a remote spawn's output: the engine streams the text the remote process
  # prints to this process, which writes it to the group leader of whoever spawned it, so it
  # appears on the local console as `Node.spawn` output does. Ends with the remote process.

  @doc false
  def start(group_leader) do
    Kernel.spawn(fn ->
      ref = Process.monitor(group_leader)
      loop(group_leader, ref)
    end)
  end

  defp loop(gl, ref) do
    receive do
      {:"$beamlink_output", _pid, text} ->
        IO.write(gl, text)
        loop(gl, ref)

      {:"$beamlink_exit", _pid, _reason} ->
        :ok

      :"$beamlink_cancel" ->
        :ok

      # Nobody to write to any more.
      {:DOWN, ^ref, :process, _, _} ->
        :ok
    end
  end
end
