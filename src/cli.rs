//! The command line: `run`, `validate`, `serve`, `certs`, `faults`. `anyhow` lives only here,
//! at the binary's edge; the library speaks typed errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for "the tool itself could not run" (bad flag, unreadable file, not built yet).
const EXIT_CANNOT_RUN: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "direct-conformance",
    version,
    about = "Conformance harness and reference validator for Direct secure messaging",
    long_about = "Conformance harness and reference validator for Direct secure messaging \
                  (S/MIME over SMTP between HISPs): Gherkin scenarios against a system under \
                  test, a mock discovery world, a reference HISP and a message validator."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance suite against a system under test (default: the embedded reference SUT).
    Run(RunArgs),
    /// Validate captured Direct messages against the numbered check catalogue.
    Validate(direct_conformance::validate::ValidateArgs),
    /// Serve the discovery world (DNS, LDAP, HTTP) and the reference HISP.
    Serve(ServeArgs),
    /// (Re)generate the test PKI: CAs, leaf credentials of every profile, CRLs, PKCS#12 bundles.
    Certs {
        /// Where to write the set.
        #[arg(long, default_value = "reference-certs")]
        out: PathBuf,
        /// Generation time that validity periods are computed from (RFC 3339, or `now`).
        /// Default: the epoch recorded in the PKI description, so that output is byte-for-byte
        /// reproducible.
        #[arg(long)]
        epoch: Option<String>,
        /// The PKI description to generate from (default: the embedded `reference-certs/pki.toml`).
        #[arg(long, value_name = "FILE", env = "DIRECT_CONFORMANCE_PKI_SPEC")]
        spec: Option<PathBuf>,
    },
    /// List the fault switches of the embedded reference SUT, one per line.
    Faults,
    /// Run one reference HISP (backbone SMTP, submission, POP3) until Ctrl-C.
    Hisp {
        /// The HISP's TOML configuration (see examples/hisp.toml); `${NAME}` and
        /// `${NAME:-default}` in it are taken from the environment.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Turn on a fault switch besides the file's `faults` (repeatable; the environment
        /// variable takes a comma-separated list: how a container image is faulted).
        #[arg(long, value_name = "NAME", env = "DC_FAULTS", value_delimiter = ',')]
        fault: Vec<String>,
    },
    /// The reference edge client (the embedded SUT's mail client): one job against a mail
    /// server, from flags or the `DC_EDGE_*` variables that `sut.toml [edge_client]` documents.
    EdgeClient(direct_conformance::edge_client::EdgeClientArgs),
    /// Audit-log tools: `audit verify FILE` checks the hash chain.
    Audit(direct_conformance::audit::AuditArgs),
    /// Serve a folder of reports over HTTP until Ctrl-C (the `report` service of docker-compose.yml).
    Web {
        /// The folder to serve (a run's --report-dir, or its parent).
        #[arg(long, value_name = "DIR", default_value = "reports")]
        root: PathBuf,
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout with success; usage errors are exit 2.
            let code = if e.use_stderr() { EXIT_CANNOT_RUN } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => validate(&args),
        Command::Serve(args) => serve(&args),
        Command::EdgeClient(args) => edge_client(&args),
        Command::Faults => {
            use std::io::Write;
            let _ = write!(
                std::io::stdout().lock(),
                "{}",
                direct_conformance::hisp::faults::listing()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Hisp { config, fault } => hisp(&config, &fault),
        Command::Certs { out, epoch, spec } => certs(out, epoch, spec),
        Command::Audit(args) => Ok(ExitCode::from(direct_conformance::audit::command::run(
            &args,
        ))),
        Command::Web { root, listen } => web(root, listen),
    }
}

/// Exit 0: no error-level finding; 1: at least one; 2 (via the error): the tool could not run.
fn validate(args: &direct_conformance::validate::ValidateArgs) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    let colour = stdout.is_terminal();
    let outcome = direct_conformance::validate::run_with_colour(args, &mut stdout.lock(), colour)?;
    Ok(ExitCode::from(outcome.exit_code()))
}

/// `hisp --config FILE`: one reference HISP until Ctrl-C (or SIGTERM); bound addresses on
/// stdout.
fn hisp(config: &std::path::Path, faults: &[String]) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let handle = start_hisp(config, faults).await?;
        println!("(Ctrl-C stops)");
        stop_signal().await?;
        handle.shutdown().await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// Starts the reference HISP of `config` (`${VAR}` expanded from the environment; relative
