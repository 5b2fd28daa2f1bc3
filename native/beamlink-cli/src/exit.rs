//! Exit codes a script can rely on. Call failures use [`beamlink::CallError::exit_code`]
//! (2 error, 3 exit, 4 throw, 5 undef, 6 noconnection, 7 timeout, 8 spawn refused, 9 badrpc,
//! 10 undecodable answer).

pub const OK: i32 = 0;
/// `ping` got no pong.
pub const PANG: i32 = 1;
/// Bad command line (sysexits EX_USAGE).
pub const USAGE: i32 = 64;
/// epmd or the node cannot be reached (EX_UNAVAILABLE).
pub const UNAVAILABLE: i32 = 69;
/// Our own name or cookie is unusable (EX_CONFIG).
pub const CONFIG: i32 = 78;
