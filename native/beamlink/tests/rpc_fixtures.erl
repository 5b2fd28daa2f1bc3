%% Remote-side helpers for tests/rpc.rs.
-module(rpc_fixtures).
-export([io_misc/0, printer/1, nested_undef/0, self_kill/0, read_and_echo/0, read_term/0, sleeper/1]).

%% put_chars forms a group leader gets: format (MFA), chars, a UTF-8 binary, the old
%% encoding-less tuple, and a latin1 binary.
printer(X) ->
    io:format("hi ~p~n", [X]),
    io:put_chars("plain\n"),
    io:put_chars(<<"ünï\n"/utf8>>),
    ok = io:request(standard_io, {put_chars, "old\n"}),
    ok = io:request(standard_io, {put_chars, latin1, <<"l", 233, "\n">>}),
    done.

%% Killed by a signal in the middle of the call: erpc reports `exit({signal, killed})`.
self_kill() ->
    exit(self(), kill).

%% An undef raised below the called function must not look like the call itself was undefined.
nested_undef() ->
    no_such_module_beamlink:f().

read_and_echo() ->
    L1 = io:get_line("first> "),
    L2 = io:get_line(""),
    L3 = io:get_line(""),
    io:format("got ~tp ~tp ~tp~n", [L1, L2, L3]),
    {L1, L2, L3}.

%% get_until through io:read/1 (erl_scan continuation over the I/O protocol).
read_term() ->
    R = io:read("term> "),
    io:format("~p~n", [R]),
    R.

sleeper(Ms) ->
    timer:sleep(Ms),
    slept.

%% The rest of the I/O protocol: options, batched requests, an unknown request.
io_misc() ->
    Opts = io:getopts(),
    SetOk = io:setopts([{encoding, unicode}]),
    Batch = io:request(standard_io, {requests, [{put_chars, unicode, <<"a">>}, {put_chars, unicode, <<"b\n">>}]}),
    Unknown = io:request(standard_io, beamlink_bogus_request),
    {Opts, SetOk, Batch, Unknown}.
