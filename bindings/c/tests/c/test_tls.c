/* TLS distribution against a real OTP 25 node started with -proto_dist inet_tls and an
 * ssl_dist_optfile that requires a client certificate (verify_peer, fail_if_no_peer_cert):
 * calls over TLS from the PEM files and from an optfile, the OTP node connecting to a
 * listening TLS node, and the statuses of what goes wrong — BL_TLS_CONFIG for settings that
 * cannot be used (a missing file, fields that do not go together, an optfile option beamlink
 * cannot honour), BL_TLS with the reason in the message for a CA that did not sign the
 * peer's certificate and for TLS on one side only.
 *
 * Arguments: TLS_TARGET PLAIN_TARGET COOKIE CERTFILE KEYFILE CACERTFILE OTHER_CACERTFILE
 * OPTFILE, where the certificate and key are ours (signed by CACERTFILE's CA, which also
 * signed the TLS target's), OTHER_CACERTFILE is a CA that signed neither, OPTFILE is an
 * ssl_dist_optfile with our certificate, and PLAIN_TARGET is a node without TLS. */
#include "check.h"

static const char *tls_target, *plain_target, *cookie;
static const char *certfile, *keyfile, *cacertfile, *other_ca, *optfile;

/* Options with the cookie and nothing else. */
static bl_node_options plain_options(void) {
    bl_node_options o = {0};
    o.cookie = cookie;
    return o;
}

/* Options for TLS from our PEM files, trusting `ca`. */
static bl_node_options pem_options(const char *ca) {
    bl_node_options o = plain_options();
    o.tls_certfile = certfile;
    o.tls_keyfile = keyfile;
    o.tls_cacertfile = ca;
    return o;
}

static bl_node *start(const char *prefix, const bl_node_options *o) {
    char name[128];
    unique_name(name, sizeof name, prefix);
    bl_node *n = NULL;
    if (!CHECK_STATUS(bl_node_start(name, o, LONG_MS, &n), BL_OK, "start a node")) exit(1);
    return n;
}

/* Starting with `o` fails with `want`, leaves no node, and the message contains `needle`. */
static void refused(const bl_node_options *o, int want, const char *needle, const char *what) {
    char name[128];
    unique_name(name, sizeof name, "c_tls_bad");
    bl_node *n = NULL;
    CHECK_STATUS(bl_node_start(name, o, LONG_MS, &n), want, what);
    CHECK(n == NULL, "no node on failure");
    CHECK(strstr(bl_error_message(), needle) != NULL, "the message says %s: %s", needle, bl_error_message());
}

