//! How much each row measures: `make bench` (full) or `make bench QUICK=1`.

pub struct Cfg {
    pub quick: bool,
    /// Repetitions per row; each row reports the median and spread over them.
    pub reps: usize,
    /// Untimed calls before each latency repetition.
    pub lat_warm: usize,
    /// Timed sequential calls per latency repetition.
    pub lat_n: usize,
    /// Calls per throughput repetition, shared among the callers in flight.
    pub tput_total: usize,
    pub ping_n: usize,
    pub fresh_n: usize,
    /// OS processes started per whole-process repetition.
    pub whole_n: usize,
    /// Minimum time per codec measurement.
    pub codec_ms: u64,
    pub echo_n: usize,
    pub mem_reps: usize,
}

impl Cfg {
    pub fn from_env() -> Cfg {
        let quick = std::env::var("QUICK").map(|v| !v.is_empty() && v != "0").unwrap_or(false);
        Cfg::new(quick)
    }

    pub fn new(quick: bool) -> Cfg {
        if quick {
            Cfg {
                quick,
                reps: 5,
                lat_warm: 100,
                lat_n: 500,
                tput_total: 2048,
                ping_n: 300,
                fresh_n: 8,
                whole_n: 8,
                codec_ms: 20,
                echo_n: 10,
                mem_reps: 1,
            }
        } else {
            Cfg {
                quick,
                reps: 10,
                lat_warm: 500,
                lat_n: 2000,
                tput_total: 8192,
                ping_n: 1000,
                fresh_n: 20,
                whole_n: 20,
                codec_ms: 60,
                echo_n: 20,
                mem_reps: 3,
            }
        }
    }
}
