/* cnode.c: the C node of erl_interface's user's guide ("C Nodes"), done with libbeamlink.
 *
 * It publishes NODE in epmd and serves Erlang processes that call it:
 *
 *     1> {any, 'cnode@localhost'} ! {call, self(), {foo, 3}}.
 *     2> flush().
 *     Shell got {cnode,4}
 *
 * foo(X) = X + 1 and bar(Y) = Y * 2, as the guide's complex.c; a `stop` message ends it.
 * The guide's cnode_s.c opens a socket, publishes it, accepts, and loops on ei_xreceive_msg
 * over ticks and errors; here the library accepts connections on its own threads, so the
 * program only receives messages (decoded with ei, as in the guide).
 *
 *   cc -std=c11 cnode.c $(pkg-config --cflags --libs beamlink) -I$EI/include -L$EI/lib -lei -o cnode
 *   ./cnode cnode@localhost secretcookie
 */
#include <stdio.h>
#include <string.h>

#include <beamlink.h>
#include <ei.h>

static long foo(long x) { return x + 1; }
static long bar(long y) { return y * 2; }

/* Answers {call, Pid, {foo|bar, N}} with Pid ! {cnode, Result}; 0 when `stop` came. */
static int serve(bl_process *self, const char *buf) {
    int i = 0, version, arity;
    char fn[MAXATOMLEN];
    erlang_pid pid;
    long arg;
    ei_decode_version(buf, &i, &version);
    if (ei_decode_atom(buf, &i, fn) == 0) return strcmp(fn, "stop") != 0;
    if (ei_decode_tuple_header(buf, &i, &arity) || arity != 3 || ei_decode_atom(buf, &i, fn) ||
        strcmp(fn, "call") || ei_decode_pid(buf, &i, &pid) || ei_decode_tuple_header(buf, &i, &arity) ||
        arity != 2 || ei_decode_atom(buf, &i, fn) || ei_decode_long(buf, &i, &arg))
        return 1; /* not a request: ignored */

    ei_x_buff to, reply;
    ei_x_new_with_version(&to);
    ei_x_encode_pid(&to, &pid);
    ei_x_new_with_version(&reply);
    ei_x_encode_tuple_header(&reply, 2);
    ei_x_encode_atom(&reply, "cnode");
    ei_x_encode_long(&reply, strcmp(fn, "foo") == 0 ? foo(arg) : bar(arg));
    if (bl_send(self, to.buff, (size_t)to.index, reply.buff, (size_t)reply.index, 5000) != BL_OK)
        fprintf(stderr, "cnode: reply lost: %s\n", bl_error_message());
    ei_x_free(&to);
    ei_x_free(&reply);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: cnode NODE COOKIE\n");
        return 2;
    }
    bl_node_options options = {0};
    options.cookie = argv[2];
    options.listen = 1; /* accept connections, publish NODE in epmd */
    bl_node *node = NULL;
    bl_process *any = NULL;
    if (bl_node_start(argv[1], &options, 5000, &node) != BL_OK || bl_process_new(node, &any) != BL_OK ||
        bl_register(any, "any") != BL_OK) {
        fprintf(stderr, "cnode: %s\n", bl_error_message());
        bl_node_close(node);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);

    bl_message msg;
    int going = 1;
    while (going && bl_receive(any, BL_FOREVER, &msg) == BL_OK) {
        if (msg.kind == BL_MSG_SEND) going = serve(any, msg.data.data);
        bl_message_free(&msg);
    }
    bl_process_free(any);
    bl_node_close(node);
    return 0;
}
