defmodule Beamlink.TLSTest do
  # TLS distribution from a VM that is not distributed, against a real OTP 25 node started
  # with `-proto_dist inet_tls` that verifies its peers and requires a client certificate.
  # Certificates are made at test time (Beamlink.TestPKI). OTP 25 only: the OTP 28 runtime
  # the suite uses has no `ssl` application.
  use ExUnit.Case, async: true

  alias Beamlink.{TestNode, TestNodes, TestPKI}

  # An OTP node's first TLS handshakes load and parse a lot; the machine may be busy.
  @connect_timeout 20_000

  setup_all do
    pki = TestPKI.generate("ex_tls")
    stranger = TestPKI.generate("ex_stranger")

    remote =
      TestNode.start(
        prefix: "ex_tls",
        tls: TestPKI.optfile(pki, TestPKI.node_cert(pki, "otp", ["localhost"]))
      )

    on_exit(fn ->
      TestNode.stop(remote)
      TestPKI.remove(pki)
      TestPKI.remove(stranger)
    end)

    %{pki: pki, stranger: stranger, remote: remote, ours: TestPKI.node_cert(pki, "beamlink")}
  end

  defp start_node(tls, id \\ :tls) do
    opts = [
      node: TestNode.unique("bl_tls"),
      cookie: TestNodes.cookie(),
      connect_timeout: @connect_timeout,
      tls: tls
    ]

    start_supervised!({Beamlink.Node, opts}, id: id)
  end

  test "a call over TLS 1.3 returns the TLS node's name, and the node sees a TLS connection", ctx do
    %{pki: pki, ours: ours, remote: remote} = ctx
    h = start_node(certfile: ours.cert, keyfile: ours.key, cacertfile: pki.ca, versions: [:"tlsv1.3"])

    assert Beamlink.call(h, remote.name, :erlang, :node, []) == {:ok, remote.name}
    assert Beamlink.ping(h, remote.name) == :pong

    # The connection as the node sees it: its distribution carrier is TLS.
    me = Beamlink.name(h)

    {:ok, protocol} =
      TestNode.eval(
        remote,
        "{ok, I} = net_kernel:node_info('#{me}'), element(4, proplists:get_value(address, I))."
      )

    assert protocol == :tls
    refute Node.alive?()
  end

  test "an ssl_dist_optfile gives the same settings as erl reads them", %{pki: pki, remote: remote} do
    h = start_node(ssl_dist_optfile: TestPKI.optfile(pki, TestPKI.node_cert(pki, "beamlink_opt")))
    assert Beamlink.call(h, remote.name, :erlang, :node, []) == {:ok, remote.name}
  end

  test "without :keyfile the key is read from :certfile, as OTP reads it", %{
    pki: pki,
    ours: ours,
    remote: remote
  } do
    both = Path.join(pki.dir, "beamlink_both.pem")
    File.write!(both, File.read!(ours.cert) <> File.read!(ours.key))
    h = start_node(certfile: both, cacertfile: pki.ca)
    assert Beamlink.call(h, remote.name, :erlang, :node, []) == {:ok, remote.name}
  end

  test "a CA that did not sign the node: the typed TLS error, in call, rpc, call!, send and multicall", ctx do
    %{stranger: stranger, ours: ours, remote: remote} = ctx
    h = start_node(certfile: ours.cert, keyfile: ours.key, cacertfile: stranger.ca)

    assert {:error, %Beamlink.NoConnectionError{kind: :tls, reason: {:unknown_ca, :theirs}} = e} =
             Beamlink.call(h, remote.name, :erlang, :node, [])

    assert e.node == remote.name
    assert Exception.message(e) =~ "not signed by a trusted CA"
    # rpc and call! answer as :rpc.call/5 and :erpc.call/5 do.
    assert Beamlink.rpc(h, remote.name, :erlang, :node, []) == {:badrpc, :nodedown}
    assert catch_error(Beamlink.call!(h, remote.name, :erlang, :node, [])) == {:erpc, :noconnection}

    assert {:error, %Beamlink.NoConnectionError{kind: :tls, reason: {:unknown_ca, :theirs}}} =
             Beamlink.send(h, {:rex, remote.name}, :hello)

    assert [{:error, %Beamlink.NoConnectionError{kind: :tls, reason: {:unknown_ca, :theirs}}}] =
             Beamlink.multicall(h, [remote.name], :erlang, :node, [])

    assert Beamlink.ping(h, remote.name) == :pang
  end

  test "a certificate the node's CA did not sign: the node refuses ours", ctx do
    %{pki: pki, stranger: stranger, remote: remote} = ctx
    theirs = TestPKI.node_cert(stranger, "beamlink_stranger")
    h = start_node(certfile: theirs.cert, keyfile: theirs.key, cacertfile: pki.ca)

    # OTP closes right after its alert, and a reset may overtake it: such an attempt reads as
    # :refused, never as another reason (see refused_by_peer in native/beamlink/tests/tls.rs).
    reasons =
      Enum.reduce_while(1..8, [], fn _, seen ->
        {:error, %Beamlink.NoConnectionError{kind: :tls, reason: r}} =
          Beamlink.call(h, remote.name, :erlang, :node, [])

        if r == :refused, do: {:cont, [r | seen]}, else: {:halt, [r | seen]}
      end)

    assert hd(reasons) == {:unknown_ca, :ours}, inspect(reasons)
  end

  test "a missing certificate file, a bad optfile: the configuration error at start", %{pki: pki} do
    missing = Path.join(pki.dir, "nope.pem")
    Process.flag(:trap_exit, true)

    assert {:error, %Beamlink.NodeError{kind: :tls_config, detail: detail}} =
             Beamlink.Node.start_link(tls: [certfile: missing, cacertfile: pki.ca])

    assert detail =~ "cannot read certificate from #{missing}"

    optfile = Path.join(pki.dir, "password.conf")
    File.write!(optfile, ~s([{client, [{certfile, "x.pem"}, {password, "secret"}]}].))

    assert {:error, %Beamlink.NodeError{kind: :tls_config, detail: detail}} =
             Beamlink.Node.start_link(tls: [ssl_dist_optfile: optfile])

    assert detail =~ "password"
  end

  test "options that are not TLS settings raise ArgumentError", %{pki: pki, ours: ours} do
    files = [certfile: ours.cert, cacertfile: pki.ca]

    for {tls, message} <- [
          {[certfile: ours.cert], ":cacertfile is required"},
          {[cacertfile: pki.ca], ":certfile is required"},
          {[{:password, "x"} | files], "unknown options [:password]"},
          {[{:versions, [:"tlsv1.1"]} | files], "got: :\"tlsv1.1\""},
          {[{:versions, []} | files], "non-empty list"},
          {[{:verify, :verify_none} | files], ":verify may only be :verify_peer"},
          {[{:server_name_indication, ~c"other.host"} | files], "may only be :disable"},
          {[{:fail_if_no_peer_cert, :yes} | files], "must be true or false"},
          {[{:ssl_dist_optfile, "f.conf"} | files], "leave out [:certfile, :cacertfile]"},
          {[{:certfile, 42}, {:cacertfile, pki.ca}], ":certfile must be a file name"},
          {"f.conf", "expected a keyword list of TLS settings"}
        ] do
      e = assert_raise ArgumentError, fn -> Beamlink.Node.start_link(tls: tls) end
      assert e.message =~ message, "#{inspect(tls)}: #{e.message}"
    end
  end
end
