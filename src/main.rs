//! The `direct-conformance` binary: the command line is the contract with users and CI.
#![forbid(unsafe_code)]

mod cli;
// The Gherkin step definitions are compiled into the binary, because vendors run the suite
// from the binary, not from `cargo test`.
#[path = "../steps/mod.rs"]
mod steps;

fn main() -> std::process::ExitCode {
    cli::main()
}
