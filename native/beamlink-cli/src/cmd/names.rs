//! `beamlink names [HOST]`: what `epmd -names` prints.

use beamlink::epmd;

use super::{Failure, Outcome};
use crate::exit;

pub async fn run(host: &str) -> Outcome {
    let (port, text) = epmd::Client::from_env(host)
        .names_raw()
        .await
        .map_err(|e| Failure { code: exit::epmd_error(&e), message: e.to_string() })?;
    println!("epmd: up and running on port {port} with data:");
    print!("{text}");
    Ok(exit::OK)
}
