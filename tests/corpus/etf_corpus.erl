%% The BEAM side of beamlink's codec cross-check.
%%
%% write/1 writes, for every corpus term and every term_to_binary option set, a line
%% "Name<TAB>Options<TAB>HexOfEtf". check/1 reads lines "Name<TAB>Hex" that beamlink encoded,
%% decodes each with binary_to_term/1 and compares it with the original term (=:=).
%% reencode/2 decodes arbitrary beamlink encodings and writes BEAM's own encoding back, for
%% property tests whose terms BEAM never saw. Terms are built once per node and kept, so that
%% pids, refs and ports written out are the very ones check/1 compares against.
-module(etf_corpus).
-export([terms/0, write/1, check/1, reencode/2]).

terms() ->
    case persistent_term:get(?MODULE, undefined) of
        undefined ->
            T = build(),
            persistent_term:put(?MODULE, T),
            T;
        T ->
            T
    end.

option_sets() ->
    [{"default", []},
     {"compressed", [compressed]},
     {"minor1", [{minor_version, 1}]},
     {"minor0", [{minor_version, 0}]}].

write(File) ->
    Lines = [[Name, $\t, OptName, $\t, binary:encode_hex(term_to_binary(T, Opts)), $\n]
             || {Name, T} <- terms(), {OptName, Opts} <- option_sets()],
    ok = file:write_file(File, Lines),
    length(Lines).

%% Returns the names whose beamlink encoding BEAM decoded to something else (or not at all).
check(File) ->
    {ok, Bin} = file:read_file(File),
    All = maps:from_list(terms()),
    Lines = [L || L <- binary:split(Bin, <<"\n">>, [global]), L =/= <<>>],
    Bad = lists:filtermap(
            fun(Line) ->
                    [Name, Hex] = binary:split(Line, <<"\t">>),
                    Want = maps:get(binary_to_list(Name), All),
                    try binary_to_term(binary:decode_hex(Hex)) of
                        Got when Got =:= Want -> false;
                        _ -> {true, binary_to_list(Name)}
                    catch
                        _:_ -> {true, binary_to_list(Name) ++ " (badarg)"}
                    end
            end, Lines),
    {length(Lines), Bad}.

reencode(In, Out) ->
    {ok, Bin} = file:read_file(In),
    Lines = [L || L <- binary:split(Bin, <<"\n">>, [global]), L =/= <<>>],
    Res = [case catch binary_to_term(binary:decode_hex(L)) of
               {'EXIT', _} -> <<"badarg\n">>;
               T -> [binary:encode_hex(term_to_binary(T, [{minor_version, 2}])), $\n]
           end || L <- Lines],
    ok = file:write_file(Out, Res),
    length(Lines).

named(Prefix, Terms) ->
    [{Prefix ++ "_" ++ integer_to_list(I), T}
     || {I, T} <- lists:zip(lists:seq(1, length(Terms)), Terms)].

