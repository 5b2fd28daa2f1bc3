/* Processes against a real node: pids, names, sending to pids and to registered names both
 * ways, receiving with a timeout, links (EXIT), monitors (DOWN), unlink and demonitor, and
 * local processes. */
#include "check.h"

#include <ei.h>

static bl_node *node;
static const char *target;

/* ei helpers: the list of arguments [A, B] where A and B are already encoded terms. */
static void append_term(ei_x_buff *x, const bl_buf *etf) {
    /* Strip the version byte: ei_x_append_buf copies raw bytes. */
    ei_x_append_buf(x, etf->data + 1, (int)etf->len - 1);
}

/* A remote call whose arguments are [Term1, Term2] given as ETF (either may be NULL). */
static int call2(const char *m, const char *f, const bl_buf *a, const bl_buf *b, bl_buf *r) {
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, (a != NULL) + (b != NULL));
    if (a) append_term(&x, a);
    if (b) append_term(&x, b);
    ei_x_encode_empty_list(&x);
    int s = bl_call(node, target, m, f, x.buff, (size_t)x.index, LONG_MS, r);
    ei_x_free(&x);
    return s;
}

static void names_and_pids(bl_process *p) {
    bl_buf pid = {0};
    CHECK_STATUS(bl_process_pid(p, &pid), BL_OK, "pid");
    bl_buf text = {0};
    bl_term_print(pid.data, pid.len, BL_PRINT_ERLANG, &text);
    CHECK(text.data && text.data[0] == '<' && strstr(text.data, bl_node_name(node)) != NULL, "it prints as %s",
          text.data ? text.data : "");
    bl_buf_free(&text);
    bl_buf_free(&pid);
    char name[64];
    snprintf(name, sizeof name, "c_proc_%d", (int)getpid());
    CHECK_STATUS(bl_register(p, name), BL_OK, "register");
    bl_process *other = NULL;
    bl_process_new(node, &other);
    CHECK_STATUS(bl_register(other, name), BL_NAME_IN_USE, "register a name in use");
    bl_process_free(other);
    CHECK_STATUS(bl_register(p, NULL), BL_BAD_ARGUMENT, "register NULL");

    /* The node sends to our registered name: erlang:send({Name, Node}, hi). */
    char dest[256];
    snprintf(dest, sizeof dest, "[{%s, '%s'}, {hi, from_erlang}]", name, bl_node_name(node));
    bl_buf args = term_of(dest), r = {0};
    CHECK_STATUS(bl_call(node, target, "erlang", "send", args.data, args.len, LONG_MS, &r), BL_OK,
                 "the node sends to {Name, Node}");
    bl_buf_free(&args);
    bl_buf_free(&r);
    bl_message m;
    CHECK_STATUS(bl_receive(p, LONG_MS, &m), BL_OK, "receive it");
    CHECK(m.kind == BL_MSG_SEND, "an ordinary message");
    check_term_is(&m.data, "{hi,from_erlang}", "the message");
    bl_message_free(&m);
    CHECK(m.data.data == NULL && m.kind == 0, "freed messages are empty");
}

