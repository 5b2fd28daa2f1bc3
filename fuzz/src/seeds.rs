//! Writes each target's seeds (`beamlink::fuzzing::seeds`) into `corpus/<target>/`.
fn main() {
    let targets =
        ["packets", "control", "handshake_accept", "handshake_initiate", "epmd_reply", "erlang_syntax"];
    for t in targets {
        let dir = std::path::Path::new("corpus").join(t);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (i, s) in beamlink::fuzzing::seeds(t).into_iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), s).expect("seed");
        }
    }
}
