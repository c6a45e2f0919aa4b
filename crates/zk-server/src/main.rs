//! `zk-agent`: the local server and the operations command line of ZK-Agent Desktop.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
