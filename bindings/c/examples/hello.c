/* hello.c: libbeamlink's quick start. A hidden node pings an Erlang node, calls two
 * functions on it (arguments written as Erlang text, results printed as Erlang text) and
 * shows how a remote error comes back.
 *
 *   cc -std=c11 hello.c $(pkg-config --cflags --libs beamlink) -o hello
 *   ./hello fuga@localhost mycookie
 */
#include <stdio.h>
#include <unistd.h>

#include <beamlink.h>

/* Prints an ETF term as Erlang text. */
static void print_term(const char *label, const bl_buf *etf) {
    bl_buf text = {0};
    if (bl_term_print(etf->data, etf->len, BL_PRINT_ERLANG, &text) == BL_OK) printf("%s%s\n", label, text.data);
    bl_buf_free(&text);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: hello NODE COOKIE\n");
        return 2;
    }
    const char *target = argv[1];
    char name[64];
    snprintf(name, sizeof name, "hello_c_%d", (int)getpid());

    bl_node_options options = {0};
    options.cookie = argv[2];
    bl_node *node = NULL;
    int s = bl_node_start(name, &options, 5000, &node);
    if (s != BL_OK) {
        fprintf(stderr, "cannot start: %s\n", bl_error_message());
        return 1;
    }

    s = bl_ping(node, target, 5000);
    printf("ping %s: %s\n", target, s == BL_OK ? "pong" : bl_error_message());
    int failed = s != BL_OK;

    /* lists:reverse([1, 2, 3]) */
    bl_buf args = {0}, result = {0};
    bl_term_parse("[[1, 2, 3]]", &args);
    s = bl_call(node, target, "lists", "reverse", args.data, args.len, 5000, &result);
    if (s == BL_OK) {
        print_term("lists:reverse([1, 2, 3]) = ", &result);
    } else {
        printf("lists:reverse failed: %s\n", bl_error_message());
        failed = 1;
    }
    bl_buf_free(&args);
    bl_buf_free(&result);

    /* erlang:error(boom): the status says what happened, the error term says which. */
    bl_term_parse("[boom]", &args);
    s = bl_call(node, target, "erlang", "error", args.data, args.len, 5000, &result);
    if (s == BL_ERROR) {
        bl_buf reason = {0};
        bl_error_term(&reason);
        print_term("erlang:error(boom) raised ", &reason);
        bl_buf_free(&reason);
    } else {
        printf("erlang:error(boom) gave %s, not BL_ERROR\n", bl_status_name(s));
        failed = 1;
    }
    bl_buf_free(&args);

    bl_node_close(node);
    return failed;
}
