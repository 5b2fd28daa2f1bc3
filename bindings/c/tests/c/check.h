/* A minimal test harness for the C test programs: TAP-style lines, a failure count, and
 * checks that show the library's last error when a status is not the expected one.
 * Each program takes TARGET (an Erlang node with beamlink_c_test loaded) and COOKIE. */
#ifndef BEAMLINK_CHECK_H
#define BEAMLINK_CHECK_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beamlink.h"

static int check_failures;
static int check_count;

/* Generous for what must succeed (the programs also run under valgrind), short for what must
 * time out. */
#define LONG_MS 15000
#define SHORT_MS 200

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        check_count++;                                                      \
        if (cond) {                                                         \
            printf("ok %d - ", check_count);                                \
        } else {                                                            \
            check_failures++;                                               \
            printf("not ok %d - %s:%d: ", check_count, __FILE__, __LINE__); \
        }                                                                   \
        printf(__VA_ARGS__);                                                \
        printf("\n");                                                       \
        fflush(stdout);                                                     \
    } while (0)

/* A status compared with the one expected; on a mismatch the last error is shown. */
static inline int check_status_(int got, int want, const char *what, const char *file, int line) {
    check_count++;
    if (got == want) {
        printf("ok %d - %s: %s\n", check_count, what, bl_status_name(got));
    } else {
        check_failures++;
        printf("not ok %d - %s:%d: %s: %s (wanted %s)\n", check_count, file, line, what,
               bl_status_name(got), bl_status_name(want));
        if (got != BL_OK) printf("#   last error: %s\n", bl_error_message());
    }
    fflush(stdout);
    return got == want;
}
#define CHECK_STATUS(expr, want, what) check_status_((expr), (want), (what), __FILE__, __LINE__)

/* The buffer's text form (Erlang syntax) compared with `want`. */
static inline int check_term_is(const bl_buf *etf, const char *want, const char *what) {
    bl_buf text = {0};
    int s = bl_term_print(etf->data, etf->len, BL_PRINT_ERLANG, &text);
    int ok = s == BL_OK && strcmp(text.data, want) == 0;
    CHECK(ok, "%s: %s", what, s == BL_OK ? text.data : bl_error_message());
    if (!ok) printf("#   wanted %s\n", want);
    bl_buf_free(&text);
    return ok;
}

/* The last error's term, printed, compared with `want`. */
static inline void check_error_term_is(const char *want, const char *what) {
    bl_buf t = {0};
    int s = bl_error_term(&t);
    CHECK(s == BL_OK, "%s: the error has a term", what);
    if (s == BL_OK) check_term_is(&t, want, what);
    bl_buf_free(&t);
}

/* ETF of an Erlang term written as text; aborts on a syntax error (a bug in the test). */
static inline bl_buf term_of(const char *text) {
    bl_buf b = {0};
    if (bl_term_parse(text, &b) != BL_OK) {
        fprintf(stderr, "bad test term %s: %s\n", text, bl_error_message());
        exit(2);
    }
    return b;
}

/* A node name nobody else uses. */
static inline void unique_name(char *out, size_t size, const char *prefix) {
    static int n;
    snprintf(out, size, "%s_%d_%d@localhost", prefix, (int)getpid(), n++);
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts a node with the cookie, named uniquely after `prefix`; exits on failure. */
static inline bl_node *start_node(const char *prefix, const char *cookie) {
    char name[128];
    unique_name(name, sizeof name, prefix);
    bl_node_options opts = {0};
    opts.cookie = cookie;
    bl_node *node = NULL;
    if (bl_node_start(name, &opts, LONG_MS, &node) != BL_OK) {
        fprintf(stderr, "cannot start node %s: %s\n", name, bl_error_message());
        exit(2);
    }
    return node;
}

static inline int check_done(void) {
    printf("1..%d\n", check_count);
    if (check_failures) printf("# %d of %d checks failed\n", check_failures, check_count);
    return check_failures ? 1 : 0;
}

#endif
