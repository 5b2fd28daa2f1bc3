//! `beamlink`: talk to BEAM nodes from the shell.

const HELP: &str = "\
beamlink - talk to Erlang/Elixir nodes over the distribution protocol

USAGE:
    beamlink <COMMAND> [OPTIONS]

COMMANDS:
    help        Print this help

OPTIONS:
    --sname NAME    Our short node name (name@host)
    --name NAME     Our long node name (name@fq.dn)
    --cookie C      Cookie (default: ~/.erlang.cookie)
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("help") | Some("--help") | Some("-h") => print!("{HELP}"),
        Some(other) => {
            eprintln!("beamlink: unknown command '{other}' (see 'beamlink --help')");
            std::process::exit(2);
        }
    }
}
