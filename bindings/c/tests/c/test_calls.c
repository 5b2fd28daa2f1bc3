/* Calls with erpc and rpc:call semantics against a real node: values, every remote failure
 * kind with its error term readable as ETF and as text, timeouts, bad arguments, and the
 * asynchronous handle (waited on, polled, called back, cancelled). */
#include "check.h"

#include <stdatomic.h>

static bl_node *node;
static const char *target;

/* A call whose arguments are written as Erlang text. */
static int call_text(int rex, const char *m, const char *f, const char *args, int timeout, bl_buf *r) {
    bl_buf a = term_of(args);
    int s = rex ? bl_rpc_call(node, target, m, f, a.data, a.len, timeout, r)
                : bl_call(node, target, m, f, a.data, a.len, timeout, r);
    bl_buf_free(&a);
    return s;
}

static void values(void) {
    bl_buf r = {0};
    char want[300];
    CHECK_STATUS(bl_call(node, target, "erlang", "node", NULL, 0, LONG_MS, &r), BL_OK, "erpc erlang:node()");
    snprintf(want, sizeof want, "%s", target); /* '@' needs no quotes in an atom */
    check_term_is(&r, want, "the value is the target's name");
    CHECK(r.data[0] == (char)131, "the value starts with the version byte");
    bl_buf_free(&r);

    CHECK_STATUS(call_text(0, "lists", "reverse", "[[1, 2.5, <<\"x\">>, {a, \"b\"}]]", LONG_MS, &r), BL_OK,
                 "erpc lists:reverse/1");
    check_term_is(&r, "[{a,\"b\"},<<\"x\">>,2.5,1]", "arguments and value round-trip");
    bl_buf_free(&r);

    CHECK_STATUS(call_text(0, "unicode", "characters_to_binary", "[\"h\xc3\xa9llo\"]", LONG_MS, &r), BL_OK,
                 "erpc with a non-ASCII string");
    check_term_is(&r, "<<\"h\xc3\xa9llo\"/utf8>>", "UTF-8 text survives both ways");
    bl_buf_free(&r);

    CHECK_STATUS(call_text(1, "erlang", "node", "[]", LONG_MS, &r), BL_OK, "rpc:call erlang:node()");
    check_term_is(&r, want, "rpc:call value");
    bl_buf_free(&r);

    CHECK_STATUS(call_text(1, "erlang", "throw", "[ball]", LONG_MS, &r), BL_OK, "rpc:call of a throw is a value");
    check_term_is(&r, "ball", "the thrown value");
    bl_buf_free(&r);
}

static void remote_failures(void) {
    bl_buf r = {0};
    CHECK_STATUS(call_text(0, "erlang", "error", "[{boom, 42}]", LONG_MS, &r), BL_ERROR, "erpc error(...)");
    CHECK(r.data == NULL && r.len == 0, "the result is empty on failure");
    check_error_term_is("{boom,42}", "error reason");
    CHECK(strstr(bl_error_message(), "{boom,42}") != NULL, "the message names the reason: %s", bl_error_message());
    bl_buf st = {0};
    CHECK_STATUS(bl_error_stacktrace(&st), BL_OK, "an error has a stacktrace");
    bl_buf text = {0};
    CHECK_STATUS(bl_term_print(st.data, st.len, BL_PRINT_ERLANG, &text), BL_OK, "the stacktrace prints");
    CHECK(text.data && text.data[0] == '[', "the stacktrace is a list: %.60s", text.data ? text.data : "");
    bl_buf_free(&text);
    bl_buf_free(&st);
    CHECK(bl_error_status() == BL_ERROR, "bl_error_status() is the last status");

    CHECK_STATUS(call_text(0, "erlang", "exit", "[bye]", LONG_MS, &r), BL_EXIT, "erpc exit(...)");
    check_error_term_is("bye", "exit reason");
    CHECK_STATUS(bl_error_stacktrace(&st), BL_BAD_ARGUMENT, "an exit has no stacktrace");

    CHECK_STATUS(call_text(0, "erlang", "throw", "[{ball, 1}]", LONG_MS, &r), BL_THROW, "erpc throw(...)");
    check_error_term_is("{ball,1}", "thrown value");

    CHECK_STATUS(call_text(0, "no_such_module", "f", "[1, 2]", LONG_MS, &r), BL_UNDEF, "erpc of a missing function");
    check_error_term_is("{no_such_module,f,2}", "undef names module, function, arity");

    CHECK_STATUS(call_text(0, "timer", "sleep", "[10000]", SHORT_MS, &r), BL_TIMEOUT, "erpc past its timeout");
    CHECK_STATUS(bl_error_term(&st), BL_BAD_ARGUMENT, "a timeout has no term");

    CHECK_STATUS(call_text(1, "erlang", "exit", "[bye]", LONG_MS, &r), BL_BADRPC, "rpc:call of an exit");
    check_error_term_is("{'EXIT',bye}", "badrpc reason");
    CHECK_STATUS(call_text(1, "timer", "sleep", "[10000]", SHORT_MS, &r), BL_TIMEOUT, "rpc:call past its timeout");

    char nobody[128];
    unique_name(nobody, sizeof nobody, "nobody");
    CHECK_STATUS(bl_call(node, nobody, "erlang", "node", NULL, 0, LONG_MS, &r), BL_NO_CONNECTION,
                 "a call to a node that is not there");
    CHECK(strstr(bl_error_message(), "nobody") != NULL, "the message names it: %s", bl_error_message());
    CHECK_STATUS(bl_rpc_call(node, nobody, "erlang", "node", NULL, 0, LONG_MS, &r), BL_NO_CONNECTION,
                 "an rpc:call to a node that is not there");
}