/// paths taken from its folder), with `faults` added, and prints its doors.
async fn start_hisp(
    config: &std::path::Path,
    faults: &[String],
) -> anyhow::Result<direct_conformance::hisp::HispHandle> {
    use direct_conformance::hisp::{Hisp, HispConfig, envsubst};
    let base = config
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let text = std::fs::read_to_string(config)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let text = envsubst::expand(&text, |n| std::env::var(n).ok())
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let mut parsed =
        HispConfig::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    parsed.faults.extend(
        faults
            .iter()
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty()),
    );
    let settings = parsed.load(&base)?;
    let handle = Hisp::start(settings).await?;
    let show = |a: Option<std::net::SocketAddr>| a.map_or("off".to_string(), |a| a.to_string());
    println!(
        "reference HISP {}: backbone {}, submission {}, pop3 {}, imap {}",
        handle.core.settings.hostname,
        show(handle.backbone),
        show(handle.submission),
        show(handle.pop3),
        show(handle.imap)
    );
    if let Some(p) = &handle.published {
        println!(
            "publishing its certificates: dns {}, ldap {}",
            show(p.dns),
            show(p.ldap)
        );
    }
    Ok(handle)
}

/// Ctrl-C, or SIGTERM: a server in a container is PID 1, which the kernel shields from a
/// SIGTERM it has no handler for (`docker stop` would wait 10 s, then kill).
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}

/// `web`: the reports folder over HTTP until Ctrl-C or SIGTERM.
fn web(root: PathBuf, listen: std::net::SocketAddr) -> anyhow::Result<ExitCode> {
    use direct_conformance::report::web;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let l = web::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("--listen {listen}: {e}"))?;
        println!(
            "serving {} on http://{} (Ctrl-C stops)",
            root.display(),
            l.local_addr()?
        );
        tokio::select! {
            r = web::serve(l, root) => r?,
            r = stop_signal() => r?,
        }
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// `run`'s flags.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The system under test (see examples/sut.toml); default: the embedded reference SUT.
    #[arg(long, value_name = "FILE")]
    sut: Option<PathBuf>,
    /// Tag expression, for example `@RX-01`, `@negative and not @should`.
    #[arg(long, value_name = "EXPR")]
    tags: Option<String>,
    /// Only scenarios whose name matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    name: Option<String>,
    /// Where index.html, junit.xml and results.json go.
    #[arg(long, value_name = "DIR", default_value = "reports/latest")]
    report_dir: PathBuf,
    /// Turn on a fault switch in the embedded SUT, or in the --sut-image container through
    /// DC_FAULTS (see `direct-conformance faults`).
    #[arg(long, value_name = "NAME")]
    fault: Option<String>,
    /// Start the SUT from this local Docker image (never pulled) on a Docker network of the
    /// run's own, and remove it afterwards; --sut describes it (its door addresses name the
    /// container's ports), default: the example SUT image (scripts/build-images). Needs the
    /// cargo feature `containers`.
    #[arg(long, value_name = "IMAGE")]
    sut_image: Option<String>,
    /// Scenarios run at the same time.
    #[arg(long, value_name = "N", default_value_t = 16)]
    concurrency: usize,
    /// A @should scenario whose expectation is not met fails; without it, it passes with a
    /// warning (TEST-CATALOGUE §0.2).
    #[arg(long)]
    strict: bool,
    /// Read the .feature files from this folder instead of the embedded ones.
    #[arg(long, value_name = "DIR")]
    features: Option<PathBuf>,
}

/// Exit 0: every scenario that ran passed; 1: some failed; 2: the run could not start.
fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    let opts = crate::steps::runner::RunOptions {
        sut: args.sut.clone(),
        tags: args.tags.clone(),
        name: args.name.clone(),
        fault: args.fault.clone(),
        concurrency: args.concurrency,
        features: args.features.clone(),
        progress: std::io::stderr().is_terminal(),
        sut_image: args.sut_image.clone(),
    };
    // More workers than cores: the harness, the peer and the embedded SUT share this runtime,
    // and one worker busy with a signature must not starve every other door on 2 cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(8)
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(crate::steps::runner::run(opts));
    if direct_conformance::sut::container::interrupted() {
        // The signal watcher removed the container; what the run saw after that is moot.
        return Ok(ExitCode::from(130));
    }
    let mut report = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("direct-conformance run: could not start: {e}");
            return Ok(ExitCode::from(EXIT_CANNOT_RUN));
        }
    };
    report.apply_should_rule(args.strict);
    direct_conformance::report::write_all(&report, &args.report_dir)
        .map_err(|e| anyhow::anyhow!("{e} (choose another --report-dir)"))?;
    let t = report.totals;
    for s in report.scenarios.iter().filter(|s| {
        matches!(
            s.verdict,
            direct_conformance::report::Verdict::Failed
                | direct_conformance::report::Verdict::Errored
        )
    }) {
        println!(
            "{} [{}] {}: {}",
            s.verdict.name().to_uppercase(),
            s.area,
            s.name,
            s.reason.as_deref().unwrap_or("")
        );
    }
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.verdict == direct_conformance::report::Verdict::Warned)
    {
        println!(
            "WARNING [{}] {}: {}",
            s.area,
            s.name,
            s.reason.as_deref().unwrap_or("")
        );
    }
    println!(
        "reports in {} ({:.1} s)",
        args.report_dir.display(),
        report.duration_ms as f64 / 1000.0
    );
    println!(
        "{} passed, {} failed, {} skipped",
        t.passed,
        t.failed + t.errored,
        t.skipped
    );
    Ok(ExitCode::from(if t.failed + t.errored > 0 { 1 } else { 0 }))
}

