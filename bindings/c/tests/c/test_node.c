/* Nodes: starting (names, options, epmd), ping and every pang status, the connected nodes,
 * node events (pollable and by callback), epmd names, and the boundary itself (versions,
 * status names, a caught panic). */
#include "check.h"

#include <stdatomic.h>

/* Hidden from the header: panics inside the boundary guard. */
int bl__test_panic(void);

static const char *target;
static const char *cookie;

static void boundary(void) {
    CHECK(strlen(bl_version()) >= 5, "bl_version() is %s", bl_version());
    CHECK(strcmp(bl_status_name(BL_TIMEOUT), "BL_TIMEOUT") == 0, "status names");
    CHECK(strcmp(bl_status_name(12345), "BL_UNKNOWN") == 0, "an unknown status has a name too");
    CHECK_STATUS(bl__test_panic(), BL_INTERNAL, "a Rust panic is caught at the boundary");
    CHECK(strstr(bl_error_message(), "panic") != NULL, "and reported: %s", bl_error_message());
    bl_error_clear();
    CHECK(bl_error_status() == BL_OK && bl_error_message()[0] == 0, "bl_error_clear()");
}

static void starting(void) {
    bl_node *n = NULL;
    bl_node_options opts = {0};
    opts.cookie = cookie;
    CHECK_STATUS(bl_node_start("bad name!@localhost", &opts, LONG_MS, &n), BL_BAD_NAME, "a bad node name");
    CHECK(n == NULL, "no node on failure");
    CHECK_STATUS(bl_node_start("c_short@host.with.dots", &opts, LONG_MS, &n), BL_BAD_NAME,
                 "a long host with short names");
    CHECK_STATUS(bl_node_start(NULL, &opts, LONG_MS, &n), BL_BAD_ARGUMENT, "a NULL name");
    CHECK_STATUS(bl_node_start("c_x@localhost", &opts, LONG_MS, NULL), BL_BAD_ARGUMENT, "a NULL out");

    char name[128];
    snprintf(name, sizeof name, "c_long_%d@127.0.0.1", (int)getpid());
    opts.long_names = 1;
    CHECK_STATUS(bl_node_start(name, &opts, LONG_MS, &n), BL_OK, "long names");
    CHECK(n && strcmp(bl_node_name(n), name) == 0, "its name is %s", n ? bl_node_name(n) : "-");
    CHECK(n && bl_node_port(n) == 0, "a node that does not listen has no port");
    CHECK_STATUS(bl_ping(n, target, LONG_MS), BL_OK, "a long-named node reaches a short-named one");

    /* A listening node that lets only someone else in: the long-named node's handshake is
     * refused (not_allowed). */
    bl_node *picky = NULL;
    const char *only[] = {"someone_else@localhost"};
    bl_node_options strict = {0};
    strict.cookie = cookie;
    strict.listen = 1;
    strict.allow = only;
    strict.allow_len = 1;
    char picky_name[128];
    unique_name(picky_name, sizeof picky_name, "c_picky");
    CHECK_STATUS(bl_node_start(picky_name, &strict, LONG_MS, &picky), BL_OK, "a node with an allow list");
    CHECK_STATUS(bl_ping(n, picky_name, LONG_MS), BL_HANDSHAKE, "a peer not in its allow list: handshake refused");
    CHECK(strstr(bl_error_message(), "not_allowed") != NULL, "the message says why: %s", bl_error_message());
    bl_node_close(picky);
    bl_node_close(n);
    n = NULL;
    opts.long_names = 0;

    /* The target's name is taken in epmd. */
    opts.listen = 1;
    CHECK_STATUS(bl_node_start(target, &opts, LONG_MS, &n), BL_NAME_IN_USE, "publishing a name already in epmd");
    unique_name(name, sizeof name, "c_listen");
    CHECK_STATUS(bl_node_start(name, &opts, LONG_MS, &n), BL_OK, "a listening node");
    CHECK(n && bl_node_port(n) > 0, "it listens on port %d", n ? bl_node_port(n) : -1);
    bl_epmd_list names = {0};
    CHECK_STATUS(bl_epmd_names(NULL, 0, LONG_MS, &names), BL_OK, "epmd names");
    int found = 0;
    for (size_t i = 0; i < names.len; i++)
        if (strncmp(name, names.items[i].name, strlen(names.items[i].name)) == 0 &&
            name[strlen(names.items[i].name)] == '@' && names.items[i].port == bl_node_port(n))
            found = 1;
    CHECK(found, "epmd lists the listening node with its port (%zu names)", names.len);
    bl_epmd_list_free(&names);
    CHECK(names.items == NULL && names.len == 0, "the list is empty once freed");
    bl_node_close(n);

    CHECK_STATUS(bl_epmd_names("localhost", 1, LONG_MS, &names), BL_EPMD_UNREACHABLE, "no epmd on that port");
    CHECK(names.len == 0, "nothing listed");
}

