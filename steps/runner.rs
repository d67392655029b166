//! `direct-conformance run`: sets up the shared world once (mock DNS/LDAP/HTTP, the harness
//! peer HISP, the SUT: embedded or from sut.toml), runs the scenarios concurrently with
//! cucumber, and hands back the report. Unclaimed features are skipped here, before cucumber,
//! so that they are counted.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cucumber::World as _;
use cucumber::tag::Ext as _;
use cucumber::{gherkin, writer};
use direct_conformance::env::{World, WorldConfig};
use direct_conformance::hisp::Fault;
use direct_conformance::pki::ReferencePki;
use direct_conformance::report::{RunReport, ScenarioReport, Verdict};
use direct_conformance::sut::tap::Tap;
use direct_conformance::sut::{SutFile, container, embedded, peer};

use super::collector::{self, Collector};
use super::context::RunContext;
use super::world::DirectWorld;

/// The features compiled into the binary (one file per area).
pub const FEATURES: &[(&str, &str)] = &[
    (
        "trust-receive.feature",
        include_str!("../features/trust-receive.feature"),
    ),
    ("mdn.feature", include_str!("../features/mdn.feature")),
    (
        "discovery.feature",
        include_str!("../features/discovery.feature"),
    ),
    (
        "edge-smtp.feature",
        include_str!("../features/edge-smtp.feature"),
    ),
    (
        "trust-send.feature",
        include_str!("../features/trust-send.feature"),
    ),
    ("audit.feature", include_str!("../features/audit.feature")),
    (
        "hosting.feature",
        include_str!("../features/hosting.feature"),
    ),
    (
        "edge-pop3.feature",
        include_str!("../features/edge-pop3.feature"),
    ),
    (
        "edge-imap-client.feature",
        include_str!("../features/edge-imap-client.feature"),
    ),
];

/// What `run` was asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub sut: Option<PathBuf>,
    pub tags: Option<String>,
    pub name: Option<String>,
    pub fault: Option<String>,
    pub concurrency: usize,
    pub features: Option<PathBuf>,
    pub progress: bool,
    /// The SUT as a local Docker image (`--sut-image`), described by `sut` or, without it,
    /// as the example SUT image.
    pub sut_image: Option<String>,
}

/// The run could not start; the text says what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CannotRun(pub String);

fn cannot(what: impl std::fmt::Display) -> CannotRun {
    CannotRun(what.to_string())
}