/// `certs`: generates the test PKI from the embedded description, or from `--spec FILE`
/// (also `DIRECT_CONFORMANCE_PKI_SPEC`: an override for trying new entries without rebuilding).
fn certs(out: PathBuf, epoch: Option<String>, spec: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use direct_conformance::pki;
    let spec_text = match spec {
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("--spec {}: {e}", path.display()))?,
        None => pki::EMBEDDED_SPEC.to_string(),
    };
    let epoch = epoch.as_deref().map(pki::parse_epoch).transpose()?;
    let started = std::time::Instant::now();
    let manifest = pki::generate(&spec_text, epoch, &out)?;
    let cas = manifest.credentials.iter().filter(|c| c.ca).count();
    // writeln! rather than println!: a closed pipe (`certs | head`) is not worth a panic.
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "wrote {} credentials ({} CAs, {} end entities), {} CRLs, {} files to {} in {:.1} s (epoch {})",
        manifest.credentials.len(),
        cas,
        manifest.credentials.len() - cas,
        manifest.crls.len(),
        manifest.files.len(),
        out.display(),
        started.elapsed().as_secs_f64(),
        manifest.epoch
    );
    let _ = writeln!(
        stdout,
        "trust anchor: {}; PKCS#12 password: {}",
        out.join(pki::ANCHOR_PEM).display(),
        pki::PKCS12_PASSWORD
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// DNS server address, UDP and TCP on the same port.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:10053")]
    dns: std::net::SocketAddr,
    /// Move every LDAP server by N - 10389 (L1 on N, L2 on N+1000, …); 0: free ports.
    /// Default: the catalogue's ports 10389…18389.
    #[arg(long, value_name = "N")]
    ldap_base_port: Option<u16>,
    /// PKI HTTP server; the certificates' CRL and AIA URLs name port 10080.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:10080")]
    http: std::net::SocketAddr,
    /// PKI HTTPS server (trust bundles), with the `tls_pki` certificate of the test PKI.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:10443")]
    https: std::net::SocketAddr,
    /// The address every A record points to; LDAP servers listen on it.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Print every case with its address and expected certificate, then exit.
    #[arg(long)]
    list: bool,
    /// Do not print each DNS query, LDAP operation and HTTP request as it happens.
    #[arg(long)]
    quiet: bool,
    /// Use this fixture instead of the embedded one (same format as src/env/fixture.toml).
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// Also start a reference HISP with this configuration (see examples/hisp.toml), after the
    /// world is up, so that its resolver can point at the world's DNS server.
    #[arg(long, value_name = "FILE")]
    hisp: Option<PathBuf>,
}

/// `serve`: runs the mock discovery world until Ctrl-C.
fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    use direct_conformance::env::{Fixture, World, WorldConfig};
    let fixture = match &args.fixture {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--fixture {}: {e}", path.display()))?;
            Fixture::parse(&text)
                .map_err(|e| anyhow::anyhow!("--fixture {}: {e}", path.display()))?
        }
        None => Fixture::embedded()?,
    };
    if args.list {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for c in &fixture.cases {
            // A closed pipe (`| head`) ends the listing quietly.
            if writeln!(
                out,
                "{:<4} {:<34} {:<22} {}",
                c.id,
                c.address,
                c.expect.as_deref().unwrap_or("(none)"),
                c.title
            )
            .is_err()
            {
                break;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let config = WorldConfig {
        dns: args.dns,
        ldap_base_port: args.ldap_base_port,
        http: args.http,
        https: args.https,
        bind: args.bind,
        echo: !args.quiet,
        fixture: Some(fixture),
        pki: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let world = World::start(config).await?;
        print!("{}", world.describe());
        let hisp = match &args.hisp {
            Some(path) => match start_hisp(path, &[]).await {
                Ok(h) => Some(h),
                Err(e) => {
                    world.shutdown().await;
                    return Err(e.context(format!("--hisp {}", path.display())));
                }
            },
            None => None,
        };
        println!("serving {} cases; Ctrl-C stops", world.cases().len());
        stop_signal().await?;
        println!("stopping");
        if let Some(h) = hisp {
            h.shutdown().await;
        }
        world.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs one edge-client job; exit 0 when it did what was asked, 1 when it stopped (a refused
/// certificate is a stop: that is what a correct client does with a bad one).
fn edge_client(args: &direct_conformance::edge_client::EdgeClientArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let job = args.job()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(direct_conformance::edge_client::run(&job)) {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{}", outcome.transcript);
            for id in &outcome.sent {
                let _ = writeln!(out, "sent {id}");
            }
            for r in &outcome.retrieved {
                let _ = writeln!(
                    out,
                    "retrieved {} ({} octets) {}",
                    r.number,
                    r.octets,
                    r.message_id.as_deref().unwrap_or("-")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("edge-client: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
