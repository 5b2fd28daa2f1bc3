//! The seed session from Rust: ping, list, rpc.call, and a spawn whose output comes back.
//!
//! ```text
//! cargo run --example seed -- fuga@localhost piyo@localhost --cookie mycookie
//! ```

use std::time::Duration;

use beamlink::rpc::SpawnOptions;
use beamlink::term::ElixirDisplay;
use beamlink::{Node, Term};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let cookie = match args.iter().position(|a| a == "--cookie") {
        Some(i) => {
            args.remove(i);
            Some(args.remove(i))
        }
        None => None,
    };
    let targets = args;
    let mut builder = Node::builder(format!("hoge_rs_{}@localhost", std::process::id()));
    if let Some(c) = cookie {
        builder = builder.cookie(c);
    }
    let node = builder.start().await?;
    let t = Duration::from_secs(5);

    for target in &targets {
        let answer = if node.ping(target).await { "pong" } else { "pang" };
        println!("Node.ping(:\"{target}\")  #=> :{answer}");
    }
    let listed: Vec<String> = node.nodes().iter().map(|a| a.as_str().to_string()).collect();
    println!("Node.list()  #=> {listed:?}");

    let fuga = &targets[0];
    let me = Term::Atom(node.name().clone());
    let hello = node.rpc_call(fuga, "Elixir.Person", "say_hello", Term::list([me]), t).await?;
    println!(":rpc.call(:\"{fuga}\", Person, :say_hello, [node()])  #=> {}", ElixirDisplay(&hello));

    let mut p = node.spawn(fuga, "Elixir.Toukon", "say", Term::nil(), SpawnOptions::default()).await?;
    p.wait_exit(t).await?;
    print!(
        "Node.spawn(:\"{fuga}\", fn -> Toukon.aisatsu() |> IO.puts() end) printed here: {}",
        p.output_so_far()
    );
    Ok(())
}
