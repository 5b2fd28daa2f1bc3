defmodule Beamlink.RemoteError do
  @moduledoc """
  The remote code raised an error (`:erlang.error/1`, a failed match, `raise` in Elixir…).

  `reason` is the error reason as the remote process saw it (for a raised Elixir exception, the
  exception struct) and `stacktrace` the remote stacktrace. `Beamlink.call!/6` raises
  `{:exception, reason, stacktrace}` as an `:error`, exactly as `:erpc.call/5` does.
  """
  defexception [:node, :module, :function, :reason, stacktrace: []]

  @type t :: %__MODULE__{
          node: node() | nil,
          module: module() | nil,
          function: atom() | nil,
          reason: term(),
          stacktrace: list()
        }

  @impl true
  def message(e) do
    "#{e.node}: #{inspect(e.module)}.#{e.function} raised #{format(e.reason)}"
  end

  defp format(%{__exception__: true} = ex), do: "#{inspect(ex.__struct__)}: #{Exception.message(ex)}"
  defp format(reason), do: inspect(reason)
end

defmodule Beamlink.RemoteExit do
  @moduledoc """
  The remote code exited (`exit(reason)`, `signal: false`), or its process was killed by an
  exit signal before it could answer (`signal: true`). `:erpc.call/5`, and so
  `Beamlink.call!/6`, exits with `{:exception, reason}` and `{:signal, reason}` respectively.
  """
  defexception [:node, :reason, signal: false]

  @type t :: %__MODULE__{node: node() | nil, reason: term(), signal: boolean()}

  @impl true
  def message(%{signal: false} = e), do: "#{e.node}: the remote call exited: #{inspect(e.reason)}"
  def message(e), do: "#{e.node}: the remote process was killed: #{inspect(e.reason)}"
end

defmodule Beamlink.RemoteThrow do
  @moduledoc "The remote code threw a value nobody caught (`Beamlink.call!/6` throws it again)."
  defexception [:node, :value]

  @type t :: %__MODULE__{node: node() | nil, value: term()}

  @impl true
  def message(e), do: "#{e.node}: the remote call threw #{inspect(e.value)}"
end

defmodule Beamlink.UndefError do
  @moduledoc """
  The function called does not exist on the remote node: its module is not loaded there, or
  does not export it. `stacktrace` is the remote one (`Beamlink.call!/6` raises
  `{:exception, :undef, stacktrace}`, as `:erpc.call/5` does).
  """
  defexception [:node, :module, :function, :arity, stacktrace: []]

  @type t :: %__MODULE__{
          node: node() | nil,
          module: module(),
          function: atom(),
          arity: non_neg_integer(),
          stacktrace: list()
        }

  @impl true
  def message(e),
    do: "#{e.node}: function #{inspect(e.module)}.#{e.function}/#{e.arity} is undefined there"
end

defmodule Beamlink.NoConnectionError do
  @moduledoc """
  No connection to `node`: it could not be reached (unknown to epmd, refused the cookie, down),
  or the connection was lost before the answer came (the node died mid-call).

  `kind` says why when beamlink knows it, `nil` otherwise: `:tls` when the TLS handshake
  failed (TLS distribution, see `Beamlink.Node`), and then `reason` says how:

    * `{:unknown_ca, whose}`, `{:expired, whose}`, `{:not_yet_valid, whose}`,
      `{:bad_certificate, whose}` — a certificate was refused: `whose` is `:theirs` (we refused
      the node's: not signed by our `cacertfile`, expired…) or `:ours` (the node refused ours);
    * `:wrong_host_name` — the node's certificate does not name the host we dialed;
    * `:no_certificate` — the node presented none;
    * `:refused` — the node ended the handshake (e.g. it requires a client certificate);
    * `:not_tls` and `:timeout` — the node does not speak TLS (a plain-TCP node);
    * `:failed` — anything else (`detail` tells).
  """
  defexception [:node, :detail, :kind, :reason]

  @type tls_reason ::
          {:unknown_ca | :expired | :not_yet_valid | :bad_certificate, :theirs | :ours}
          | :wrong_host_name
          | :no_certificate
          | :refused
          | :not_tls
          | :timeout
          | :failed

  @type t :: %__MODULE__{node: node(), detail: String.t(), kind: :tls | nil, reason: tls_reason() | nil}

  @impl true
  def message(e), do: "no connection to #{e.node}: #{e.detail}"
end

defmodule Beamlink.TimeoutError do
  @moduledoc "No answer within `timeout` milliseconds; the call was abandoned."
  defexception [:node, :timeout]

  @type t :: %__MODULE__{node: node(), timeout: non_neg_integer() | :infinity}

  @impl true
  def message(e), do: "no answer from #{e.node} within #{e.timeout} ms"
end

defmodule Beamlink.SpawnError do
  @moduledoc """
  The remote node refused to spawn the process (`reason` as it answered: `:badopt`,
  `:notsup`, `:system_limit`…).
  """
  defexception [:node, :reason]

  @type t :: %__MODULE__{node: node(), reason: term()}

  @impl true
  def message(e), do: "#{e.node} refused to spawn: #{inspect(e.reason)}"
end

