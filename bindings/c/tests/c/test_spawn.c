/* Remote spawns with the output coming back: output chunks then the exit (pollable, with
 * timeouts), a refused spawn, an unreachable node. */
#include "check.h"

static bl_node *node;
static const char *target;

static void output_and_exit(void) {
    bl_buf args = term_of("[[\"one\", \"two \xe2\x9c\x93\"], finished]");
    bl_spawned *p = NULL;
    CHECK_STATUS(bl_spawn(node, target, "beamlink_c_test", "print_then_exit", args.data, args.len, LONG_MS, &p),
                 BL_OK, "spawn a process that prints");
    bl_buf_free(&args);
    bl_buf pid = {0};
    CHECK_STATUS(bl_spawned_pid(p, &pid), BL_OK, "its pid");
    bl_buf text = {0};
    bl_term_print(pid.data, pid.len, BL_PRINT_ERLANG, &text);
    CHECK(text.data && strstr(text.data, target) != NULL, "a pid on the target: %s", text.data ? text.data : "");
    bl_buf_free(&text);
    bl_buf_free(&pid);

    char output[256] = {0};
    bl_spawn_event e;
    int exited = 0, events = 0;
    while (!exited && events < 20 && bl_spawned_next(p, LONG_MS, &e) == BL_OK) {
        events++;
        if (e.kind == BL_SPAWN_OUTPUT) {
            strncat(output, e.data.data, sizeof output - strlen(output) - 1);
        } else {
            exited = 1;
            CHECK(e.kind == BL_SPAWN_EXIT, "then the exit");
            check_term_is(&e.data, "finished", "with its reason");
        }
        bl_spawn_event_free(&e);
    }
    CHECK(exited, "the process exited");
    CHECK(strcmp(output, "one\ntwo \xe2\x9c\x93\n") == 0, "its output came back whole: %s", output);
    CHECK_STATUS(bl_spawned_next(p, 0, &e), BL_OK, "after the exit, the exit again");
    CHECK(e.kind == BL_SPAWN_EXIT, "the same event");
    bl_spawn_event_free(&e);
    bl_spawned_free(p);

    /* io:format through the spawn, as Node.spawn + IO.puts. */
    args = term_of("[\"~p and ~ts~n\", [42, <<\"text\"/utf8>>]]");
    CHECK_STATUS(bl_spawn(node, target, "io", "format", args.data, args.len, LONG_MS, &p), BL_OK, "spawn io:format");
    bl_buf_free(&args);
    CHECK_STATUS(bl_spawned_next(p, LONG_MS, &e), BL_OK, "output");
    CHECK(e.kind == BL_SPAWN_OUTPUT && strcmp(e.data.data, "42 and text\n") == 0, "formatted there, shown here: %s",
          e.data.data ? e.data.data : "");
    bl_spawn_event_free(&e);
    CHECK_STATUS(bl_spawned_next(p, LONG_MS, &e), BL_OK, "exit");
    check_term_is(&e.data, "normal", "normal exit");
    bl_spawn_event_free(&e);
    bl_spawned_free(p);

    /* Polling a process that is busy. */
    args = term_of("[5000]");
    CHECK_STATUS(bl_spawn(node, target, "timer", "sleep", args.data, args.len, LONG_MS, &p), BL_OK, "spawn a sleeper");
    bl_buf_free(&args);
    CHECK_STATUS(bl_spawned_next(p, 0, &e), BL_TIMEOUT, "polled: nothing yet");
    CHECK_STATUS(bl_spawned_next(p, SHORT_MS, &e), BL_TIMEOUT, "nothing within a short wait");
    CHECK(e.kind == 0 && e.data.data == NULL, "the event is empty");
    bl_spawned_free(p);
}

static void failures(const char *cookie) {
    bl_spawned *p = NULL;
    char nobody[128];
    unique_name(nobody, sizeof nobody, "nobody");
    CHECK_STATUS(bl_spawn(node, nobody, "erlang", "node", NULL, 0, LONG_MS, &p), BL_NO_CONNECTION,
                 "spawn on a node that is not there");
    CHECK(p == NULL, "no handle");

    /* A beamlink node runs no Erlang code: it refuses spawn requests (notsup). */
    char name[128];
    unique_name(name, sizeof name, "c_refuser");
    bl_node_options opts = {0};
    opts.cookie = cookie;
    opts.listen = 1;
    bl_node *refuser = NULL;
    CHECK_STATUS(bl_node_start(name, &opts, LONG_MS, &refuser), BL_OK, "a listening beamlink node");
    CHECK_STATUS(bl_spawn(node, name, "erlang", "node", NULL, 0, LONG_MS, &p), BL_SPAWN_FAILED,
                 "spawn on a node that refuses");
    check_error_term_is("notsup", "the refusal's reason");
    bl_node_close(refuser);

    bl_buf bad = term_of("not_a_list");
    CHECK_STATUS(bl_spawn(node, target, "erlang", "node", bad.data, bad.len, LONG_MS, &p), BL_BAD_ARGUMENT,
                 "arguments that are not a list");
    bl_buf_free(&bad);
    CHECK_STATUS(bl_spawned_next(NULL, 0, NULL), BL_BAD_ARGUMENT, "NULL handle");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TARGET COOKIE\n", argv[0]);
        return 2;
    }
    target = argv[1];
    node = start_node("c_spawn", argv[2]);
    output_and_exit();
    failures(argv[2]);
    bl_node_close(node);
    return check_done();
}