static void sending(bl_process *p) {
    bl_buf echo = {0}, me = {0}, r = {0};
    CHECK_STATUS(bl_call(node, target, "beamlink_c_test", "start_echo", NULL, 0, LONG_MS, &echo), BL_OK,
                 "start an echo process there");
    bl_process_pid(p, &me);

    /* {Me, ping} to the echo pid; {echo, ping} comes back. */
    ei_x_buff msg;
    ei_x_new_with_version(&msg);
    ei_x_encode_tuple_header(&msg, 2);
    append_term(&msg, &me);
    ei_x_encode_atom(&msg, "ping");
    CHECK_STATUS(bl_send(p, echo.data, echo.len, msg.buff, (size_t)msg.index, LONG_MS), BL_OK, "send to a pid");
    bl_message m;
    CHECK_STATUS(bl_receive(p, LONG_MS, &m), BL_OK, "the echo");
    check_term_is(&m.data, "{echo,ping}", "its content");
    CHECK(m.from.len == echo.len && memcmp(m.from.data, echo.data, echo.len) == 0, "from the echo process");
    bl_message_free(&m);

    /* Registered there, reached by name. */
    char reg[64];
    snprintf(reg, sizeof reg, "c_echo_%d", (int)getpid());
    bl_buf name = term_of(reg);
    CHECK_STATUS(call2("erlang", "register", &name, &echo, &r), BL_OK, "register the echo there");
    bl_buf_free(&r);
    CHECK_STATUS(bl_send_named(p, target, reg, msg.buff, (size_t)msg.index, LONG_MS), BL_OK, "send to {Name, Node}");
    CHECK_STATUS(bl_receive(p, LONG_MS, &m), BL_OK, "the echo");
    check_term_is(&m.data, "{echo,ping}", "its content");
    bl_message_free(&m);
    ei_x_free(&msg);
    bl_buf_free(&name);

    CHECK_STATUS(bl_receive(p, SHORT_MS, &m), BL_TIMEOUT, "nothing more: receive times out");
    CHECK(m.kind == 0 && m.data.data == NULL, "the message is empty");
    bl_message_free(&m);
    CHECK_STATUS(bl_receive(p, 0, &m), BL_TIMEOUT, "receive with no wait");
    bl_message_free(&m);

    /* Bad input. */
    bl_buf not_pid = term_of("not_a_pid");
    CHECK_STATUS(bl_send(p, not_pid.data, not_pid.len, me.data, me.len, LONG_MS), BL_BAD_ARGUMENT,
                 "send to something that is not a pid");
    const unsigned char bad[] = {131, 104, 9};
    CHECK_STATUS(bl_send(p, echo.data, echo.len, bad, sizeof bad, LONG_MS), BL_DECODE, "send bytes that are not ETF");
    CHECK_STATUS(bl_receive(p, LONG_MS, NULL), BL_BAD_ARGUMENT, "receive into NULL");
    bl_buf_free(&not_pid);

    bl_buf stop = term_of("stop");
    CHECK_STATUS(bl_send(p, echo.data, echo.len, stop.data, stop.len, LONG_MS), BL_OK, "stop the echo");
    bl_buf_free(&stop);
    bl_buf_free(&echo);
    bl_buf_free(&me);
}

/* beamlink_c_test:exit_when_told(Reason) there: a pid that ends when sent `go`. */
static bl_buf ending(const char *reason) {
    char text[64];
    snprintf(text, sizeof text, "[%s]", reason);
    bl_buf args = term_of(text), pid = {0};
    if (bl_call(node, target, "beamlink_c_test", "exit_when_told", args.data, args.len, LONG_MS, &pid) != BL_OK) {
        fprintf(stderr, "exit_when_told: %s\n", bl_error_message());
        exit(2);
    }
    bl_buf_free(&args);
    return pid;
}

static void let_go(bl_process *p, const bl_buf *pid) {
    bl_buf go = term_of("go");
    CHECK_STATUS(bl_send(p, pid->data, pid->len, go.data, go.len, LONG_MS), BL_OK, "tell it to end");
    bl_buf_free(&go);
}

