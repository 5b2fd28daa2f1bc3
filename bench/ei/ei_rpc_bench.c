/* The reference C client of `make bench`: OTP's own erl_interface (`ei`), the way a C program
 * calls a BEAM node today.
 *
 *   ei_rpc_bench NODE COOKIE CONNECTS WARM CALLS [MODULE FUNCTION]
 *
 * Makes CONNECTS fresh connections to NODE (epmd lookup + handshake each, every one under a
 * new node name so the peer never sees a reconnect), then, on the last one, WARM untimed and
 * CALLS timed `ei_rpc` calls of MODULE:FUNCTION() (default erlang:node/0: rpc:call through
 * `rex`). Prints two lines of nanoseconds, one figure per connect or call:
 *
 *   CONNECT_NS t1 t2 ...
 *   CALL_NS t1 t2 ...
 *
 * Each call's answer is decoded and checked (an atom, or any term for other functions), so a
 * failing call can never pass for a fast one. Exit status 1 on any error, with the reason on
 * stderr. Used by bench/src/ei.rs; the C binding's own rows reuse it the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ei.h"

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *node) {
    fprintf(stderr, "ei_rpc_bench: %s %s failed (erl_errno %d)\n", what, node, erl_errno);
    exit(1);
}

/* One rpc:call with an empty argument list; the reply's type is read to make sure it is a
 * term (and an atom for erlang:node/0). */
static void call(ei_cnode *ec, int fd, char *mod, char *fun, const char *node) {
    char args[8];
    int len = 0;
    ei_x_buff reply;
    int index = 0, type = 0, size = 0;

    ei_encode_list_header(args, &len, 0); /* [] */
    if (ei_x_new(&reply) < 0) die("ei_x_new for", node);
    if (ei_rpc(ec, fd, mod, fun, args, len, &reply) < 0) die("ei_rpc to", node);
    /* ei_rpc leaves the bare reply term (no version byte) in the buffer. */
    if (ei_get_type(reply.buff, &index, &type, &size) < 0) die("decoding the reply of", node);
    if (strcmp(mod, "erlang") == 0 && strcmp(fun, "node") == 0 &&
        type != ERL_ATOM_EXT && type != ERL_SMALL_ATOM_UTF8_EXT && type != ERL_ATOM_UTF8_EXT)
        die("erlang:node/0 answered a non-atom: call on", node);
    ei_x_free(&reply);
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 8) {
        fprintf(stderr, "usage: ei_rpc_bench NODE COOKIE CONNECTS WARM CALLS [MODULE FUNCTION]\n");
        return 2;
    }
    char *node = argv[1], *cookie = argv[2];
    int connects = atoi(argv[3]), warm = atoi(argv[4]), calls = atoi(argv[5]);
    char *mod = argc == 8 ? argv[6] : "erlang";
    char *fun = argc == 8 ? argv[7] : "node";
    if (connects < 1 || warm < 0 || calls < 0) {
        fprintf(stderr, "ei_rpc_bench: CONNECTS must be >= 1, WARM and CALLS >= 0\n");
        return 2;
    }
    long long *cs = calloc(connects, sizeof *cs);
    long long *ts = calloc(calls > 0 ? calls : 1, sizeof *ts);
    if (!cs || !ts) die("allocating for", node);
    if (ei_init() != 0) die("ei_init for", node);

    ei_cnode ec;
    int fd = -1;
    for (int i = 0; i < connects; i++) {
        char name[64];
        snprintf(name, sizeof name, "eibench%d_%d", (int)getpid(), i);
        if (fd >= 0) ei_close_connection(fd);
        long long t0 = now_ns();
        if (ei_connect_init(&ec, name, cookie, 0) < 0) die("ei_connect_init for", node);
        fd = ei_connect(&ec, node);
        if (fd < 0) die("ei_connect to", node);
        cs[i] = now_ns() - t0;
    }
    for (int i = 0; i < warm; i++) call(&ec, fd, mod, fun, node);
    for (int i = 0; i < calls; i++) {
        long long t0 = now_ns();
        call(&ec, fd, mod, fun, node);
        ts[i] = now_ns() - t0;
    }
    ei_close_connection(fd);

    printf("CONNECT_NS");
    for (int i = 0; i < connects; i++) printf(" %lld", cs[i]);
    printf("\nCALL_NS");
    for (int i = 0; i < calls; i++) printf(" %lld", ts[i]);
    printf("\n");
    free(cs);
    free(ts);
    return 0;
}
