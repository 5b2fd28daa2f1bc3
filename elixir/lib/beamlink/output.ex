defmodule Beamlink.Output do
  @moduledoc false
  # The forwarder of a remote spawn's output: the engine streams the text the remote process
  # prints to this process, which writes it to the group leader of whoever spawned it, so it
  # appears on the local console as `Node.spawn` output does. Ends with the remote process;
  # for `spawn_monitor` it then sends the caller the DOWN, after all of the output.

  @doc false
  def start(group_leader, down_to \\ nil) do
    Kernel.spawn(fn ->
      ref = Process.monitor(group_leader)
      loop(group_leader, ref, down_to)
    end)
  end

  defp loop(gl, ref, down_to) do
    receive do
      {:"$beamlink_output", _pid, text} ->
        IO.write(gl, text)
        loop(gl, ref, down_to)

      {:"$beamlink_exit", pid, reason} ->
        with {caller, mref} <- down_to, do: send(caller, {:DOWN, mref, :process, pid, reason})

      :"$beamlink_cancel" ->
        :ok

      # Nobody to write to any more.
      {:DOWN, ^ref, :process, _, _} when down_to == nil ->
        :ok
    end
  end
end