static void links_and_monitors(bl_process *p) {
    bl_message m;
    bl_buf pid = ending("bye");
    CHECK_STATUS(bl_link(p, pid.data, pid.len, LONG_MS), BL_OK, "link to a remote process");
    let_go(p, &pid);
    CHECK_STATUS(bl_receive(p, LONG_MS, &m), BL_OK, "its exit arrives");
    CHECK(m.kind == BL_MSG_EXIT, "as an EXIT message (%d)", m.kind);
    check_term_is(&m.data, "bye", "with its reason");
    CHECK(m.from.len == pid.len && memcmp(m.from.data, pid.data, pid.len) == 0, "from the linked pid");
    bl_message_free(&m);
    /* Linking to it again, now that it is gone: noproc. */
    CHECK_STATUS(bl_link(p, pid.data, pid.len, LONG_MS), BL_OK, "link to a dead process");
    CHECK_STATUS(bl_receive(p, LONG_MS, &m), BL_OK, "an exit");
    check_term_is(&m.data, "noproc", "noproc");
    bl_message_free(&m);
    bl_buf_free(&pid);

    pid = ending("done");
    bl_buf ref = {0};
    CHECK_STATUS(bl_monitor(p, pid.data, pid.len, LONG_MS, &ref), BL_OK, "monitor a remote process");
    let_go(p, &pid);
    CHECK_STATUS(bl_receive(p, LONG_MS, &m), BL_OK, "its DOWN arrives");
    CHECK(m.kind == BL_MSG_DOWN, "as a DOWN message (%d)", m.kind);
    check_term_is(&m.data, "done", "with its reason");
    CHECK(m.monitor.len == ref.len && memcmp(m.monitor.data, ref.data, ref.len) == 0, "and the monitor reference");
    CHECK(m.from.len == pid.len && memcmp(m.from.data, pid.data, pid.len) == 0, "naming the pid");
    bl_message_free(&m);
    bl_buf_free(&ref);
    bl_buf_free(&pid);

    pid = ending("unseen");
    CHECK_STATUS(bl_monitor(p, pid.data, pid.len, LONG_MS, &ref), BL_OK, "monitor another");
    CHECK_STATUS(bl_demonitor(p, ref.data, ref.len, LONG_MS), BL_OK, "demonitor it");
    CHECK_STATUS(bl_link(p, pid.data, pid.len, LONG_MS), BL_OK, "link to it");
    CHECK_STATUS(bl_unlink(p, pid.data, pid.len, LONG_MS), BL_OK, "unlink it");
    let_go(p, &pid);
    CHECK_STATUS(bl_receive(p, 1000, &m), BL_TIMEOUT, "no DOWN and no EXIT after it ends");
    bl_message_free(&m);
    CHECK_STATUS(bl_demonitor(p, pid.data, pid.len, LONG_MS), BL_BAD_ARGUMENT, "demonitor with a pid, not a ref");
    bl_buf_free(&ref);
    bl_buf_free(&pid);
}

static void local_processes(bl_process *p) {
    bl_process *q = NULL;
    bl_process_new(node, &q);
    bl_buf qpid = {0}, ppid = {0};
    bl_process_pid(q, &qpid);
    bl_process_pid(p, &ppid);
    bl_buf hello = term_of("{local, hello}");
    CHECK_STATUS(bl_send(p, qpid.data, qpid.len, hello.data, hello.len, LONG_MS), BL_OK, "send to a local pid");
    bl_message m;
    CHECK_STATUS(bl_receive(q, LONG_MS, &m), BL_OK, "it arrives");
    check_term_is(&m.data, "{local,hello}", "content");
    CHECK(m.from.len == ppid.len && memcmp(m.from.data, ppid.data, ppid.len) == 0, "from the sender");
    bl_message_free(&m);
    CHECK_STATUS(bl_link(p, qpid.data, qpid.len, LONG_MS), BL_OK, "link two local processes");
    bl_process_free(q);
    CHECK_STATUS(bl_receive(p, LONG_MS, &m), BL_OK, "freeing one ends it");
    CHECK(m.kind == BL_MSG_EXIT, "the other gets an EXIT");
    check_term_is(&m.data, "normal", "reason normal");
    bl_message_free(&m);
    bl_buf_free(&hello);
    bl_buf_free(&qpid);
    bl_buf_free(&ppid);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TARGET COOKIE\n", argv[0]);
        return 2;
    }
    ei_init();
    target = argv[1];
    node = start_node("c_proc", argv[2]);
    bl_process *p = NULL;
    CHECK_STATUS(bl_process_new(node, &p), BL_OK, "a process");
    names_and_pids(p);
    sending(p);
    links_and_monitors(p);
    local_processes(p);
    bl_process_free(p);
    bl_node_close(node);
    return check_done();
}
