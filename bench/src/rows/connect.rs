//! Connections: ping on an established one, and a fresh one (epmd lookup + handshake) against
//! a BEAM node and against the C `ei_connect`.

use std::time::Instant;

use beamlink_test_support::Otp;

use crate::cfg::Cfg;
use crate::ei;
use crate::env::{Env, eval, note, nums, percentile, start_node};
use crate::table::{Row, Stat, Table};

pub fn ping_rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("ping on an established connection");
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    let (mut b, mut r) = (vec![], vec![]);
    for _ in 0..cfg.reps {
        let (bl, to, warm, n) = (env.bl.clone(), target.clone(), cfg.lat_warm, cfg.ping_n);
        let s: Vec<f64> = env.task(async move {
            for _ in 0..warm {
                assert!(bl.ping(&to).await);
            }
            let mut v = vec![];
            for _ in 0..n {
                let t0 = Instant::now();
                assert!(bl.ping(&to).await);
                v.push(t0.elapsed().as_nanos() as f64);
            }
            v
        });
        b.push(percentile(&s, 50.0) / 1e3);
        let rs = nums(&eval(
            c,
            &format!("beamlink_bench:isolated(ping_est, ['{target}', {}, {}]).", cfg.lat_warm, cfg.ping_n),
        ));
        r.push(percentile(&rs, 50.0) / 1e3);
    }
    table.push(
        Row::new(
            "connect",
            "ping, established connection, p50, otp28",
            "µs",
            false,
            Stat::of(&b),
            "net_adm:ping otp28→otp28",
            Stat::of(&r),
        )
        .target(0.85)
        .headline("ping on an established connection vs `net_adm:ping`"),
    );
}

pub fn fresh_rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("fresh connect");
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    let (mut b_ping, mut b_conn, mut r, mut e) = (vec![], vec![], vec![], vec![]);
    let mut ei_error = None;
    for rep in 0..=cfg.reps {
        // A new beamlink node each time: nothing cached, the epmd lookup and handshake are real.
        let (conn, ping): (Vec<f64>, Vec<f64>) = env.rt.block_on(async {
            let (mut conn, mut ping) = (vec![], vec![]);
            for _ in 0..cfg.fresh_n {
                let t0 = Instant::now();
                let node = start_node(&env.cookie).await;
                node.connect(&target).await.expect("fresh connect");
                conn.push(t0.elapsed().as_nanos() as f64);
                assert!(node.ping(&target).await);
                ping.push(t0.elapsed().as_nanos() as f64);
                node.shutdown();
            }
            (conn, ping)
        });
        let rs = nums(&eval(
            c,
            &format!("beamlink_bench:isolated(ping_fresh, ['{target}', 20, {}]).", cfg.fresh_n),
        ));
        let es = if ei_error.is_none() {
            ei::run(&target, &env.cookie, cfg.fresh_n, 0, 0).map_err(|err| ei_error = Some(err)).ok()
        } else {
            None
        };
        if rep > 0 {
            b_ping.push(percentile(&ping, 50.0) / 1e3);
            b_conn.push(percentile(&conn, 50.0) / 1e3);
            r.push(percentile(&rs, 50.0) / 1e3);
            if let Some(es) = es {
                e.push(percentile(&es.connect_ns, 50.0) / 1e3);
            }
        }
    }
    table.push(
        Row::new(
            "connect",
            "fresh connect (epmd + handshake + ping), p50, otp28",
            "µs",
            false,
            Stat::of(&b_ping),
            "net_adm:ping from a BEAM node, no connection",
            Stat::of(&r),
        )
        .target(0.5)
        .note("beamlink: new Node + ping; BEAM: disconnect_node, then net_adm:ping")
        .headline("fresh connect (epmd + handshake + ping) vs `net_adm:ping`"),
    );
    let name = "fresh connect (epmd + handshake), p50, otp28";
    let reference = "C ei_connect (erl_interface)";
    table.push(match ei_error {
        Some(why) => Row::skipped("connect", name, reference, &why),
        None => Row::new("connect", name, "µs", false, Stat::of(&b_conn), reference, Stat::of(&e))
            .note("beamlink: new Node + connect; C: ei_connect_init + ei_connect under a fresh name"),
    });
}
