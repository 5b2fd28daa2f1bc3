/* Terms at the boundary: Erlang text in and out (Erlang and Elixir syntax), ETF checked on
 * the way in, and erl_interface both ways: ei-built arguments accepted, results and pids read
 * with ei_decode_*, ei buffers with and without the version byte printed. */
#include "check.h"

#include <ei.h>

static bl_node *node;
static const char *target;

static void text_forms(void) {
    bl_buf etf = {0}, text = {0};
    CHECK_STATUS(bl_term_parse("{ok, [1, <<\"x\">>], #{k => 2.5}, \"str\", 'Quoted atom'}.", &etf), BL_OK, "parse");
    check_term_is(&etf, "{ok,[1,<<\"x\">>],#{k => 2.5},\"str\",'Quoted atom'}", "print it back");
    CHECK_STATUS(bl_term_print(etf.data, etf.len, BL_PRINT_ELIXIR, &text), BL_OK, "print as Elixir");
    CHECK(text.data && strcmp(text.data, "{:ok, [1, \"x\"], %{k: 2.5}, 'str', :\"Quoted atom\"}") == 0,
          "Elixir syntax: %s", text.data ? text.data : "");
    bl_buf_free(&text);
    CHECK_STATUS(bl_term_print(etf.data + 1, etf.len - 1, BL_PRINT_ERLANG, &text), BL_OK,
                 "print without the version byte");
    bl_buf_free(&text);
    CHECK_STATUS(bl_term_print(etf.data, etf.len, 7, &text), BL_BAD_ARGUMENT, "unknown print flags");
    CHECK_STATUS(bl_term_print(etf.data, etf.len - 1, BL_PRINT_ERLANG, &text), BL_DECODE, "a truncated term");
    CHECK(text.data == NULL, "no text on failure");
    bl_buf_free(&etf);

    CHECK_STATUS(bl_term_parse("{ok,", &etf), BL_BAD_ARGUMENT, "a syntax error");
    CHECK(strstr(bl_error_message(), "1:5") != NULL, "the message says where: %s", bl_error_message());
    CHECK_STATUS(bl_term_parse(NULL, &etf), BL_BAD_ARGUMENT, "NULL text");
    CHECK_STATUS(bl_term_parse("ok", NULL), BL_BAD_ARGUMENT, "NULL out");
    const unsigned char garbage[] = {131, 255, 1, 2};
    CHECK_STATUS(bl_term_print(garbage, sizeof garbage, BL_PRINT_ERLANG, &text), BL_DECODE, "not ETF at all");
    CHECK_STATUS(bl_term_print(NULL, 0, BL_PRINT_ERLANG, &text), BL_DECODE, "no bytes");
}

static void ei_arguments(void) {
    /* erlang:list_to_tuple([['héllo', -42, <<"bin">>, "str", 2.5, {t}, #{a => 1}]]) */
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_list_header(&x, 7);
    ei_x_encode_atom_as(&x, "h\xc3\xa9llo", ERLANG_UTF8, ERLANG_UTF8);
    ei_x_encode_long(&x, -42);
    ei_x_encode_binary(&x, "bin", 3);
    ei_x_encode_string(&x, "str");
    ei_x_encode_double(&x, 2.5);
    ei_x_encode_tuple_header(&x, 1);
    ei_x_encode_atom(&x, "t");
    ei_x_encode_map_header(&x, 1);
    ei_x_encode_atom(&x, "a");
    ei_x_encode_long(&x, 1);
    ei_x_encode_empty_list(&x);
    ei_x_encode_empty_list(&x);
    bl_buf r = {0};
    CHECK_STATUS(bl_call(node, target, "erlang", "list_to_tuple", x.buff, (size_t)x.index, LONG_MS, &r), BL_OK,
                 "a call with ei-built arguments (with the version byte)");
    check_term_is(&r, "{h\xc3\xa9llo,-42,<<\"bin\">>,\"str\",2.5,{t},#{a => 1}}", "the node got them all");

    /* The value, read with ei. */
    int i = 0, v = 0, arity = 0, type = 0, size = 0;
    char atom[MAXATOMLEN_UTF8];
    long n = 0;
    CHECK(ei_decode_version(r.data, &i, &v) == 0 && v == 131, "ei reads the version byte");
    CHECK(ei_decode_tuple_header(r.data, &i, &arity) == 0 && arity == 7, "ei reads the tuple");
    CHECK(ei_decode_atom_as(r.data, &i, atom, sizeof atom, ERLANG_UTF8, NULL, NULL) == 0 &&
              strcmp(atom, "h\xc3\xa9llo") == 0,
          "ei reads the UTF-8 atom: %s", atom);
    CHECK(ei_decode_long(r.data, &i, &n) == 0 && n == -42, "ei reads the integer");
    CHECK(ei_get_type(r.data, &i, &type, &size) == 0 && type == ERL_BINARY_EXT && size == 3, "a binary follows");
    bl_buf_free(&r);

    /* Without the version byte (ei_x_new), the same. */
    ei_x_buff bare;
    ei_x_new(&bare);
    ei_x_encode_list_header(&bare, 1);
    ei_x_encode_long(&bare, 7);
    ei_x_encode_empty_list(&bare);
    CHECK_STATUS(bl_call(node, target, "erlang", "abs", bare.buff, (size_t)bare.index, LONG_MS, &r), BL_OK,
                 "ei arguments without the version byte");
    check_term_is(&r, "7", "abs(7)");
    bl_buf_free(&r);
    ei_x_free(&bare);

    /* Latin-1 atoms from ei_x_encode_atom reach the node as the same atom. */
    ei_x_buff latin;
    ei_x_new_with_version(&latin);
    ei_x_encode_list_header(&latin, 1);
    ei_x_encode_atom(&latin, "caf\xe9");
    ei_x_encode_empty_list(&latin);
    CHECK_STATUS(bl_call(node, target, "erlang", "atom_to_list", latin.buff, (size_t)latin.index, LONG_MS, &r),
                 BL_OK, "a Latin-1 atom from ei_x_encode_atom");
    check_term_is(&r, "\"caf\xc3\xa9\"", "it is caf\xc3\xa9");
    bl_buf_free(&r);
    ei_x_free(&latin);
    ei_x_free(&x);

    /* A large binary as an argument, and its size back. */
    size_t big = 1 << 20;
    char *bytes = calloc(big, 1);
    ei_x_buff large;
    ei_x_new_with_version(&large);
    ei_x_encode_list_header(&large, 1);
    ei_x_encode_binary(&large, bytes, (long)big);
    ei_x_encode_empty_list(&large);
    free(bytes);
    CHECK_STATUS(bl_call(node, target, "erlang", "byte_size", large.buff, (size_t)large.index, LONG_MS, &r), BL_OK,
                 "a 1 MiB binary argument");
    check_term_is(&r, "1048576", "its size");
    bl_buf_free(&r);
    ei_x_free(&large);
}

