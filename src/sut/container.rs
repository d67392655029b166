//! `run --sut-image IMAGE`: the SUT as a local Docker image (never pulled: there may be no
//! registry), started by testcontainers on a Docker network of its own beside the harness.
//!
//! The harness listens on the network's gateway (a host address the container can reach) and
//! tells the container where through the environment: `DC_HARNESS_DNS` (the harness DNS) and
//! `DC_HARNESS_BACKBONE` (the harness HISP `hisp.direct.test`; SMTP ports are not in DNS), plus
//! `DC_FAULTS` for `--fault`. A host folder is mounted on `/data` (or on the folder of the
//! audit file that `--sut FILE` names), so that the harness reads the SUT's audit log. The
//! harness reaches the SUT's doors through their mapped ports on 127.0.0.1 and waits for each
//! door's greeting before the suite starts.
//!
//! What is started is always removed: by [`SutContainer::finish`] at the end of the run, by
//! drop guards on failure and panic, and by a signal watcher on Ctrl-C or SIGTERM.
//!
//! Built only with the cargo feature `containers`; without it, `--sut-image` says so.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::SutModel;

/// The example SUT's doors inside its container (docker/sut-hisp.toml).
pub const EXAMPLE_PORTS: Ports = Ports {
    backbone: 25,
    submission: Some(587),
    pop3: Some(110),
};

/// Where the SUT's data folder is mounted in the example image.
pub const DATA_DIR: &str = "/data";

/// Container ports of the SUT's doors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub backbone: u16,
    pub submission: Option<u16>,
    pub pop3: Option<u16>,
}

/// Why the SUT container could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(
        "this binary was built without container support: build it with `cargo build --features containers` (scripts/build-images builds the images)"
    )]
    NotBuilt,
    #[error(
        "no Docker engine is reachable ({0}): start Docker, or set DOCKER_HOST to the engine's socket"
    )]
    NoEngine(String),
    #[error(
        "the image {0} is not on this Docker engine: build it with scripts/build-images (images are never pulled)"
    )]
    NoImage(String),
    #[error("the SUT container: {0}")]
    Docker(String),
    #[error("the SUT container's {door} (container port {port}) did not answer in {secs} s: {why}")]
    NotReady {
        door: &'static str,
        port: u16,
        secs: u64,
        why: String,
    },
    #[error("sut.toml with --sut-image: {0}")]
    Model(String),
}

/// The container ports to publish for a SUT described by sut.toml: the port of each door
/// that the file names (its address part is the container's, and is replaced by the mapped
/// one).
pub fn ports_of(model: &SutModel) -> Result<Ports, ContainerError> {
    let submission = match &model.submission {
        Some(s) => Some(
            s.addr
                .parse::<SocketAddr>()
                .map_err(|e| ContainerError::Model(format!("edge.submission.addr: {e}")))?
                .port(),
        ),
        None => None,
    };
    let pop3 = match &model.retrieval {
        Some(super::Retrieval::Pop3(a)) => Some(a.port()),
        _ => None,
    };
    Ok(Ports {
        backbone: model.backbone.port(),
        submission,
        pop3,
    })
}

/// Where the harness reaches each door, once the ports are mapped.
#[derive(Clone, Copy, Debug)]
pub struct Mapped {
    pub backbone: SocketAddr,
    pub submission: Option<SocketAddr>,
    pub pop3: Option<SocketAddr>,
}

/// The container folder that the host data folder is mounted on: the audit file's folder
/// when sut.toml names one, else [`DATA_DIR`].
pub fn mount_point(model: &SutModel) -> Result<String, ContainerError> {
    match &model.audit {
        None => Ok(DATA_DIR.to_string()),
        Some(audit) => match (audit.parent(), audit.file_name()) {
            (Some(dir), Some(_)) if dir.is_absolute() => Ok(dir.display().to_string()),
            _ => Err(ContainerError::Model(format!(
                "audit.path {}: must be an absolute file path in the container",
                audit.display()
            ))),
        },
    }
}

/// Rewrites a sut.toml model for its container: doors at their mapped ports, the audit file
/// and Maildir under the host folder mounted on `mount`.
pub fn remap(
    mut model: SutModel,
    mapped: &Mapped,
    host_data: &Path,
    mount: &str,
) -> Result<SutModel, ContainerError> {
    model.backbone = mapped.backbone;
    if let (Some(s), Some(a)) = (model.submission.as_mut(), mapped.submission) {
        s.addr = a.to_string();
    }
    if let (Some(super::Retrieval::Pop3(p)), Some(a)) = (model.retrieval.as_mut(), mapped.pop3) {
        *p = a;
    }
    if let Some(name) = model.audit.as_ref().and_then(|a| a.file_name()) {
        model.audit = Some(host_data.join(name));
    }
    if let Some(super::Retrieval::Maildir(root)) = &model.retrieval {
        let Ok(rest) = root.strip_prefix(mount) else {
            return Err(ContainerError::Model(format!(
                "edge.retrieval.maildir {} must be below {mount}, the one folder mounted from the host",
                root.display()
            )));
        };
        model.retrieval = Some(super::Retrieval::Maildir(host_data.join(rest)));
    }
    Ok(model)
}

