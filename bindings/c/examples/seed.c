/* seed.c: the seed session from C. What one types in `iex --sname hoge --cookie mycookie`
 * (Node.ping, Node.list, Person.say_hello, Node.spawn with the output back, and an error),
 * done by a C program against running Elixir nodes:
 *
 *   ./seed fuga@localhost mycookie [piyo@localhost ...]
 *
 * The nodes define Person.say_hello/1 and Toukon.say/0 (see scripts/demo.sh).
 */
#include <stdio.h>
#include <unistd.h>

#include <beamlink.h>

/* An ETF term printed as Elixir (inspect/1). */
static void elixir(const bl_buf *etf) {
    bl_buf text = {0};
    bl_term_print(etf->data, etf->len, BL_PRINT_ELIXIR, &text);
    printf("%s", text.data ? text.data : "?");
    bl_buf_free(&text);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: seed NODE COOKIE [OTHER_NODE...]\n");
        return 2;
    }
    const char *fuga = argv[1];
    char name[64];
    snprintf(name, sizeof name, "hoge_c_%d@localhost", (int)getpid());
    bl_node_options options = {0};
    options.cookie = argv[2];
    bl_node *node = NULL;
    if (bl_node_start(name, &options, 5000, &node) != BL_OK) {
        fprintf(stderr, "seed: %s\n", bl_error_message());
        return 1;
    }
    int failed = 0;

    /* Node.ping/1 */
    for (int i = 1; i < argc; i++) {
        if (i == 2) continue;
        int s = bl_ping(node, argv[i], 5000);
        printf("Node.ping(:\"%s\")  #=> :%s\n", argv[i], s == BL_OK ? "pong" : "pang");
        failed |= s != BL_OK;
    }

    /* Node.list/0 */
    bl_strlist nodes = {0};
    bl_nodes(node, &nodes);
    printf("Node.list()  #=> [");
    for (size_t i = 0; i < nodes.len; i++) printf("%s:\"%s\"", i ? ", " : "", nodes.items[i]);
    printf("]\n");
    bl_strlist_free(&nodes);

    /* :rpc.call(:"fuga@localhost", Person, :say_hello, [node()]) */
    char text[128];
    snprintf(text, sizeof text, "['%s']", bl_node_name(node));
    bl_buf args = {0}, hello = {0};
    bl_term_parse(text, &args);
    int s = bl_rpc_call(node, fuga, "Elixir.Person", "say_hello", args.data, args.len, 5000, &hello);
    bl_buf_free(&args);
    printf(":rpc.call(:\"%s\", Person, :say_hello, [node()])  #=> ", fuga);
    if (s == BL_OK) elixir(&hello);
    else printf("%s", bl_error_message());
    printf("\n");
    bl_buf_free(&hello);
    failed |= s != BL_OK;

    /* Node.spawn(:"fuga@localhost", fn -> Toukon.aisatsu() |> IO.puts() end): the output
     * comes back here. */
    bl_spawned *p = NULL;
    s = bl_spawn(node, fuga, "Elixir.Toukon", "say", NULL, 0, 5000, &p);
    if (s == BL_OK) {
        printf("Node.spawn(:\"%s\", Toukon, :say, []) printed here: ", fuga);
        bl_spawn_event e;
        while (bl_spawned_next(p, 5000, &e) == BL_OK) {
            int over = e.kind == BL_SPAWN_EXIT;
            if (over) {
                printf("(exit: ");
                elixir(&e.data);
                printf(")\n");
            } else {
                printf("%s", e.data.data);
            }
            bl_spawn_event_free(&e);
            if (over) break;
        }
        bl_spawned_free(p);
    } else {
        printf("spawn failed: %s\n", bl_error_message());
        failed = 1;
    }

    /* One error: :erlang.error(:boom) raised over there, reported here. */
    bl_buf boom = {0}, none = {0};
    bl_term_parse("[boom]", &boom);
    s = bl_call(node, fuga, "erlang", "error", boom.data, boom.len, 5000, &none);
    bl_buf_free(&boom);
    if (s == BL_ERROR) {
        bl_buf reason = {0};
        bl_error_term(&reason);
        printf(":erpc.call(:\"%s\", :erlang, :error, [:boom])  #=> ** (ErlangError) Erlang error: ", fuga);
        elixir(&reason);
        printf("  (%s)\n", bl_status_name(s));
        bl_buf_free(&reason);
    } else {
        printf(":erlang.error(:boom) gave %s\n", bl_status_name(s));
        failed = 1;
    }

    bl_node_close(node);
    return failed;
}
