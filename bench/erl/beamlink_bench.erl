%% The BEAM side of `make bench`: the reference figures beamlink is compared with.
%%
%% Every function runs inside a real node and returns plain numbers (nanoseconds, bytes), so
%% the Rust driver can read them back through the test-support control loop and put them in
%% the same table as its own figures. Timing happens here, next to the work, so the control
%% loop's stdin/stdout round trip is never part of a figure.
-module(beamlink_bench).
-export([isolated/2, lat/6, tput/6, echo/4, codec/3, ping_est/3, ping_fresh/3,
         calls_in_flight/3, connect_all/1]).

now_ns() -> erlang:monotonic_time(nanosecond).

%% Runs one measurement in a fresh process: the control loop's process carries heap and binary
%% garbage from earlier rows, and its collections would otherwise land inside later timings.
isolated(F, Args) ->
    {Pid, Ref} = spawn_monitor(fun() -> exit({done, apply(?MODULE, F, Args)}) end),
    receive
        {'DOWN', Ref, process, Pid, {done, R}} -> R;
        {'DOWN', Ref, process, Pid, Other} -> error(Other)
    end.

%% Per-call latency (ns) of N sequential erpc:call/4, after Warm untimed calls.
lat(Node, M, F, A, Warm, N) ->
    [erpc:call(Node, M, F, A) || _ <- lists:seq(1, Warm)],
    [begin
         T0 = now_ns(),
         _ = erpc:call(Node, M, F, A),
         now_ns() - T0
     end || _ <- lists:seq(1, N)].

%% Wall time (ns) for InFlight caller processes each making PerCaller sequential calls:
%% as many callers as beamlink has tasks in flight, all over the one connection.
tput(Node, M, F, A, InFlight, PerCaller) ->
    Self = self(),
    T0 = now_ns(),
    Pids = [spawn_link(fun() ->
                               [erpc:call(Node, M, F, A) || _ <- lists:seq(1, PerCaller)],
                               Self ! {done, self()}
                       end) || _ <- lists:seq(1, InFlight)],
    [receive {done, P} -> ok end || P <- Pids],
    now_ns() - T0.

%% Round-trip time (ns) of a Size-byte binary sent as the argument and returned.
%% iolist_to_binary/1 hands a binary back as is, so the remote side adds no copy of its own.
echo(Node, Size, Warm, N) ->
    B = binary:copy(<<"0123456789abcdef">>, Size div 16),
    Size = byte_size(B),
    [B = erpc:call(Node, erlang, iolist_to_binary, [B], infinity) || _ <- lists:seq(1, Warm)],
    [begin
         T0 = now_ns(),
         B2 = erpc:call(Node, erlang, iolist_to_binary, [B], infinity),
         T = now_ns() - T0,
         Size = byte_size(B2),
         T
     end || _ <- lists:seq(1, N)].

%% ns per operation of binary_to_term and term_to_binary on the bytes beamlink wrote, Reps
%% measurements each of at least MinMs, after one warm-up measurement.
codec(Path, MinMs, Reps) ->
    {ok, Bin} = file:read_file(Path),
    T = binary_to_term(Bin),
    Dec = fun() -> binary_to_term(Bin) end,
    Enc = fun() -> term_to_binary(T) end,
    _ = per_op(Dec, MinMs),
    D = [per_op(Dec, MinMs) || _ <- lists:seq(1, Reps)],
    _ = per_op(Enc, MinMs),
    E = [per_op(Enc, MinMs) || _ <- lists:seq(1, Reps)],
    {D, E, byte_size(term_to_binary(T))}.

%% Doubling batches until MinMs have passed, so tiny terms are timed over many calls and the
%% clock's own cost vanishes.
per_op(F, MinMs) -> per_op(F, MinMs * 1000000, 1, 0, 0).
per_op(_F, MinNs, _Batch, Ops, Ns) when Ns >= MinNs -> Ns / Ops;
per_op(F, MinNs, Batch, Ops, Ns) ->
    T0 = now_ns(),
    loop(F, Batch),
    D = now_ns() - T0,
    per_op(F, MinNs, Batch * 2, Ops + Batch, Ns + D).

loop(_F, 0) -> ok;
loop(F, N) -> _ = F(), loop(F, N - 1).

%% net_adm:ping/1 on an established connection, ns per call.
ping_est(Node, Warm, N) ->
    [pong = net_adm:ping(Node) || _ <- lists:seq(1, Warm)],
    [begin T0 = now_ns(), pong = net_adm:ping(Node), now_ns() - T0 end
     || _ <- lists:seq(1, N)].

%% net_adm:ping/1 with no connection: epmd lookup + handshake + ping, ns per call. The
%% pause lets the peer finish tearing the old connection down, so each attempt is a clean one.
ping_fresh(Node, PauseMs, N) ->
    [begin
         erlang:disconnect_node(Node),
         wait_gone(Node, 200),
         timer:sleep(PauseMs),
         T0 = now_ns(),
         pong = net_adm:ping(Node),
         now_ns() - T0
     end || _ <- lists:seq(1, N)].

wait_gone(_Node, 0) -> ok;
wait_gone(Node, K) ->
    case lists:member(Node, nodes(connected)) of
        true -> timer:sleep(5), wait_gone(Node, K - 1);
        false -> ok
    end.

%% Starts N callers each blocked in an erpc:call that sleeps SleepMs on Node; returns at once
%% so the driver can read this node's resident size while the calls are in flight.
calls_in_flight(Node, N, SleepMs) ->
    [spawn(fun() -> erpc:call(Node, timer, sleep, [SleepMs], infinity) end)
     || _ <- lists:seq(1, N)],
    ok.

connect_all(Nodes) ->
    [true = net_kernel:connect_node(N) || N <- Nodes],
    length(nodes(connected)).