/// Where the harness listens, as the container reaches it (the network's gateway).
#[derive(Clone, Copy, Debug)]
pub struct HarnessAt {
    /// The harness DNS server.
    pub dns: SocketAddr,
    /// The harness backbone (the tap in front of `hisp.direct.test`).
    pub backbone: SocketAddr,
    /// The PKI HTTP server (CRL and AIA URLs).
    pub http: SocketAddr,
    /// The PKI HTTPS server (the trust bundle).
    pub https: SocketAddr,
}

/// Starts the SUT image on `net` and describes it: by sut.toml when given (its door
/// addresses name container ports), else as the example SUT image (docker/sut-hisp.toml).
/// `dns` and `backbone` are where the harness listens (on the network's gateway).
pub async fn start_sut(
    net: Network,
    image: &str,
    file_model: Option<SutModel>,
    faults: &[String],
    host_data: &Path,
    harness: HarnessAt,
) -> Result<(SutModel, SutContainer), ContainerError> {
    let HarnessAt {
        dns,
        backbone,
        http,
        https,
    } = harness;
    std::fs::create_dir_all(host_data)
        .map_err(|e| ContainerError::Docker(format!("{}: {e}", host_data.display())))?;
    let (ports, mount) = match &file_model {
        Some(m) => (ports_of(m)?, mount_point(m)?),
        None => (EXAMPLE_PORTS, DATA_DIR.to_string()),
    };
    let mut env = vec![
        ("DC_HARNESS_DNS".to_string(), dns.to_string()),
        ("DC_HARNESS_BACKBONE".to_string(), backbone.to_string()),
        // The fixture domains' MX hosts resolve to the harness; mail goes to its backbone.
        (
            "DC_HARNESS_SMTP_PORT".to_string(),
            backbone.port().to_string(),
        ),
        ("DC_HARNESS_HTTP".to_string(), http.to_string()),
        ("DC_HARNESS_HTTPS".to_string(), https.to_string()),
    ];
    if !faults.is_empty() {
        env.push(("DC_FAULTS".to_string(), faults.join(",")));
    }
    let spec = Spec {
        image: image.to_string(),
        ports,
        env,
        mount: (host_data.to_path_buf(), mount.clone()),
        ready_secs: 60,
    };
    let sut = SutContainer::start(net, spec).await?;
    let with_fault = if faults.is_empty() {
        String::new()
    } else {
        format!(" with fault {}", faults.join(", "))
    };
    let model = match file_model {
        Some(m) => {
            let label = format!("{} in the image {image}{with_fault}", m.label);
            let mut m = remap(m, &sut.mapped, host_data, &mount)?;
            m.label = label;
            m
        }
        None => {
            let doors = super::embedded::Doors {
                backbone: sut.mapped.backbone,
                submission: sut.mapped.submission,
                pop3: sut.mapped.pop3.unwrap_or(sut.mapped.backbone),
                audit: Some(host_data.join("audit.jsonl")),
                published_dns: None,
            };
            super::embedded::model(
                doors,
                backbone,
                dns,
                format!("the SUT image {image}{with_fault}"),
            )
        }
    };
    Ok((model, sut))
}

/// Set when Ctrl-C or SIGTERM arrived during a container run (what it started is being, or
/// has been, removed): the run ends with exit code 130, whatever else it was doing.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

#[cfg_attr(not(feature = "containers"), allow(dead_code))]
fn set_interrupted() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// What the container is started with.
#[derive(Clone, Debug)]
pub struct Spec {
    pub image: String,
    pub ports: Ports,
    pub env: Vec<(String, String)>,
    /// Host folder → container folder.
    pub mount: (PathBuf, String),
    /// How long each door may take to greet.
    pub ready_secs: u64,
}

#[cfg(feature = "containers")]
mod imp;
#[cfg(feature = "containers")]
pub use imp::{Network, SutContainer};

/// Without the `containers` feature: every entry point says how to get one.
#[cfg(not(feature = "containers"))]
mod imp_off {
    use super::*;

    pub struct Network {
        pub gateway: std::net::IpAddr,
    }

    impl Network {
        pub async fn create() -> Result<Self, ContainerError> {
            Err(ContainerError::NotBuilt)
        }
    }

    pub struct SutContainer {
        pub mapped: Mapped,
    }

    impl SutContainer {
        pub async fn start(_net: Network, _spec: Spec) -> Result<Self, ContainerError> {
            Err(ContainerError::NotBuilt)
        }

