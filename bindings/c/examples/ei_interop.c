/* ei_interop.c: libbeamlink beside erl_interface. Call arguments built with ei_x_encode_*,
 * results decoded with ei_decode_*; and the other way round, a term parsed by beamlink read
 * with ei, and an ei buffer printed by beamlink.
 *
 *   EI=$(erl -noshell -eval 'io:format("~s",[code:lib_dir(erl_interface)]),halt().')
 *   cc -std=c11 ei_interop.c $(pkg-config --cflags --libs beamlink) \
 *      -I$EI/include -L$EI/lib -lei -pthread -o ei_interop
 *   ./ei_interop fuga@localhost mycookie
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <beamlink.h>
#include <ei.h>

#define FAIL(...)                     \
    do {                              \
        fprintf(stderr, __VA_ARGS__); \
        fprintf(stderr, "\n");        \
        return 1;                     \
    } while (0)

/* [['héllo', 42, <<"bin">>, 2.5]] built with ei: UTF-8 atoms need ei_x_encode_atom_as
 * (ei_x_encode_atom takes its input as Latin-1). */
static void encode_args(ei_x_buff *x) {
    ei_x_new_with_version(x);
    ei_x_encode_list_header(x, 1);
    ei_x_encode_list_header(x, 4);
    ei_x_encode_atom_as(x, "h\xc3\xa9llo", ERLANG_UTF8, ERLANG_UTF8);
    ei_x_encode_long(x, 42);
    ei_x_encode_binary(x, "bin", 3);
    ei_x_encode_double(x, 2.5);
    ei_x_encode_empty_list(x);
    ei_x_encode_empty_list(x);
}

static int ei_to_beamlink(bl_node *node, const char *target) {
    ei_x_buff args;
    encode_args(&args);
    bl_buf result = {0};
    int s = bl_call(node, target, "lists", "reverse", args.buff, (size_t)args.index, 5000, &result);
    ei_x_free(&args);
    if (s != BL_OK) FAIL("lists:reverse: %s", bl_error_message());

    /* The value, walked with ei_decode_*: [2.5, <<"bin">>, 42, 'héllo'] */
    int index = 0, version = 0, arity = 0;
    double d = 0;
    char bin[8] = {0};
    long bin_len = 0, n = 0;
    char atom[MAXATOMLEN_UTF8];
    int ok = ei_decode_version(result.data, &index, &version) == 0 &&
             ei_decode_list_header(result.data, &index, &arity) == 0 && arity == 4 &&
             ei_decode_double(result.data, &index, &d) == 0 && d == 2.5 &&
             ei_decode_binary(result.data, &index, bin, &bin_len) == 0 && bin_len == 3 &&
             ei_decode_long(result.data, &index, &n) == 0 && n == 42 &&
             ei_decode_atom_as(result.data, &index, atom, sizeof atom, ERLANG_UTF8, NULL, NULL) == 0;
    bl_buf_free(&result);
    if (!ok || strcmp(atom, "h\xc3\xa9llo") != 0 || memcmp(bin, "bin", 3) != 0)
        FAIL("the reversed list did not decode with ei as expected");
    printf("ei -> beamlink -> ei: lists:reverse gave [%.1f, <<\"%.3s\">>, %ld, '%s']\n", d, bin, n, atom);

    /* erlang:atom_to_binary/1 on the atom: the node saw the right atom, not mojibake. */
    ei_x_buff one;
    ei_x_new_with_version(&one);
    ei_x_encode_list_header(&one, 1);
    ei_x_encode_atom_as(&one, "h\xc3\xa9llo", ERLANG_UTF8, ERLANG_UTF8);
    ei_x_encode_empty_list(&one);
    s = bl_call(node, target, "erlang", "atom_to_binary", one.buff, (size_t)one.index, 5000, &result);
    ei_x_free(&one);
    if (s != BL_OK) FAIL("erlang:atom_to_binary: %s", bl_error_message());
    index = 1;
    char text[16] = {0};
    long len = 0;
    if (ei_decode_binary(result.data, &index, text, &len) != 0 || len != 6 || memcmp(text, "h\xc3\xa9llo", 6) != 0)
        FAIL("the atom arrived as something else");
    printf("the node read the atom as %.6s\n", text);
    bl_buf_free(&result);
    return 0;
}

static int beamlink_to_ei(void) {
    /* A term parsed by beamlink, read with ei. */
    bl_buf etf = {0};
    if (bl_term_parse("{ok, [1, <<\"x\">>]}", &etf) != BL_OK) FAIL("parse: %s", bl_error_message());
    int index = 0, version = 0, arity = 0, items = 0;
    char atom[MAXATOMLEN];
    long one = 0, bin_len = 0;
    char bin[2] = {0};
    int ok = ei_decode_version(etf.data, &index, &version) == 0 &&
             ei_decode_tuple_header(etf.data, &index, &arity) == 0 && arity == 2 &&
             ei_decode_atom(etf.data, &index, atom) == 0 && strcmp(atom, "ok") == 0 &&
             ei_decode_list_header(etf.data, &index, &items) == 0 && items == 2 &&
             ei_decode_long(etf.data, &index, &one) == 0 && one == 1 &&
             ei_decode_binary(etf.data, &index, bin, &bin_len) == 0 && bin_len == 1 && bin[0] == 'x';
    bl_buf_free(&etf);
    if (!ok) FAIL("ei could not read what bl_term_parse wrote");
    printf("beamlink -> ei: {ok, [1, <<\"x\">>]} decoded with ei_decode_*\n");

    /* An ei buffer (without the version byte here) printed by beamlink. */
    ei_x_buff x;
    ei_x_new(&x);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "point");
    ei_x_encode_map_header(&x, 1);
    ei_x_encode_atom(&x, "x");
    ei_x_encode_long(&x, -7);
    bl_buf text = {0};
    int s = bl_term_print(x.buff, (size_t)x.index, BL_PRINT_ERLANG, &text);
    ei_x_free(&x);
    if (s != BL_OK || strcmp(text.data, "{point,#{x => -7}}") != 0) FAIL("printing an ei buffer");
    printf("ei -> beamlink text: %s\n", text.data);
    bl_buf_free(&text);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: ei_interop NODE COOKIE\n");
        return 2;
    }
    ei_init();
    char name[64];
    snprintf(name, sizeof name, "ei_interop_%d", (int)getpid());
    bl_node_options options = {0};
    options.cookie = argv[2];
    bl_node *node = NULL;
    if (bl_node_start(name, &options, 5000, &node) != BL_OK) FAIL("start: %s", bl_error_message());
    int failed = ei_to_beamlink(node, argv[1]) || beamlink_to_ei();
    bl_node_close(node);
    return failed;
}