static void pings(bl_node *node) {
    char nobody[128];
    unique_name(nobody, sizeof nobody, "nobody");
    CHECK_STATUS(bl_ping(node, target, LONG_MS), BL_OK, "ping: pong");
    CHECK_STATUS(bl_ping(node, nobody, LONG_MS), BL_NO_CONNECTION, "ping an unregistered node: pang");
    CHECK_STATUS(bl_ping(node, "x@no-such-host.invalid", LONG_MS), BL_EPMD_UNREACHABLE,
                 "ping a host that does not resolve");
    CHECK_STATUS(bl_ping(node, "no_at_sign", LONG_MS), BL_BAD_NAME, "ping a name without a host");
    CHECK_STATUS(bl_ping(node, target, 0), BL_TIMEOUT, "ping with no time to answer");
    CHECK_STATUS(bl_connect(node, target, LONG_MS), BL_OK, "connect (already connected)");

    bl_node *wrong = start_node("c_wrong_cookie", "not_the_cookie");
    CHECK_STATUS(bl_ping(wrong, target, LONG_MS), BL_BAD_COOKIE, "ping with the wrong cookie: pang");
    CHECK(strstr(bl_error_message(), "cookie") != NULL, "the message says so: %s", bl_error_message());
    CHECK_STATUS(bl_connect(wrong, target, LONG_MS), BL_BAD_COOKIE, "connect with the wrong cookie");
    bl_node_close(wrong);

    bl_strlist nodes = {0};
    CHECK_STATUS(bl_nodes(node, &nodes), BL_OK, "nodes");
    int listed = 0;
    for (size_t i = 0; i < nodes.len; i++) listed |= strcmp(nodes.items[i], target) == 0;
    CHECK(listed, "the target is connected (%zu nodes)", nodes.len);
    bl_strlist_free(&nodes);
}

struct seen {
    atomic_int ups;
    atomic_int downs;
    char node[256];
};

static void on_event(const bl_event *e, void *userdata) {
    struct seen *s = userdata;
    if (e->kind == BL_NODE_UP) {
        snprintf(s->node, sizeof s->node, "%s", e->node);
        atomic_fetch_add(&s->ups, 1);
    } else if (e->kind == BL_NODE_DOWN) {
        atomic_fetch_add(&s->downs, 1);
    }
}

static void events(void) {
    bl_node *node = start_node("c_events", cookie);
    bl_events *ev = NULL;
    bl_event e;
    CHECK_STATUS(bl_events_open(node, &ev), BL_OK, "open the event stream");
    CHECK_STATUS(bl_events_next(ev, 0, &e), BL_TIMEOUT, "no event yet");

    struct seen seen = {0};
    bl_watch *w = NULL;
    CHECK_STATUS(bl_node_watch(node, on_event, &seen, &w), BL_OK, "watch with a callback");

    CHECK_STATUS(bl_ping(node, target, LONG_MS), BL_OK, "connect by ping");
    CHECK_STATUS(bl_events_next(ev, LONG_MS, &e), BL_OK, "an event");
    CHECK(e.kind == BL_NODE_UP && strcmp(e.node, target) == 0, "it is the target coming up: %d %s", e.kind, e.node);
    for (int i = 0; i < 500 && atomic_load(&seen.ups) == 0; i++) sleep_ms(10);
    CHECK(atomic_load(&seen.ups) == 1 && strcmp(seen.node, target) == 0, "the callback saw it too: %s", seen.node);

    CHECK_STATUS(bl_disconnect(node, target), BL_OK, "disconnect");
    CHECK_STATUS(bl_events_next(ev, LONG_MS, &e), BL_OK, "another event");
    CHECK(e.kind == BL_NODE_DOWN && strcmp(e.node, target) == 0 && e.reason[0] != 0,
          "the target went down: %s", e.reason);
    for (int i = 0; i < 500 && atomic_load(&seen.downs) == 0; i++) sleep_ms(10);
    CHECK(atomic_load(&seen.downs) == 1, "the callback saw it too");
    CHECK_STATUS(bl_disconnect(node, target), BL_NO_CONNECTION, "disconnect again");

    bl_watch_stop(w);
    CHECK_STATUS(bl_ping(node, target, LONG_MS), BL_OK, "reconnect");
    CHECK_STATUS(bl_events_next(ev, LONG_MS, &e), BL_OK, "it comes up again");
    sleep_ms(200);
    CHECK(atomic_load(&seen.ups) == 1, "a stopped watch calls back no more");

    bl_node_close(node);
    /* Closing may still report the connection going down, then the stream ends. */
    int s;
    while ((s = bl_events_next(ev, LONG_MS, &e)) == BL_OK && e.kind == BL_NODE_DOWN) {
    }
    CHECK_STATUS(s, BL_NO_CONNECTION, "the stream ends with its node");
    bl_events_close(ev);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TARGET COOKIE\n", argv[0]);
        return 2;
    }
    target = argv[1];
    cookie = argv[2];
    boundary();
    starting();
    bl_node *node = start_node("c_node", cookie);
    pings(node);
    bl_node_close(node);
    events();
    return check_done();
}