/* A file in `dir` with `text`; its path in `path`. */
static void write_file(char *path, size_t size, const char *dir, const char *file, const char *text) {
    snprintf(path, size, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

static void configuration_errors(void) {
    bl_node_options o = pem_options(cacertfile);
    o.tls_keyfile = "/nonexistent/beamlink/node.key";
    refused(&o, BL_TLS_CONFIG, "/nonexistent/beamlink/node.key", "a key file that does not exist");
    CHECK(strstr(bl_error_message(), "TLS") != NULL, "and that it is about TLS");

    o = pem_options(cacertfile);
    o.tls_keyfile = certfile;
    refused(&o, BL_TLS_CONFIG, "no private key", "a key file with no key in it");

    o = plain_options();
    o.tls_certfile = certfile;
    refused(&o, BL_TLS_CONFIG, "tls_keyfile and tls_cacertfile are NULL", "a certificate without key and CA");

    o = pem_options(cacertfile);
    o.ssl_dist_optfile = optfile;
    refused(&o, BL_TLS_CONFIG, "one or the other", "an optfile and PEM files at once");

    o = plain_options();
    o.ssl_dist_optfile = "/nonexistent/beamlink/ssl_dist.conf";
    refused(&o, BL_TLS_CONFIG, "/nonexistent/beamlink/ssl_dist.conf", "an optfile that does not exist");

    char dir[] = "/tmp/beamlink_c_tls_XXXXXX", bad[128], client_only[128], text[1024];
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    write_file(bad, sizeof bad, dir, "password.conf", "[{client, [{password, \"secret\"}]}].\n");
    o = plain_options();
    o.ssl_dist_optfile = bad;
    refused(&o, BL_TLS_CONFIG, "password", "an optfile option beamlink cannot honour");

    /* A listening node needs a certificate for its server role. */
    snprintf(text, sizeof text, "[{client, [{cacertfile, \"%s\"}]}].\n", cacertfile);
    write_file(client_only, sizeof client_only, dir, "client_only.conf", text);
    o = plain_options();
    o.ssl_dist_optfile = client_only;
    o.listen = 1;
    refused(&o, BL_TLS_CONFIG, "server certificate", "a listening node with a client-only optfile");

    unlink(bad);
    unlink(client_only);
    rmdir(dir);
}

/* The node's name as the TLS target sees the connection: `address` names the transport. */
static void check_transport_is_tls(bl_node *n) {
    char args[256];
    snprintf(args, sizeof args, "['%s']", bl_node_name(n));
    bl_buf a = term_of(args), r = {0}, text = {0};
    CHECK_STATUS(bl_call(n, tls_target, "net_kernel", "node_info", a.data, a.len, LONG_MS, &r), BL_OK,
                 "net_kernel:node_info/1 about us, there");
    bl_term_print(r.data, r.len, BL_PRINT_ERLANG, &text);
    CHECK(text.data && strstr(text.data, ",tls,") != NULL, "the connection runs TLS: %.200s",
          text.data ? text.data : "");
    bl_buf_free(&text);
    bl_buf_free(&r);
    bl_buf_free(&a);
}

static void calls_over_tls(void) {
    /* From the PEM files. */
    bl_node_options o = pem_options(cacertfile);
    bl_node *n = start("c_tls_pem", &o);
    bl_buf r = {0};
    CHECK_STATUS(bl_call(n, tls_target, "erlang", "node", NULL, 0, LONG_MS, &r), BL_OK, "erlang:node() over TLS");
    check_term_is(&r, tls_target, "the value is the TLS node's name");
    bl_buf_free(&r);
    check_transport_is_tls(n);

    /* From an optfile, listening: the OTP node connects to it over TLS (the accepting role). */
    bl_node_options lo = plain_options();
    lo.ssl_dist_optfile = optfile;
    lo.listen = 1;
    bl_node *listener = start("c_tls_listen", &lo);
    char args[256];
    snprintf(args, sizeof args, "['%s']", bl_node_name(listener));
    bl_buf a = term_of(args);
    CHECK_STATUS(bl_call(n, tls_target, "net_adm", "ping", a.data, a.len, LONG_MS, &r), BL_OK,
                 "the TLS node pings our listening TLS node");
    check_term_is(&r, "pong", "pong: it was let in");
    bl_buf_free(&r);
    bl_buf_free(&a);
    CHECK_STATUS(bl_call(listener, tls_target, "erlang", "node", NULL, 0, LONG_MS, &r), BL_OK,
                 "a call back on the connection it accepted");
    check_term_is(&r, tls_target, "the value is the TLS node's name");
    bl_buf_free(&r);
    check_transport_is_tls(listener);
    bl_node_close(listener);
    bl_node_close(n);
}

static void handshake_failures(void) {
    /* We do not trust the CA that signed the TLS node's certificate. */
    bl_node_options o = pem_options(other_ca);
    bl_node *n = start("c_tls_wrong_ca", &o);
    CHECK_STATUS(bl_ping(n, tls_target, LONG_MS), BL_TLS, "ping with a CA that did not sign the peer: pang");
    CHECK(strstr(bl_error_message(), "TLS") && strstr(bl_error_message(), "not signed by a trusted CA"),
          "the message says TLS and why: %s", bl_error_message());
    bl_buf r = {0};
    CHECK_STATUS(bl_call(n, tls_target, "erlang", "node", NULL, 0, LONG_MS, &r), BL_TLS, "a call: the same");
    CHECK(r.data == NULL, "no result");
    bl_node_close(n);

    /* A plain-TCP beamlink node closes at once on our ClientHello. */
    bl_node_options po = plain_options();
    po.listen = 1;
    bl_node *plain = start("c_tls_plain", &po);
    o = pem_options(cacertfile);
    n = start("c_tls_client", &o);
    CHECK_STATUS(bl_connect(n, bl_node_name(plain), LONG_MS), BL_TLS, "TLS toward a plain-TCP listener");
    CHECK(strstr(bl_error_message(), "does not speak TLS") && strstr(bl_error_message(), "plain-TCP"),
          "the message says so: %s", bl_error_message());

    /* A plain-TCP OTP node reads the ClientHello as a length and waits in silence until one
     * side gives up (7 s): the status says TLS and the message why it may be. */
    CHECK_STATUS(bl_ping(n, plain_target, LONG_MS), BL_TLS, "TLS toward a plain-TCP OTP node");
    CHECK(strstr(bl_error_message(), "plain-TCP") != NULL, "the message says why it may be: %s",
          bl_error_message());
    bl_node_close(n);

    /* A node without TLS meets the TLS node's answer. */
    CHECK_STATUS(bl_ping(plain, tls_target, LONG_MS), BL_TLS, "plain TCP toward a TLS node");
    CHECK(strstr(bl_error_message(), "speaks TLS") != NULL, "the message says so: %s", bl_error_message());
    bl_node_close(plain);
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr,
                "usage: %s TLS_TARGET PLAIN_TARGET COOKIE CERTFILE KEYFILE CACERTFILE OTHER_CACERTFILE OPTFILE\n",
                argv[0]);
        return 2;
    }
    tls_target = argv[1];
    plain_target = argv[2];
    cookie = argv[3];
    certfile = argv[4];
    keyfile = argv[5];
    cacertfile = argv[6];
    other_ca = argv[7];
    optfile = argv[8];
    configuration_errors();
    calls_over_tls();
    handshake_failures();
    return check_done();
}
