%% Remote-side helpers for tests/rpc.rs.
-module(rpc_fixtures).
-export([printer/1, nested_undef/0, read_and_echo/0, read_term/0, sleeper/1]).

%% Every put_chars form a group leader gets from io: format (MFA), a list, a UTF-8 binary.
printer(X) ->
    io:format("hi ~p~n", [X]),
    io:put_chars("plain\n"),
    io:put_chars(unicode, <<"ünï\n"/utf8>>),
    done.

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
