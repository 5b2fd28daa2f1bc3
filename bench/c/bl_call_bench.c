/* The C client of libbeamlink that `make bench` times against OTP's own C client
 * (bench/ei/ei_rpc_bench.c) and against beamlink's Rust API.
 *
 *   bl_call_bench NODE COOKIE CONNECTS WARM CALLS erpc|rex
 *
 * Makes CONNECTS fresh connections to NODE (a new node, then bl_connect: epmd lookup +
 * handshake, each under a new name), then, on the last one, WARM untimed and CALLS timed
 * calls of erlang:node/0, with bl_call (erpc) or bl_rpc_call (rpc:call through rex, as
 * ei_rpc). Prints the same two lines of nanoseconds as the ei client:
 *
 *   CONNECT_NS t1 t2 ...
 *   CALL_NS t1 t2 ...
 *
 * Every answer is checked to be an atom (ETF tag 118/119/100), so a failing call can never
 * pass for a fast one. Exit status 1 on any error, with the reason on stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beamlink.h"

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *node) {
    fprintf(stderr, "bl_call_bench: %s %s failed: %s\n", what, node, bl_error_message());
    exit(1);
}

static void call(bl_node *n, const char *target, int rex) {
    bl_buf r = {0};
    int s = rex ? bl_rpc_call(n, target, "erlang", "node", NULL, 0, 120000, &r)
                : bl_call(n, target, "erlang", "node", NULL, 0, 120000, &r);
    if (s != BL_OK) die("calling erlang:node/0 on", target);
    unsigned char tag = r.len > 1 ? (unsigned char)r.data[1] : 0;
    if (tag != 118 && tag != 119 && tag != 100) die("erlang:node/0 answered a non-atom: call on", target);
    bl_buf_free(&r);
}

int main(int argc, char **argv) {
    if (argc != 7 || (strcmp(argv[6], "erpc") != 0 && strcmp(argv[6], "rex") != 0)) {
        fprintf(stderr, "usage: bl_call_bench NODE COOKIE CONNECTS WARM CALLS erpc|rex\n");
        return 2;
    }
    const char *target = argv[1];
    int connects = atoi(argv[3]), warm = atoi(argv[4]), calls = atoi(argv[5]);
    int rex = strcmp(argv[6], "rex") == 0;
    if (connects < 1 || warm < 0 || calls < 0) {
        fprintf(stderr, "bl_call_bench: CONNECTS must be >= 1, WARM and CALLS >= 0\n");
        return 2;
    }
    long long *cs = calloc((size_t)connects, sizeof *cs);
    long long *ts = calloc(calls > 0 ? (size_t)calls : 1, sizeof *ts);
    if (!cs || !ts) die("allocating for", target);

    bl_node_options opts = {0};
    opts.cookie = argv[2];
    bl_node *node = NULL;
    for (int i = 0; i < connects; i++) {
        char name[64];
        snprintf(name, sizeof name, "blbench%d_%d@localhost", (int)getpid(), i);
        bl_node *next = NULL;
        long long t0 = now_ns();
        if (bl_node_start(name, &opts, 10000, &next) != BL_OK) die("bl_node_start for", target);
        if (bl_connect(next, target, 10000) != BL_OK) die("bl_connect to", target);
        cs[i] = now_ns() - t0;
        /* The previous node closes after the next one is up, so the engine stays running
         * between connects, as it does in a program that keeps one node. */
        bl_node_close(node);
        node = next;
    }
    for (int i = 0; i < warm; i++) call(node, target, rex);
    for (int i = 0; i < calls; i++) {
        long long t0 = now_ns();
        call(node, target, rex);
        ts[i] = now_ns() - t0;
    }
    bl_node_close(node);

    printf("CONNECT_NS");
    for (int i = 0; i < connects; i++) printf(" %lld", cs[i]);
    printf("\nCALL_NS");
    for (int i = 0; i < calls; i++) printf(" %lld", ts[i]);
    printf("\n");
    free(cs);
    free(ts);
    return 0;
}