/* Whether a process is registered as `name` on the target, asked `tries` times 100 ms apart
 * until the answer is `want`. */
static int registered_becomes(const char *name, int want, int tries) {
    char text[96];
    snprintf(text, sizeof text, "[%s]", name);
    bl_buf args = term_of(text);
    int is = -1;
    for (int i = 0; i < tries && is != want; i++) {
        if (i) sleep_ms(100);
        bl_buf r = {0}, shown = {0};
        if (bl_call(node, target, "erlang", "whereis", args.data, args.len, LONG_MS, &r) == BL_OK &&
            bl_term_print(r.data, r.len, BL_PRINT_ERLANG, &shown) == BL_OK)
            is = strcmp(shown.data, "undefined") != 0;
        bl_buf_free(&shown);
        bl_buf_free(&r);
    }
    bl_buf_free(&args);
    return is == want;
}

/* A timeout abandons the call and leaves its remote process running, as erpc:call does;
 * freeing an async call that has not finished cancels it, remote process included. */
static void timeouts_and_cancelling(void) {
    char name[64], text[128];
    bl_buf r = {0};
    snprintf(name, sizeof name, "c_sleeper_%d", (int)getpid());
    snprintf(text, sizeof text, "[%s, 30000]", name);
    bl_buf args = term_of(text);
    CHECK_STATUS(bl_call(node, target, "beamlink_c_test", "register_and_sleep", args.data, args.len, 500, &r),
                 BL_TIMEOUT, "a call past its timeout");
    bl_buf_free(&args);
    CHECK(registered_becomes(name, 1, 1), "its remote process runs on after the timeout");

    snprintf(name, sizeof name, "c_cancelled_%d", (int)getpid());
    snprintf(text, sizeof text, "[%s, 60000]", name);
    args = term_of(text);
    bl_async *call = NULL;
    CHECK_STATUS(bl_call_async(node, target, "beamlink_c_test", "register_and_sleep", args.data, args.len, LONG_MS,
                               &call),
                 BL_OK, "start a long call");
    bl_buf_free(&args);
    CHECK(registered_becomes(name, 1, 100), "its remote process runs");
    bl_async_free(call);
    CHECK(registered_becomes(name, 0, 100), "freeing the unfinished call kills its remote process");
}

static void bad_arguments(void) {
    bl_buf r = {0};
    bl_buf atom = term_of("not_a_list");
    CHECK_STATUS(bl_call(node, target, "erlang", "node", atom.data, atom.len, LONG_MS, &r), BL_BAD_ARGUMENT,
                 "arguments that are not a list");
    bl_buf_free(&atom);
    const unsigned char truncated[] = {131, 108, 0, 0, 0, 2, 97, 1};
    CHECK_STATUS(bl_call(node, target, "erlang", "node", truncated, sizeof truncated, LONG_MS, &r), BL_DECODE,
                 "arguments that are not valid ETF");
    CHECK_STATUS(bl_call(node, target, "erlang", "node", NULL, 3, LONG_MS, &r), BL_BAD_ARGUMENT,
                 "NULL arguments with a length");
    CHECK_STATUS(bl_call(node, NULL, "erlang", "node", NULL, 0, LONG_MS, &r), BL_BAD_ARGUMENT, "a NULL target");
    CHECK(strstr(bl_error_message(), "target") != NULL, "the message names the argument: %s", bl_error_message());
    CHECK_STATUS(bl_call(node, target, "erlang", "node", NULL, 0, LONG_MS, NULL), BL_BAD_ARGUMENT,
                 "a NULL result");
    CHECK_STATUS(bl_call(NULL, target, "erlang", "node", NULL, 0, LONG_MS, &r), BL_BAD_ARGUMENT, "a NULL node");
    /* The connection is still good after all of that. */
    CHECK_STATUS(bl_call(node, target, "erlang", "node", NULL, 0, LONG_MS, &r), BL_OK, "a call after bad ones");
    bl_buf_free(&r);
}

struct outcome {
    atomic_int done;
    int status;
    char text[256];
    int blocking_status;
};

