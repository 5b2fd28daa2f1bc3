%% Remote-side helpers for the Python tests (python/tests).
-module(py_fixtures).
-export([echo/1, same/2, deep_list/1, deep_tuple/1, is_deep_list/2, sleeper/1, hang/1,
         printer/1, read_and_echo/0, throw_it/1, exit_it/1, raise_it/1, nested_undef/0,
         forward_to/2, ping_back/1, count_named/1, write_etf/2, check_etf/2,
         corpus_mismatches/1, echo_once/0]).

echo(X) -> X.

same(A, B) -> A =:= B.

%% [[[...[]...]]]: N levels, each list's only element the next list.
deep_list(0) -> [];
deep_list(N) -> deep_list(N - 1, []).
deep_list(0, Acc) -> Acc;
deep_list(N, Acc) -> deep_list(N - 1, [Acc]).

deep_tuple(N) -> deep_tuple(N, leaf).
deep_tuple(0, Acc) -> Acc;
deep_tuple(N, Acc) -> deep_tuple(N - 1, {Acc}).

%% Whether L is deep_list(N), checked without recursion.
is_deep_list(L, N) -> is_deep_list(L, N, 0).
is_deep_list([], N, D) -> N =:= D + 1 orelse (N =:= 0 andalso D =:= 0);
is_deep_list([X], N, D) -> is_deep_list(X, N, D + 1);
is_deep_list(_, _, _) -> false.

sleeper(Ms) ->
    timer:sleep(Ms),
    slept.

%% Registers the calling process as Name and waits forever: a test can then see whether the
%% process is still there.
hang(Name) ->
    register(Name, self()),
    receive never -> ok end.

printer(X) ->
    io:format("hi ~p~n", [X]),
    io:put_chars("plain\n"),
    io:put_chars(<<"ünï\n"/utf8>>),
    done.

read_and_echo() ->
    L1 = io:get_line("first> "),
    L2 = io:get_line(""),
    io:format("got ~tp ~tp~n", [L1, L2]),
    {L1, L2}.

throw_it(X) -> throw(X).
exit_it(X) -> exit(X).
raise_it(X) -> error(X).

nested_undef() -> no_such_module_beamlink:f().

%% Sends Msg to Dest (a pid or {Name, Node}) from a fresh process.
forward_to(Dest, Msg) ->
    Dest ! Msg,
    ok.

%% Registers a process under Name that answers {From, Msg} with {pong, Msg}.
ping_back(Name) ->
    Pid = spawn(fun Loop() -> receive {From, M} -> From ! {pong, M}, Loop() end end),
    register(Name, Pid),
    Pid.

%% How many processes are registered under names starting with Prefix (an atom).
count_named(Prefix) ->
    P = atom_to_list(Prefix),
    length([N || N <- registered(), lists:prefix(P, atom_to_list(N))]).

write_etf(File, T) -> file:write_file(File, term_to_binary(T)).

check_etf(File, T) ->
    {ok, B} = file:read_file(File),
    binary_to_term(B) =:= T.

%% The corpus terms whose copy sent back by Python is not =:= the original (BEAM → Python →
%% BEAM through distribution).
corpus_mismatches(Terms) ->
    Want = etf_corpus:terms(),
    case length(Terms) =:= length(Want) of
        false -> {count, length(Terms), length(Want)};
        true -> [Name || {{Name, T}, {Name2, T2}} <- lists:zip(Want, Terms), not (Name =:= Name2 andalso T =:= T2)]
    end.

%% Echoes the next message back to its sender tuple: {From, Msg} -> From ! {echo, Msg}.
echo_once() ->
    receive {From, Msg} -> From ! {echo, Msg} end.
