defmodule Beamlink.TestPKI do
  @moduledoc """
  Certificates for the TLS tests, made at test time with the `openssl` command (P-256 keys,
  a few milliseconds each) in a scratch directory removed by `remove/1`: no private key is
  committed. The Elixir side of `tests/support/src/pki.rs`.
  """
  alias Beamlink.TestNode

  defstruct [:dir, :ca, :ca_key, :config]

  @type t :: %__MODULE__{dir: Path.t(), ca: Path.t(), ca_key: Path.t(), config: Path.t()}

  @doc "A new CA named after `name`, in a fresh scratch directory."
  def generate(name) do
    dir = TestNode.scratch_dir("pki_#{name}")
    config = Path.join(dir, "openssl.cnf")

    File.write!(config, """
    [req]
    distinguished_name = dn
    [dn]
    [ca]
    basicConstraints = critical, CA:TRUE
    keyUsage = critical, keyCertSign, cRLSign
    subjectKeyIdentifier = hash
    """)

    pki = %__MODULE__{
      dir: dir,
      ca: Path.join(dir, "ca.pem"),
      ca_key: Path.join(dir, "ca.key"),
      config: config
    }

    openssl!(
      pki,
      [
        "req",
        "-x509",
        "-config",
        config,
        "-extensions",
        "ca",
        "-subj",
        "/CN=beamlink test CA #{name}",
        "-days",
        "2"
        | new_key(pki.ca_key)
      ] ++ ["-out", pki.ca]
    )

    pki
  end

  @doc "A certificate for `hosts` (DNS names or IPv4 addresses), good for both TLS roles: `%{cert:, key:}`."
  def node_cert(pki, name, hosts \\ ["localhost", "127.0.0.1"]) do
    [cert, key, csr, ext] = Enum.map(~w(pem key csr ext), &Path.join(pki.dir, "#{name}.#{&1}"))

    san =
      Enum.map_join(hosts, ", ", fn h ->
        if match?({:ok, _}, :inet.parse_address(String.to_charlist(h))), do: "IP:#{h}", else: "DNS:#{h}"
      end)

    File.write!(ext, """
    [node]
    basicConstraints = CA:FALSE
    keyUsage = digitalSignature
    extendedKeyUsage = serverAuth, clientAuth
    subjectAltName = #{san}
    """)

    openssl!(
      pki,
      ["req", "-new", "-config", pki.config, "-subj", "/CN=#{name}" | new_key(key)] ++ ["-out", csr]
    )

    serial = Integer.to_string(:rand.uniform(Bitwise.bsl(1, 62)))

    openssl!(
      pki,
      ~w(x509 -req -sha256 -days 2 -extensions node) ++
        [
          "-in",
          csr,
          "-CA",
          pki.ca,
          "-CAkey",
          pki.ca_key,
          "-set_serial",
          serial,
          "-extfile",
          ext,
          "-out",
          cert
        ]
    )

    File.chmod!(key, 0o600)
    %{cert: cert, key: key}
  end

  @doc """
  An `-ssl_dist_optfile` for an OTP node presenting `node`, requiring a client certificate
  signed by this CA (`verify_peer`, `fail_if_no_peer_cert`), offering TLS 1.3 and 1.2.
  """
  def optfile(pki, node) do
    q = &inspect(&1, binaries: :as_strings)
    files = "{certfile, #{q.(node.cert)}}, {keyfile, #{q.(node.key)}}, {cacertfile, #{q.(pki.ca)}}"

    text = """
    [{server, [#{files}, {verify, verify_peer}, {fail_if_no_peer_cert, true}, {versions, ['tlsv1.3', 'tlsv1.2']}]},
     {client, [#{files}, {verify, verify_peer}, {versions, ['tlsv1.3', 'tlsv1.2']}]}].
    """

    path = Path.join(pki.dir, "#{TestNode.unique("ssl_dist")}.conf")
    File.write!(path, text)
    path
  end

  @doc "Removes the CA's directory, keys and all."
  def remove(pki), do: File.rm_rf!(pki.dir)

  defp new_key(out), do: ~w(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout) ++ [out]

  defp openssl!(pki, args) do
    case System.cmd("openssl", args, cd: pki.dir, stderr_to_stdout: true) do
      {_, 0} -> :ok
      {out, status} -> raise "openssl #{Enum.join(args, " ")} exited with #{status}: #{out}"
    end
  end
end