static void on_done(int status, const char *etf, size_t len, void *userdata) {
    struct outcome *o = userdata;
    o->status = status;
    bl_buf t = {0};
    if (status == BL_OK) {
        bl_term_print(etf, len, BL_PRINT_ERLANG, &t);
    } else {
        bl_error_term(&t);
        bl_buf text = {0};
        bl_term_print(t.data, t.len, BL_PRINT_ERLANG, &text);
        bl_buf_free(&t);
        t = text;
    }
    snprintf(o->text, sizeof o->text, "%s", t.data ? t.data : "");
    bl_buf_free(&t);
    atomic_store(&o->done, 1);
}

/* Run on an engine thread (the call it completes takes a while): blocking there would hold
 * up the engine, so it is refused. */
static void on_done_try_blocking(int status, const char *etf, size_t len, void *userdata) {
    struct outcome *o = userdata;
    (void)etf;
    (void)len;
    o->status = status;
    o->blocking_status = bl_ping(node, target, 1000);
    atomic_store(&o->done, 1);
}

static int wait_done(struct outcome *o) {
    for (int i = 0; i < LONG_MS / 10 && !atomic_load(&o->done); i++) sleep_ms(10);
    return atomic_load(&o->done);
}

static void async_calls(void) {
    bl_buf r = {0};
    bl_buf a = term_of("[300]");
    bl_async *call = NULL;
    CHECK_STATUS(bl_call_async(node, target, "timer", "sleep", a.data, a.len, LONG_MS, &call), BL_OK, "start a call");
    CHECK_STATUS(bl_async_wait(call, 0, &r), BL_PENDING, "polling it at once");
    CHECK(bl_async_is_finished(call) == 0, "not finished yet");
    CHECK_STATUS(bl_async_wait(call, LONG_MS, &r), BL_OK, "waiting for it");
    check_term_is(&r, "ok", "its value");
    bl_buf_free(&r);
    CHECK(bl_async_is_finished(call) == 1, "finished");
    CHECK_STATUS(bl_async_wait(call, 0, &r), BL_BAD_ARGUMENT, "the result is taken once");
    bl_async_free(call);

    struct outcome ok = {0};
    CHECK_STATUS(bl_call_async(node, target, "lists", "seq", NULL, 0, LONG_MS, &call), BL_OK,
                 "start a call of a missing arity");
    CHECK_STATUS(bl_async_on_complete(call, on_done, &ok), BL_OK, "hand it to a callback");
    CHECK(wait_done(&ok), "the callback ran");
    CHECK(ok.status == BL_UNDEF, "the callback got BL_UNDEF: %s", bl_status_name(ok.status));
    CHECK(strcmp(ok.text, "{lists,seq,0}") == 0, "and read the error term inside: %s", ok.text);
    CHECK_STATUS(bl_async_wait(call, 0, &r), BL_BAD_ARGUMENT, "a call given to a callback cannot be waited on");
    bl_async_free(call);

    struct outcome value = {0};
    bl_buf b = term_of("[[c, b, a]]");
    CHECK_STATUS(bl_call_async(node, target, "lists", "sort", b.data, b.len, LONG_MS, &call), BL_OK, "start another");
    bl_buf_free(&b);
    CHECK_STATUS(bl_async_on_complete(call, on_done, &value), BL_OK, "callback");
    CHECK(wait_done(&value) && value.status == BL_OK, "the callback got the value");
    CHECK(strcmp(value.text, "[a,b,c]") == 0, "the value in the callback: %s", value.text);
    bl_async_free(call);

    struct outcome engine = {0};
    bl_buf half = term_of("[500]");
    CHECK_STATUS(bl_call_async(node, target, "timer", "sleep", half.data, half.len, LONG_MS, &call), BL_OK,
                 "start a call that takes half a second");
    bl_buf_free(&half);
    CHECK_STATUS(bl_async_on_complete(call, on_done_try_blocking, &engine), BL_OK, "callback");
    CHECK(wait_done(&engine) && engine.status == BL_OK, "the callback ran on an engine thread");
    CHECK(engine.blocking_status == BL_BAD_ARGUMENT, "blocking inside a callback is refused: %s",
          bl_status_name(engine.blocking_status));
    bl_async_free(call);

    /* Freed before it finishes: cancelled, and its callback never runs. */
    struct outcome never = {0};
    bl_buf slow = term_of("[500]");
    CHECK_STATUS(bl_call_async(node, target, "timer", "sleep", slow.data, slow.len, LONG_MS, &call), BL_OK,
                 "start a slow call");
    CHECK_STATUS(bl_async_on_complete(call, on_done, &never), BL_OK, "callback");
    bl_async_free(call);
    sleep_ms(1000);
    CHECK(atomic_load(&never.done) == 0, "a freed call's callback does not run");
    CHECK_STATUS(bl_call_async(node, target, "timer", "sleep", slow.data, slow.len, LONG_MS, &call), BL_OK,
                 "start one more");
    bl_async_free(call);
    bl_buf_free(&slow);
    bl_buf_free(&a);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TARGET COOKIE\n", argv[0]);
        return 2;
    }
    target = argv[1];
    node = start_node("c_calls", argv[2]);
    values();
    remote_failures();
    bad_arguments();
    async_calls();
    timeouts_and_cancelling();
    bl_node_close(node);
    return check_done();
}
