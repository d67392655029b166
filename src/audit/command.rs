//! `direct-conformance audit verify FILE [--head SEQ:HASH]`: exit 0 when the chain is intact,
//! 1 when it is broken (the line and the reason are printed), 2 when the file is unreadable or
//! a flag is wrong.

use std::path::PathBuf;

use crate::audit::chain::Head;
use crate::audit::verify::{verify, verify_against};

/// `direct-conformance audit`.
#[derive(Clone, Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check an audit log's hash chain; report the first broken line and why.
    Verify {
        /// The JSON-lines audit log.
        file: PathBuf,
        /// The head recorded earlier (`SEQ:HASH`), to also catch lines removed from the end.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<String>,
    },
}

/// Runs the command, printing to stdout/stderr; returns the exit code.
pub fn run(args: &AuditArgs) -> u8 {
    match &args.command {
        AuditCommand::Verify { file, head } => {
            let expected = match head.as_deref().map(|h| (h, Head::parse(h))) {
                None => None,
                Some((_, Some(h))) => Some(h),
                Some((text, None)) => {
                    eprintln!("error: --head {text:?}: SEQ:HASH (64 hex digits) expected");
                    return 2;
                }
            };
            let report = match &expected {
                None => verify(file),
                Some(h) => verify_against(file, h),
            };
            match report {
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
                Ok(r) => match &r.broken {
                    None => {
                        println!(
                            "{}: intact, {} lines, head {}",
                            file.display(),
                            r.lines,
                            r.head
                        );
                        0
                    }
                    Some(b) => {
                        println!(
                            "{}: broken at line {}: {}",
                            file.display(),
                            b.line,
                            b.reason
                        );
                        1
                    }
                },
            }
        }
    }
}
