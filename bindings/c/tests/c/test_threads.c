/* One node handle used by many threads at once: concurrent calls (erpc and rpc:call) whose
 * answers must each be the caller's own, one process receiving in one thread while others
 * send to it, and each thread's own last error. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 8
#define CALLS 40

static bl_node *node;
static const char *target;
static atomic_int right, wrong;

/* Each call is list_to_tuple([[Thread, I]]): the answer names the caller, so a mixed-up reply
 * is seen. */
static void *caller(void *arg) {
    int t = (int)(long)arg;
    for (int i = 0; i < CALLS; i++) {
        char text[64], want[64];
        snprintf(text, sizeof text, "[[%d, %d]]", t, i);
        snprintf(want, sizeof want, "{%d,%d}", t, i);
        bl_buf args = term_of(text), r = {0}, shown = {0};
        int s = (i % 4 == 3) ? bl_rpc_call(node, target, "erlang", "list_to_tuple", args.data, args.len, LONG_MS, &r)
                             : bl_call(node, target, "erlang", "list_to_tuple", args.data, args.len, LONG_MS, &r);
        if (s == BL_OK && bl_term_print(r.data, r.len, BL_PRINT_ERLANG, &shown) == BL_OK &&
            strcmp(shown.data, want) == 0) {
            atomic_fetch_add(&right, 1);
        } else {
            atomic_fetch_add(&wrong, 1);
            printf("# thread %d call %d: %s %s\n", t, i, bl_status_name(s), s == BL_OK ? shown.data : bl_error_message());
        }
        bl_buf_free(&shown);
        bl_buf_free(&r);
        bl_buf_free(&args);
    }
    return NULL;
}

static void concurrent_calls(void) {
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, caller, (void *)t);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    CHECK(atomic_load(&right) == THREADS * CALLS && atomic_load(&wrong) == 0,
          "%d threads x %d calls on one node: %d right, %d wrong", THREADS, CALLS, atomic_load(&right),
          atomic_load(&wrong));
}

static bl_process *inbox;
static bl_buf inbox_pid;
static atomic_int received;

static void *receiver(void *arg) {
    (void)arg;
    bl_message m;
    while (atomic_load(&received) < THREADS && bl_receive(inbox, LONG_MS, &m) == BL_OK) {
        atomic_fetch_add(&received, 1);
        bl_message_free(&m);
    }
    return NULL;
}

static void *sender(void *arg) {
    bl_process *me = NULL;
    bl_process_new(node, &me);
    char text[32];
    snprintf(text, sizeof text, "{hello, %d}", (int)(long)arg);
    bl_buf msg = term_of(text);
    bl_send(me, inbox_pid.data, inbox_pid.len, msg.data, msg.len, LONG_MS);
    bl_buf_free(&msg);
    bl_process_free(me);
    return NULL;
}

static void receive_while_others_send(void) {
    bl_process_new(node, &inbox);
    bl_process_pid(inbox, &inbox_pid);
    pthread_t r, s[THREADS];
    pthread_create(&r, NULL, receiver, NULL);
    for (long t = 0; t < THREADS; t++) pthread_create(&s[t], NULL, sender, (void *)t);
    for (int t = 0; t < THREADS; t++) pthread_join(s[t], NULL);
    pthread_join(r, NULL);
    CHECK(atomic_load(&received) == THREADS, "one thread received %d messages from %d sending threads",
          atomic_load(&received), THREADS);
    bl_buf_free(&inbox_pid);
    bl_process_free(inbox);
}

struct last {
    int fail;
    int status;
    char message[128];
};

static void *own_error(void *arg) {
    struct last *l = arg;
    bl_buf args = term_of(l->fail ? "[mine]" : "[[1]]"), r = {0};
    bl_error_clear();
    l->status = l->fail ? bl_call(node, target, "erlang", "exit", args.data, args.len, LONG_MS, &r)
                        : bl_call(node, target, "erlang", "length", args.data, args.len, LONG_MS, &r);
    /* Let the other thread finish its call before reading ours. */
    sleep_ms(200);
    snprintf(l->message, sizeof l->message, "%s", bl_error_message());
    bl_buf_free(&r);
    bl_buf_free(&args);
    return NULL;
}

static void last_error_per_thread(void) {
    struct last a = {1, 0, ""}, b = {0, 0, ""};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, own_error, &a);
    pthread_create(&tb, NULL, own_error, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.status == BL_EXIT && strstr(a.message, "mine") != NULL, "the failing thread sees its error: %s", a.message);
    CHECK(b.status == BL_OK && b.message[0] == 0, "the other thread's last error is its own (none): '%s'", b.message);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TARGET COOKIE\n", argv[0]);
        return 2;
    }
    target = argv[1];
    node = start_node("c_threads", argv[2]);
    concurrent_calls();
    receive_while_others_send();
    last_error_per_thread();
    bl_node_close(node);
    return check_done();
}
