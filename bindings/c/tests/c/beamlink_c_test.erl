%% The Erlang side of the C test programs, loaded into the OTP 25 and OTP 28 test nodes.
-module(beamlink_c_test).
-export([start_echo/0, exit_when_told/1, print_then_exit/2, register_and_sleep/2]).

%% A process that answers every {From, Msg} with {echo, Msg} until it gets `stop`.
start_echo() ->
    spawn(fun Loop() ->
                  receive
                      {From, Msg} -> From ! {echo, Msg}, Loop();
                      stop -> ok
                  end
          end).

%% A process that exits with Reason when it gets `go` (for links and monitors: the test links
%% or monitors first, however slowly, then lets it go).
exit_when_told(Reason) ->
    spawn(fun() -> receive go -> exit(Reason) end end).

%% Prints each line (through its group leader), then exits with Reason: what a spawned
%% process's output and exit look like from the spawning side.
print_then_exit(Lines, Reason) ->
    [io:format("~ts~n", [L]) || L <- Lines],
    exit(Reason).

%% Registers the calling process as Name, then sleeps: the process of a remote call, made
%% visible so a test can see whether it still runs.
register_and_sleep(Name, Ms) ->
    register(Name, self()),
    timer:sleep(Ms),
    done.