defmodule Beamlink.BadRpcError do
  @moduledoc "The remote `rex` server answered `{:badrpc, reason}` (see `Beamlink.rpc/6`)."
  defexception [:node, :reason]

  @type t :: %__MODULE__{node: node() | nil, reason: term()}

  @impl true
  def message(e), do: "#{e.node}: badrpc #{inspect(e.reason)}"
end

defmodule Beamlink.DecodeError do
  @moduledoc """
  Bytes that are not an acceptable term: `reason` says why and `offset` where (counted from
  the start of the input; inside a compressed term, from the start of the inflated data).

  Reasons: `:truncated`, `:bad_version`, `:unknown_tag`, `:invalid`, `:too_deep`,
  `:too_large`, `:compression`, `:trailing_bytes`, `:atom_cache_ref` (a distribution-only
  encoding) and `:unknown_atom` (an atom that does not exist, when only existing atoms are
  allowed).
  """
  defexception [:reason, :offset, :detail]

  @type t :: %__MODULE__{reason: atom(), offset: non_neg_integer(), detail: String.t()}

  @impl true
  def message(e), do: "cannot decode the term (#{e.reason} at byte #{e.offset}): #{e.detail}"
end

defmodule Beamlink.NodeError do
  @moduledoc """
  A failure of the beamlink node itself. `kind`: `:bad_name`, `:bad_cookie`, `:tls_config`
  (TLS settings that cannot be used: a file missing or unreadable, a key that does not fit the
  certificate, an `ssl_dist_optfile` option beamlink cannot honour), `:epmd`, `:noconnection`,
  `:tls` (a TLS handshake failed; `reason` says how, as in `Beamlink.NoConnectionError`),
  `:name_in_use`, `:listen`, `:closed` (the node was stopped), `:not_started` (no node under
  that name), `:invalid` (a bad argument), `:shutdown`.
  """
  defexception [:kind, :detail, :reason]

  @type t :: %__MODULE__{
          kind: atom(),
          detail: String.t(),
          reason: Beamlink.NoConnectionError.tls_reason() | nil
        }

  @impl true
  def message(e), do: "beamlink node: #{e.detail}"
end

defmodule Beamlink.InternalError do
  @moduledoc """
  A bug in beamlink: the native code panicked. The panic was caught (the VM is unharmed) and
  reported here instead; please report it with `detail`.
  """
  defexception [:detail]

  @type t :: %__MODULE__{detail: String.t()}

  @impl true
  def message(e), do: "beamlink internal error (a panic was caught): #{e.detail}"
end

defmodule Beamlink.Error do
  @moduledoc false
  # Native error tuples (bindings/elixir/src/errors.rs) as exception structs. `call` is
  # {node, module, function} of the operation, for the messages.

  @type t ::
          Beamlink.RemoteError.t()
          | Beamlink.RemoteExit.t()
          | Beamlink.RemoteThrow.t()
          | Beamlink.UndefError.t()
          | Beamlink.NoConnectionError.t()
          | Beamlink.TimeoutError.t()
          | Beamlink.SpawnError.t()
          | Beamlink.BadRpcError.t()
          | Beamlink.DecodeError.t()
          | Beamlink.NodeError.t()
          | Beamlink.InternalError.t()

  def from_native(native, call \\ {nil, nil, nil})

  def from_native({:raised, reason, stack}, {node, m, f}),
    do: %Beamlink.RemoteError{node: node, module: m, function: f, reason: reason, stacktrace: stack}

  def from_native({:exited, reason, signal}, {node, _, _}),
    do: %Beamlink.RemoteExit{node: node, reason: reason, signal: signal}

  def from_native({:thrown, value}, {node, _, _}), do: %Beamlink.RemoteThrow{node: node, value: value}

  def from_native({:undef, m, f, arity, stack}, {node, _, _}),
    do: %Beamlink.UndefError{node: node, module: m, function: f, arity: arity, stacktrace: stack}

  def from_native({:noconnection, node, detail}, _),
    do: %Beamlink.NoConnectionError{node: String.to_atom(node), detail: detail}

  def from_native({:noconnection, node, detail, kind, reason}, _),
    do: %Beamlink.NoConnectionError{node: String.to_atom(node), detail: detail, kind: kind, reason: reason}

  def from_native({:timeout, node, ms}, _),
    do: %Beamlink.TimeoutError{node: String.to_atom(node), timeout: ms}

  def from_native({:spawn_failed, node, reason}, _),
    do: %Beamlink.SpawnError{node: String.to_atom(node), reason: reason}

  def from_native({:badrpc, reason}, {node, _, _}), do: %Beamlink.BadRpcError{node: node, reason: reason}

  def from_native({:decode, reason, offset, detail}, _),
    do: %Beamlink.DecodeError{reason: reason, offset: offset, detail: detail}

  def from_native({:node, kind, detail}, _), do: %Beamlink.NodeError{kind: kind, detail: detail}

  def from_native({:node, kind, detail, reason}, _),
    do: %Beamlink.NodeError{kind: kind, detail: detail, reason: reason}

  def from_native({:panic, detail}, _), do: %Beamlink.InternalError{detail: detail}
  def from_native(:none, _), do: %Beamlink.InternalError{detail: "no beamlink process for the caller"}
end
