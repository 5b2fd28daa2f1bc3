%% Remote-side helpers for the Elixir suite (loaded into every test node).
-module(bl_fixtures).
-export([self_kill/0, nested_undef/0, printer/1, echo_server/0, sleeper/1, with_ref/0,
         send_to/2, make_atom/1, remote_ping/1, remote_spawn/1, registered_echo/1,
         registered_sleeper/2, erpc/1, rpc/1, exit_reporter/1]).

%% Killed by a signal in the middle of a call: erpc reports exit({signal, killed}).
self_kill() ->
    exit(self(), kill).

%% An undef raised below the called function.
nested_undef() ->
    no_such_module_beamlink:f().

printer(X) ->
    io:format("hi ~p~n", [X]),
    io:put_chars(<<"ünï\n"/utf8>>),
    done.

%% Answers {From, Msg} with {echo, Msg}; stops on stop.
echo_server() ->
    receive
        stop -> ok;
        {From, Msg} -> From ! {echo, Msg}, echo_server()
    end.

%% Registers itself under Name and echoes like echo_server/0.
registered_echo(Name) ->
    register(Name, self()),
    echo_server().

sleeper(Ms) ->
    timer:sleep(Ms),
    slept.

%% A reference made here, to be sent back later.
with_ref() ->
    R = make_ref(),
    persistent_term:put(bl_fixtures_ref, R),
    R.

send_to(Dest, Msg) ->
    Dest ! Msg,
    ok.

%% A new atom, made on this node: the caller may not know it.
make_atom(Suffix) ->
    list_to_atom("bl_fresh_atom_" ++ integer_to_list(Suffix)).

%% What this node's net_adm:ping of Node says.
remote_ping(Node) ->
    net_adm:ping(Node).

%% Whether this node can spawn on Node: the spawned fun reports back, or it does not.
remote_spawn(Node) ->
    Me = self(),
    Ref = make_ref(),
    try spawn(Node, fun() -> Me ! Ref end) of
        Pid ->
            MRef = monitor(process, Pid),
            receive
                Ref -> ran;
                {'DOWN', MRef, process, Pid, Reason} -> {not_run, Reason}
            after 5000 -> timeout
            end
    catch
        C:E -> {C, E}
    end.

%% Sleeps under a name, so a test can see whether the process still runs.
registered_sleeper(Name, Ms) ->
    register(Name, self()),
    timer:sleep(Ms),
    slept.

%% What erpc:call/5 and rpc:call/5 do here, as {return, Value} or {Class, Reason}: the
%% reference the suite compares beamlink with. The arguments [Target, M, F, A, Timeout] come
%% as base64 of their external term format, so any term passes the text control protocol.
erpc(Args) ->
    [Target, M, F, A, T] = binary_to_term(base64:decode(Args)),
    try erpc:call(Target, M, F, A, T) of
        V -> {return, V}
    catch
        C:R -> {C, R}
    end.

rpc(Args) ->
    [Target, M, F, A, T] = binary_to_term(base64:decode(Args)),
    rpc:call(Target, M, F, A, T).

%% Traps exits and reports the first exit signal to Report as {exit_seen, From, Reason}.
exit_reporter(Report) ->
    process_flag(trap_exit, true),
    Report ! {reporter_ready, self()},
    receive
        {'EXIT', From, Reason} -> Report ! {exit_seen, From, Reason}
    end.