/// A scratch folder for the embedded SUT and the written-out features; removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, CannotRun> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "direct-conformance-run-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p)
            .map_err(|e| cannot(format!("cannot create {}: {e}", p.display())))?;
        Ok(Scratch(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> Result<std::net::SocketAddr, CannotRun> {
    // Bound and released at once: the peer binds it a moment later (the SUT needs the address
    // first, for its static route).
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| cannot(format!("no free loopback port: {e}")))
}

/// Starts the harness peer HISP on `first`, or, when another process took that port between
/// `free_port` and the bind (runs side by side), on fresh ports, pointing the tap at it.
async fn start_peer(
    dir: &Path,
    first: std::net::SocketAddr,
    tap: &Tap,
    m: &direct_conformance::sut::SutModel,
    capture: &[String],
) -> Result<direct_conformance::hisp::HispHandle, CannotRun> {
    let mut addr = first;
    let mut tries = 0;
    loop {
        let delay = m.windows.dispatched_timeout + m.windows.late_delay;
        match peer::start(dir, addr, &m.domain, m.backbone, &m.anchors, capture, delay).await {
            Ok(p) => {
                tap.set_upstream(addr);
                return Ok(p);
            }
            Err(e) if tries < 4 && e.to_string().contains("in use") => {
                tries += 1;
                addr = free_port()?;
            }
            Err(e) => return Err(cannot(e)),
        }
    }
}

/// The SUT's audit lines about the scenario's message, for every scenario that sent one.
fn audit_evidence(ctx: &RunContext, w: &mut DirectWorld) {
    let (Some(path), Some(sent)) = (&ctx.sut.audit, &w.sent) else {
        return;
    };
    if w.evidence.iter().any(|e| e.kind == "audit") {
        return;
    }
    let lines: String = direct_conformance::sut::audit::read(path)
        .iter()
        .filter(|l| l.about(&sent.message_id))
        .map(|l| format!("{}\n", l.text))
        .collect();
    let title = format!("the SUT's audit lines about {}", sent.message_id);
    w.record("audit", title, lines);
}

/// Runs the suite; `Err` when it could not start.
pub async fn run(opts: RunOptions) -> Result<RunReport, CannotRun> {
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let clock = Instant::now();
    let tags = opts
        .tags
        .as_deref()
        .map(|t| {
            t.parse::<gherkin::tagexpr::TagOperation>()
                .map_err(|e| cannot(format!("--tags {t:?} is not a tag expression: {e}")))
        })
        .transpose()?;
    let name = opts
        .name
        .as_deref()
        .map(|n| regex::Regex::new(n).map_err(|e| cannot(format!("--name: {e}"))))
        .transpose()?;
    if let Some(f) = &opts.fault {
        f.parse::<Fault>().map_err(|e| cannot(e.to_string()))?;
        if opts.sut.is_some() && opts.sut_image.is_none() {
            return Err(cannot(
                "--fault applies to the embedded SUT and to --sut-image only: drop --sut or --fault",
            ));
        }
    }
    let scratch = Scratch::new()?;
    let features_dir = match &opts.features {
        Some(d) => {
            if !d.is_dir() {
                return Err(cannot(format!("--features {}: not a folder", d.display())));
            }
            d.clone()
        }
        None => {
            let d = scratch.0.join("features");
            std::fs::create_dir_all(&d).map_err(|e| cannot(e.to_string()))?;
            for (n, text) in FEATURES {
                std::fs::write(d.join(n), text).map_err(|e| cannot(e.to_string()))?;
            }
            d
        }
    };

    let pki = Arc::new(
        ReferencePki::load_default()
            .map_err(|e| cannot(format!("cannot load the reference PKI: {e}")))?,
    );
    // The SUT model: from sut.toml, or the embedded SUT (started below).
    let file_model = match &opts.sut {
        Some(p) => {
            let base = p.parent().map(Path::to_path_buf).unwrap_or_default();
            Some(
                SutFile::read(p)
                    .and_then(|f| f.check(&base, &p.display().to_string()))
                    .map_err(cannot)?,
            )
        }
        None => None,
    };
    // A SUT image: the run's Docker network first; the harness listens on its gateway.
    let network = match &opts.sut_image {
        Some(_) => Some(container::Network::create().await.map_err(cannot)?),
        None => None,
    };
    let harness_ip = network.as_ref().map(|n| n.gateway);
    let mut env_config = WorldConfig::ephemeral();
    env_config.pki = Some(pki.clone());
    if let Some(m) = &file_model {
        env_config.dns = m.harness_dns;
        // An external SUT finds every test host (the domains' MX targets, ldap.direct.test,
        // pki.direct.test) at the harness DNS's address, and fetches the AIA and CRL URLs its
        // certificates name on the catalogue's HTTP port.
        if !m.harness_dns.ip().is_unspecified() {
            env_config.bind = m.harness_dns.ip();
        }
        let catalogue = WorldConfig::default();
        env_config.http = std::net::SocketAddr::new(env_config.bind, catalogue.http.port());
        env_config.https = std::net::SocketAddr::new(env_config.bind, catalogue.https.port());
    }
    if let Some(ip) = harness_ip {
        env_config.bind = ip;
        env_config.dns = std::net::SocketAddr::new(ip, 0);
        env_config.http = std::net::SocketAddr::new(ip, 0);
        env_config.https = std::net::SocketAddr::new(ip, 0);
    }
    let env = Arc::new(World::start(env_config).await.map_err(|e| {
        cannot(format!(
            "the mock DNS/LDAP/HTTP world could not start: {e} (is a port in use?)"
        ))
    })?);

    let peer_dir = scratch.0.join("peer");
    let sut_dir = scratch.0.join("sut");
    // The SUT delivers to the tap, the tap relays to the harness HISP and keeps the raw bytes.
    let peer_addr = free_port()?;
    let tap_listen = match harness_ip {
        Some(ip) => std::net::SocketAddr::new(ip, 0),
        None => file_model
            .as_ref()
            .map(|m| m.harness_backbone)
            .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
    };
    let tap = Arc::new(Tap::start(tap_listen, peer_addr).await.map_err(|e| {
        cannot(format!(
            "the harness backbone cannot listen on {tap_listen}: {e} (change [harness].backbone)"
        ))
    })?);
    // The discovery cases' domains: the peer accepts any recipient there and keeps nothing
    // (the tap has the bytes), so the SUT gets a 250 and sends no DSN into other scenarios.
    let mut capture: Vec<String> = env
        .fixture
        .cases
        .iter()
        .filter(|c| c.id.starts_with('D'))
        .filter_map(|c| c.address.rsplit_once('@'))
        .map(|(_, d)| d.to_ascii_lowercase())
        .collect();
    capture.sort();
    capture.dedup();
    let mut sut_container = None;
    let (model, embedded_handle, peer_handle) = match (file_model, network, &opts.sut_image) {
        (file_model, Some(net), Some(image)) => {
            let faults: Vec<String> = opts.fault.iter().cloned().collect();
            let (mut m, c) = container::start_sut(
                net,
                image,
                file_model,
                &faults,
                &sut_dir,
                container::HarnessAt {
                    dns: env.dns,
                    backbone: tap.addr,
                    http: env.http,
                    https: env.https,
                },
            )
            .await
            .map_err(cannot)?;
            sut_container = Some(c);
            m.harness_backbone = tap.addr;
            m.harness_dns = env.dns;
            let p = start_peer(&peer_dir, peer_addr, &tap, &m, &capture).await?;
            (m, None, p)
        }
        (Some(m), _, _) => {
            let p = start_peer(&peer_dir, peer_addr, &tap, &m, &capture).await?;
            (m, None, p)
        }
        (None, _, _) => {
            let faults: Vec<String> = opts.fault.iter().cloned().collect();
            let (mut m, h) =
                embedded::start(&sut_dir, tap.addr, env.dns, env.http, env.https, &faults)
                    .await
                    .map_err(cannot)?;
            m.harness_backbone = tap.addr;
            let p = start_peer(&peer_dir, peer_addr, &tap, &m, &capture).await?;
            (m, Some(h), p)
        }
    };
    let peer_handle = Arc::new(peer_handle);
    let ctx = Arc::new(
        RunContext::new(model.clone(), pki, peer_handle.clone(), tap.clone())
            .with_world(env.log.clone(), env.fixture.clone()),
    );
    let _ = ctx.harness_http.set((
        format!("{}:{}", env.fixture.http_host, env.fixture.http_port),
        env.http,
    ));
    let _ = ctx.harness_site.set(env.site.clone());
    RunContext::install(ctx.clone()).map_err(cannot)?;

    // Selection: --tags and --name drop scenarios; unclaimed features skip them (counted).
    let skipped: Arc<Mutex<Vec<ScenarioReport>>> = Arc::default();
    let skipped_in = skipped.clone();
    let claims = model.clone();
    let filter = move |f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario| {
        let all_tags: Vec<&String> = f
            .tags
            .iter()
            .chain(r.iter().flat_map(|r| &r.tags))
            .chain(s.tags.iter())
            .collect();
        if let Some(t) = &tags
            && !t.eval(all_tags.iter().map(|t| t.as_str()))
        {
            return false;
        }
        if let Some(n) = &name
            && !n.is_match(&s.name)
        {
            return false;
        }
        let unclaimed: Vec<&str> = all_tags
            .iter()
            .filter_map(|t| t.trim_start_matches('@').strip_prefix("needs-"))
            .filter(|need| !claims.claims(need))
            .collect();
        let profile_mismatch = all_tags.iter().any(|t| {
            let t = t.trim_start_matches('@');
            (t == "ds-1.3" || t == "ats-1.2") && t != claims.profile
        });
        let unnamed = super::hosting::unnamed_case(&claims, &all_tags)
            .or_else(|| super::send::undeclared_role(&claims, s));
        if !unclaimed.is_empty() || profile_mismatch || unnamed.is_some() {
            let mut rep = collector::new_report(f, s);
            rep.verdict = Verdict::Skipped;
            rep.reason = Some(if let Some(why) = unnamed {
                why
            } else if profile_mismatch {
                format!("the SUT runs profile {}", claims.profile)
            } else {
                format!("the SUT does not claim {}", unclaimed.join(", "))
            });
            skipped_in
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(rep);
            return false;
        }
        true
    };

    let after_ctx = ctx.clone();
    let mut collector = Collector::default();
    collector.progress = opts.progress;
    let collected = collector.collected.clone();
    DirectWorld::cucumber()
        .with_writer(writer::AssertNormalized::new(collector))
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .max_concurrent_scenarios(opts.concurrency.max(1))
        .after(move |f, _r, s, _ev, w| {
            let ctx = after_ctx.clone();
            Box::pin(async move {
                if let Some(w) = w {
                    audit_evidence(&ctx, w);
                    ctx.store_evidence(collector::key(f, s), std::mem::take(&mut w.evidence));
                }
            })
        })
        .filter_run(features_dir, filter)
        .await;
    let collector = std::mem::take(&mut *collected.lock().unwrap_or_else(|e| e.into_inner()));

    let mut scenarios: Vec<ScenarioReport> = Vec::new();
    {
        let mut store = ctx.evidence.lock().unwrap_or_else(|e| e.into_inner());
        for (k, mut r) in collector.done {
            r.evidence = store.remove(&k).unwrap_or_default();
            scenarios.push(r);
        }
    }
    scenarios.extend(skipped.lock().unwrap_or_else(|e| e.into_inner()).drain(..));
    for e in &collector.parse_errors {
        scenarios.push(ScenarioReport {
            area: "features".into(),
            feature: "parse error".into(),
            name: e.clone(),
            tags: Vec::new(),
            requirements: Vec::new(),
            cases: Vec::new(),
            line: 0,
            verdict: Verdict::Errored,
            reason: Some(e.clone()),
            duration_ms: 0,
            steps: Vec::new(),
            evidence: Vec::new(),
        });
    }

    let sut_log = match sut_container {
        Some(c) => Some(c.finish().await),
        None => None,
    };
    if let Some(h) = embedded_handle {
        h.shutdown().await;
    }
    drop(ctx);
    if let Ok(p) = Arc::try_unwrap(peer_handle) {
        p.shutdown().await;
    }
    if let Ok(env) = Arc::try_unwrap(env) {
        env.shutdown().await;
    }
    let mut report = RunReport::new(
        model.label.clone(),
        opts.fault.clone(),
        started_at,
        clock.elapsed().as_millis() as u64,
        scenarios,
    );
    report.sut_log = sut_log;
    Ok(report)
}