build() ->
    P = fun(N) -> 1 bsl N end,
    Ints = [0, 1, -1, 42, 255, 256, -255, -256, P(27) - 1, P(27), -P(27), -P(27) - 1,
            P(31) - 1, P(31), -P(31), -P(31) - 1, P(32), P(32) - 1, -P(32),
            P(63) - 1, P(63), -P(63), -P(63) - 1, P(64) - 1, P(64), -P(64), -P(64) - 1,
            P(100), P(1000), -P(1000), P(2039), P(2040), P(2047) - 1, P(2048), -P(2048),
            P(8000) + 12345, 12345678901234567890123456789,
            -98765432109876543210987654321],
    Floats = [0.0, 1.0, -1.0, 0.1, -1.5, 3.141592653589793, 1.0e300, -1.0e-300,
              2.2250738585072014e-308, 5.0e-324, 1.7976931348623157e308, 123456789.125,
              1.0e15, 1.0e16, 6.02214076e23],
    LongAscii = list_to_atom(lists:duplicate(255, $a)),
    LongUni = list_to_atom(lists:duplicate(255, 955)),
    Atoms = [a, ok, error, '', 'hello world', 'Elixir.Foo.Bar', 'CamelCase', 'héllo',
             'λx', '日本語', 'ÿ', true, false, nil, undefined, 'with\'quote',
             'a@b.c', LongAscii, LongUni, list_to_atom([128512])],
    Bins = [<<>>, <<0>>, <<1, 2, 3>>, <<"text">>, <<"héllo"/utf8>>,
            binary:copy(<<7>>, 255), binary:copy(<<7>>, 256), binary:copy(<<"xyz">>, 30000),
            << <<(I rem 251)>> || I <- lists:seq(1, 1048576) >>],
    Bits = [<<1:N>> || N <- lists:seq(1, 7)]
        ++ [<<16#FF:N>> || N <- lists:seq(1, 7)]
        ++ [<<1, 2, 3:N>> || N <- lists:seq(1, 7)]
        ++ [<<(binary:copy(<<"z">>, 1000))/binary, 5:3>>],
    Lists = [[], [1, 2, 3], "abc", "", lists:seq(0, 255), lists:seq(1, 300),
             lists:duplicate(65535, $a), lists:duplicate(65536, $b), [a | b], [1, 2 | 3],
             [a, b | <<"t">>], [[[]]], [a, "b", <<"c">>, 1.5, {x}], "héllo λ", [-1, 256],
             [[1 | 2] | 3], lists:seq(1, 10000)],
    Tuples = [{}, {a}, {a, b, c}, {ok, 42}, {error, {badarg, [1, 2]}},
              list_to_tuple(lists:seq(1, 255)), list_to_tuple(lists:seq(1, 256)),
              {{{{{{{{{{deep}}}}}}}}}}, {1, 1.0, "1", <<"1">>, '1'}],
    Maps = [#{}, #{a => 1}, #{a => 1, b => 2, c => 3}, #{zzz => 1, aaa => 2},
            #{1 => a, a => 1, "s" => x, <<"b">> => y, {t} => z, 1.0 => f, [] => n,
              -5 => neg, P(70) => big},
            maps:from_list([{I, I * I} || I <- lists:seq(1, 32)]),
            maps:from_list([{I, x} || I <- lists:seq(1, 33)]),
            maps:from_list([{integer_to_binary(I), {I, float(I)}} || I <- lists:seq(1, 100)]),
            #{a => #{b => #{c => #{d => []}}}},
            #{#{k => 1} => #{}, [1] => [2]},
            maps:from_list([{list_to_atom("key" ++ integer_to_list(I)), I}
                            || I <- lists:seq(1, 40)])],
    Self = self(),
    Other = spawn(fun() -> receive stop -> ok end end),
    Ref = make_ref(),
    MonRef = erlang:monitor(process, Other),
    Alias = alias(),
    Port = hd(erlang:ports()),
    Ids = [Self, Other, list_to_pid("<0.1.0>"), Ref, MonRef, Alias, Port,
           {Self, Ref, Port}, [Self, Ref], #{Self => Ref}],
    X = 7,
    Funs = [fun() -> ok end, fun(A) -> A + X end, fun(A, B) -> {A, B, Bins} end,
            fun lists:map/2, fun erlang:self/0, fun ?MODULE:terms/0,
            [fun(Y) -> Y * X end, fun(_) -> Ints end]],
    Mixed = [{rpc_like, {call, erlang, node, []}, Self},
             [{tag, I, float(I), integer_to_binary(I), #{n => I}} || I <- lists:seq(1, 50)],
             {'$gen_call', {Self, Ref}, {get, <<"key">>}}],
    named("int", Ints) ++ named("float", Floats) ++ named("atom", Atoms)
        ++ named("bin", Bins) ++ named("bits", Bits) ++ named("list", Lists)
        ++ named("tuple", Tuples) ++ named("map", Maps) ++ named("id", Ids)
        ++ named("fun", Funs) ++ named("mixed", Mixed).