static void ei_results(void) {
    bl_buf etf = {0};
    CHECK_STATUS(bl_term_parse("{ok, [1, <<\"x\">>]}", &etf), BL_OK, "parse for ei");
    int i = 0, v = 0, arity = 0, items = 0;
    char atom[MAXATOMLEN];
    long one = 0, len = 0;
    char bin[2];
    CHECK(ei_decode_version(etf.data, &i, &v) == 0 && ei_decode_tuple_header(etf.data, &i, &arity) == 0 &&
              arity == 2 && ei_decode_atom(etf.data, &i, atom) == 0 && strcmp(atom, "ok") == 0 &&
              ei_decode_list_header(etf.data, &i, &items) == 0 && items == 2 &&
              ei_decode_long(etf.data, &i, &one) == 0 && one == 1 && ei_decode_binary(etf.data, &i, bin, &len) == 0 &&
              len == 1 && bin[0] == 'x',
          "ei decodes what bl_term_parse wrote");
    bl_buf_free(&etf);

    /* A pid of ours, read with ei_decode_pid, names our node. */
    bl_process *p = NULL;
    CHECK_STATUS(bl_process_new(node, &p), BL_OK, "a process");
    bl_buf pid = {0};
    CHECK_STATUS(bl_process_pid(p, &pid), BL_OK, "its pid");
    erlang_pid ep;
    i = 0;
    CHECK(ei_decode_version(pid.data, &i, &v) == 0 && ei_decode_pid(pid.data, &i, &ep) == 0 &&
              strcmp(ep.node, bl_node_name(node)) == 0,
          "ei_decode_pid reads it: %s", ep.node);
    bl_buf_free(&pid);

    /* A remote pid from a call, re-encoded by ei, works as a beamlink pid argument. */
    bl_buf remote = {0};
    CHECK_STATUS(bl_call(node, target, "erlang", "whereis", NULL, 0, LONG_MS, &remote), BL_UNDEF,
                 "whereis/0 does not exist");
    bl_buf args = term_of("[init]");
    CHECK_STATUS(bl_call(node, target, "erlang", "whereis", args.data, args.len, LONG_MS, &remote), BL_OK,
                 "whereis(init)");
    bl_buf_free(&args);
    i = 0;
    CHECK(ei_decode_version(remote.data, &i, &v) == 0 && ei_decode_pid(remote.data, &i, &ep) == 0 &&
              strcmp(ep.node, target) == 0,
          "ei reads the remote pid of %s", ep.node);
    ei_x_buff again;
    ei_x_new_with_version(&again);
    ei_x_encode_pid(&again, &ep);
    bl_buf ref = {0};
    CHECK_STATUS(bl_monitor(p, again.buff, (size_t)again.index, LONG_MS, &ref), BL_OK,
                 "an ei-encoded remote pid is a valid bl_monitor() argument");
    CHECK_STATUS(bl_demonitor(p, ref.data, ref.len, LONG_MS), BL_OK, "demonitor");
    ei_x_free(&again);
    bl_buf_free(&ref);
    bl_buf_free(&remote);
    bl_process_free(p);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TARGET COOKIE\n", argv[0]);
        return 2;
    }
    ei_init();
    target = argv[1];
    node = start_node("c_terms", argv[2]);
    text_forms();
    ei_arguments();
    ei_results();
    bl_node_close(node);
    return check_done();
}