        pub async fn finish(self) -> String {
            String::new()
        }
    }
}
#[cfg(not(feature = "containers"))]
pub use imp_off::{Network, SutContainer};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hisp::{HispConfig, envsubst};

    const IMAGE_CONFIG: &str = include_str!("../../docker/sut-hisp.toml");

    /// The lines that configure behaviour (not where things listen or are kept).
    fn behaviour(text: &str) -> Vec<String> {
        const PLACE: &[&str] = &[
            "maildir",
            "audit_log",
            "faults",
            "backbone",
            "submission",
            "pop3",
            "server",
            "static",
            "smtp_port",
            "http_hosts",
            "dns",
            "ldap",
        ];
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|l| {
                let key = l.split('=').next().unwrap_or("").trim();
                !PLACE.contains(&key)
            })
            .map(String::from)
            .collect()
    }

    #[test]
    fn the_image_config_is_the_embedded_sut() {
        let lo: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let embedded = super::super::embedded::config_text(Path::new("/x"), lo, lo, lo, lo, &[]);
        assert_eq!(behaviour(IMAGE_CONFIG), behaviour(&embedded));
    }

    #[test]
    fn the_image_config_loads_with_the_harness_addresses() {
        let env = |n: &str| match n {
            "DC_HARNESS_DNS" => Some("172.18.0.1:5353".to_string()),
            "DC_HARNESS_BACKBONE" => Some("172.18.0.1:2525".to_string()),
            "DC_HARNESS_SMTP_PORT" => Some("2526".to_string()),
            "DC_HARNESS_HTTP" => Some("172.18.0.1:10080".to_string()),
            "DC_HARNESS_HTTPS" => Some("172.18.0.1:10443".to_string()),
            _ => None,
        };
        let text = envsubst::expand(IMAGE_CONFIG, env).unwrap();
        let c = HispConfig::parse(&text).unwrap();
        assert_eq!(c.resolver.server.as_deref(), Some("172.18.0.1:5353"));
        c.load(Path::new("/")).unwrap();
        let e = envsubst::expand(IMAGE_CONFIG, |_| None).unwrap_err();
        assert!(e.to_string().contains("DC_HARNESS_DNS"), "{e}");
    }

    fn file_model(audit: &str, retrieval: &str) -> SutModel {
        let text = format!(
            r#"
domain = "sut.example.test"
[recipients.primary]
address = "r@sut.example.test"
certificate = "pki:sut_recipient"
[backbone]
smtp = "0.0.0.0:2525"
[edge.retrieval]
{retrieval}
[edge.submission]
addr = "0.0.0.0:1587"
[audit]
kind = "file"
path = "{audit}"
"#
        );
        super::super::SutFile::parse(&text)
            .unwrap()
            .check(Path::new("/"), "t")
            .unwrap()
    }

    #[test]
    fn a_sut_file_names_the_container_ports_and_folders() {
        let m = file_model(
            "/var/log/sut/audit.jsonl",
            "kind = \"pop3\"\naddr = \"0.0.0.0:1110\"",
        );
        let p = ports_of(&m).unwrap();
        assert_eq!(
            p,
            Ports {
                backbone: 2525,
                submission: Some(1587),
                pop3: Some(1110)
            }
        );
        let mapped = Mapped {
            backbone: "127.0.0.1:40001".parse().unwrap(),
            submission: Some("127.0.0.1:40002".parse().unwrap()),
            pop3: Some("127.0.0.1:40003".parse().unwrap()),
        };
        let mount = mount_point(&m).unwrap();
        assert_eq!(mount, "/var/log/sut");
        let m = remap(m, &mapped, Path::new("/tmp/h"), &mount).unwrap();
        assert_eq!(m.audit.as_deref(), Some(Path::new("/tmp/h/audit.jsonl")));
        assert_eq!(m.backbone, mapped.backbone);
        assert_eq!(m.submission.unwrap().addr, "127.0.0.1:40002");
        assert!(matches!(m.retrieval, Some(crate::sut::Retrieval::Pop3(a)) if a.port() == 40003));

        let m = file_model(
            "/srv/audit.jsonl",
            "kind = \"maildir\"\nmaildir = \"/srv/mail\"",
        );
        let m = remap(m, &mapped, Path::new("/tmp/h"), "/srv").unwrap();
        assert!(
            matches!(&m.retrieval, Some(crate::sut::Retrieval::Maildir(p)) if p == Path::new("/tmp/h/mail"))
        );
        let m = file_model(
            "/srv/audit.jsonl",
            "kind = \"maildir\"\nmaildir = \"/elsewhere\"",
        );
        assert!(remap(m, &mapped, Path::new("/tmp/h"), "/srv").is_err());
    }
}
