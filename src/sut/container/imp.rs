//! The Docker side of `--sut-image`: the run's network (bollard, through testcontainers'
//! re-export), the SUT container (testcontainers), readiness, logs and removal.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use testcontainers::bollard::Docker;
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, RemoveContainerOptions,
};
use testcontainers::core::{IntoContainerPort, Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::io::AsyncBufReadExt;

use super::{ContainerError, Mapped, Spec};

/// Every call to the engine ends by then.
const ENGINE_DEADLINE: Duration = Duration::from_secs(20);
/// The SUT's log kept for the report (its tail).
const LOG_LIMIT: usize = 1 << 20;

fn engine_address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

fn engine() -> Result<Docker, ContainerError> {
    Docker::connect_with_local_defaults()
        .map_err(|e| ContainerError::NoEngine(format!("{}: {e}", engine_address())))
}

fn docker(what: &str) -> impl Fn(testcontainers::bollard::errors::Error) -> ContainerError + '_ {
    move |e| ContainerError::Docker(format!("{what}: {e}"))
}

async fn within<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, ContainerError>>,
) -> Result<T, ContainerError> {
    tokio::time::timeout(ENGINE_DEADLINE, f)
        .await
        .unwrap_or_else(|_| {
            Err(ContainerError::Docker(format!(
                "{what}: the engine did not answer in {} s",
                ENGINE_DEADLINE.as_secs()
            )))
        })
}

/// What must be removed; shared with the signal watcher.
#[derive(Default, Debug)]
struct Leftovers {
    container: Option<String>,
    network: Option<String>,
}

/// Removes the container, then the network, from a thread of its own (usable in `Drop` and
/// from a signal handler, whatever runtime is or is not running).
fn remove_blocking(left: Leftovers) {
    if left.container.is_none() && left.network.is_none() {
        return;
    }
    let t = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            let Ok(d) = engine() else { return };
            let _ = tokio::time::timeout(ENGINE_DEADLINE, remove(&d, &left)).await;
        });
    });
    let _ = t.join();
}

async fn remove(d: &Docker, left: &Leftovers) {
    let mut ids: Vec<String> = left.container.iter().cloned().collect();
    // A container still being started when the run was interrupted is not recorded yet; it
    // is on the run's own network, so that finds it.
    if let Some(n) = &left.network {
        let filters = HashMap::from([("network", vec![n.clone()])]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        if let Ok(found) = d.list_containers(Some(opts)).await {
            ids.extend(found.into_iter().filter_map(|c| c.id));
        }
    }
    ids.sort();
    ids.dedup();
    for id in &ids {
        let opts = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        let _ = d.remove_container(id, Some(opts)).await;
    }
    if let Some(n) = &left.network {
        let _ = d.remove_network(n).await;
    }
}

/// The run's own Docker network. The harness listens on its gateway, the host's address on
/// that network; removed on drop, on Ctrl-C and on SIGTERM (with the container, if any).
pub struct Network {
    pub name: String,
    pub gateway: IpAddr,
    left: Arc<Mutex<Leftovers>>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Network {
    pub async fn create() -> Result<Self, ContainerError> {
        let d = engine()?;
        match tokio::time::timeout(Duration::from_secs(10), d.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(ContainerError::NoEngine(format!(
                    "{}: {e}",
                    engine_address()
                )));
            }
            Err(_) => {
                return Err(ContainerError::NoEngine(format!(
                    "{}: no answer in 10 s",
                    engine_address()
                )));
            }
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("direct-conformance-{}-{nanos:x}", std::process::id());
        let left = Arc::new(Mutex::new(Leftovers::default()));
        // The watcher is in place before anything exists, so that Ctrl-C at any moment
        // removes what was made so far.
        let watcher = tokio::spawn(watch_signals(left.clone()));
        let mut net = Network {
            name: name.clone(),
            gateway: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            left,
            watcher,
        };
        let req = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([(
                "org.direct-conformance.run".to_string(),
                std::process::id().to_string(),
            )])),
            ..Default::default()
        };
        within("creating the network", async {
            d.create_network(req)
                .await
                .map_err(docker("creating the network"))
        })
        .await?;
        net.lock().network = Some(name.clone());
        let info = within("inspecting the network", async {
            d.inspect_network(&name, None)
                .await
                .map_err(docker("inspecting the network"))
        })
        .await?;
        net.gateway = info
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.gateway.as_deref())
            .find_map(|g| g.parse::<IpAddr>().ok().filter(IpAddr::is_ipv4))
            .ok_or_else(|| {
                ContainerError::Docker(format!("the network {name} has no IPv4 gateway"))
            })?;
        Ok(net)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Leftovers> {
        self.left.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.watcher.abort();
        let left = std::mem::take(&mut *self.lock());
        remove_blocking(left);
    }
}

/// Ctrl-C or SIGTERM during a container run: remove what exists, then end as interrupted.
async fn watch_signals(left: Arc<Mutex<Leftovers>>) {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        r = tokio::signal::ctrl_c() => {
            if r.is_err() {
                // No handler could be installed: nothing to watch for.
                return;
            }
        }
        _ = term => {}
    }
    super::set_interrupted();
    eprintln!("direct-conformance run: interrupted; removing the SUT container and its network");
    // The lock is held until everything is removed: the run's own clean-up (which may race
    // this one when the container's death ends the run first) waits for it.
    let _ = tokio::task::spawn_blocking(move || {
        let mut guard = left.lock().unwrap_or_else(|e| e.into_inner());
        remove_blocking(std::mem::take(&mut *guard));
        drop(guard);
    })
    .await;
    std::process::exit(130);
}

/// The SUT container, on its network, with its doors mapped to host ports.
pub struct SutContainer {
    // Field order is drop order: the container goes before its network.
    container: Option<ContainerAsync<GenericImage>>,
    network: Network,
    pub mapped: Mapped,
}

fn split_image(image: &str) -> (String, String) {
    // `registry:5000/name` has a colon that is not a tag.
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

/// A host port free for both UDP and TCP at the moment of asking (released at once; Docker
/// binds it a moment later).
fn free_udp_tcp_port() -> Result<u16, ContainerError> {
    for _ in 0..20 {
        let tcp = std::net::TcpListener::bind(("0.0.0.0", 0))
            .map_err(|e| ContainerError::Docker(format!("finding a free port: {e}")))?;
        let port = tcp
            .local_addr()
            .map_err(|e| ContainerError::Docker(format!("finding a free port: {e}")))?
            .port();
        if std::net::UdpSocket::bind(("0.0.0.0", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(ContainerError::Docker(
        "no host port free for both UDP and TCP".into(),
    ))
}

impl SutContainer {
    pub async fn start(network: Network, spec: Spec) -> Result<Self, ContainerError> {
        let d = engine()?;
        within("looking up the image", async {
            match d.inspect_image(&spec.image).await {
                Ok(_) => Ok(()),
                Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
                    status_code: 404,
                    ..
                }) => Err(ContainerError::NoImage(spec.image.clone())),
                Err(e) => Err(docker("looking up the image")(e)),
            }
        })
        .await?;
        let (name, tag) = split_image(&spec.image);
        let image = GenericImage::new(name, tag).with_wait_for(WaitFor::Nothing);
        let ports = spec.ports;
        // Every door goes to a host port chosen free beforehand: testcontainers publishes
        // only the explicitly mapped ports once any is mapped, and the DNS door needs UDP and
        // TCP on one host port (the hosting checks ask one address both ways).
        let mut host = std::collections::BTreeMap::new();
        for p in [
            Some(ports.backbone),
            ports.submission,
            ports.pop3,
            ports.imap,
            ports.ldap,
            ports.dns,
        ]
        .into_iter()
        .flatten()
        {
            host.insert(p, free_udp_tcp_port()?);
        }
        let mut request = image
            .with_network(network.name.clone())
            .with_label("org.direct-conformance.run", std::process::id().to_string())
            .with_mount(Mount::bind_mount(
                spec.mount.0.display().to_string(),
                spec.mount.1.clone(),
            ))
            .with_startup_timeout(Duration::from_secs(spec.ready_secs.max(10)));
        for (&p, &h) in &host {
            request = request.with_mapped_port(h, p.tcp());
            if Some(p) == ports.dns {
                request = request.with_mapped_port(h, p.udp());
            }
        }
        for (k, v) in &spec.env {
            request = request.with_env_var(k.clone(), v.clone());
        }
        let container = request
            .start()
            .await
            .map_err(|e| ContainerError::Docker(format!("starting {}: {e}", spec.image)))?;
        network.lock().container = Some(container.id().to_string());
        let mut sut = SutContainer {
            container: Some(container),
            network,
            mapped: Mapped {
                backbone: SocketAddr::from(([127, 0, 0, 1], 0)),
                submission: None,
                pop3: None,
                imap: None,
                dns: None,
                ldap: None,
            },
        };
        let at = |p: Option<u16>| {
            p.and_then(|p| host.get(&p))
                .map(|h| SocketAddr::from(([127, 0, 0, 1], *h)))
        };
        let backbone = at(Some(ports.backbone))
            .ok_or_else(|| ContainerError::Docker("the backbone port is not mapped".into()))?;
        let (submission, pop3, imap) = (at(ports.submission), at(ports.pop3), at(ports.imap));
        sut.mapped = Mapped {
            backbone,
            submission,
            pop3,
            imap,
            dns: at(ports.dns),
            ldap: at(ports.ldap),
        };
        let deadline = Instant::now() + Duration::from_secs(spec.ready_secs);
        let doors = [
            ("backbone", Some((ports.backbone, backbone)), "220"),
            ("submission door", ports.submission.zip(submission), "220"),
            ("POP3 door", ports.pop3.zip(pop3), "+OK"),
            ("IMAP door", ports.imap.zip(imap), "* OK"),
        ];
        for (door, addr, greeting) in doors {
            let Some((port, addr)) = addr else { continue };
            if let Err(why) = sut.greets(addr, greeting, deadline).await {
                let log = sut.log().await;
                let tail: String = {
                    let lines: Vec<&str> = log.lines().collect();
                    lines[lines.len().saturating_sub(20)..].join("\n")
                };
                return Err(ContainerError::NotReady {
                    door,
                    port,
                    secs: spec.ready_secs,
                    why: format!("{why}; the container's log ends:\n{tail}"),
                });
            }
        }
        Ok(sut)
    }

    /// A mapped port accepts connections as soon as Docker maps it; the door is ready when
    /// the server behind it greets.
    async fn greets(
        &self,
        addr: SocketAddr,
        greeting: &str,
        deadline: Instant,
    ) -> Result<(), String> {
        let mut last = String::from("no attempt");
        while Instant::now() < deadline {
            if let Some(c) = &self.container
                && !c.is_running().await.unwrap_or(true)
            {
                return Err(format!(
                    "the container stopped (exit code {:?})",
                    c.exit_code().await.ok().flatten()
                ));
            }
            let attempt = async {
                let s = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut line = String::new();
                tokio::io::BufReader::new(s)
                    .read_line(&mut line)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(line)
            };
            match tokio::time::timeout(Duration::from_secs(2), attempt).await {
                Ok(Ok(line)) if line.starts_with(greeting) => return Ok(()),
                Ok(Ok(line)) if line.is_empty() => last = "the connection closed".into(),
                Ok(Ok(line)) => last = format!("it greeted {:?}", line.trim_end()),
                Ok(Err(e)) => last = e,
                Err(_) => last = "no greeting in 2 s".into(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(last)
    }

    /// stdout, then stderr, of the container so far (the tail, when long).
    pub async fn log(&self) -> String {
        let Some(c) = &self.container else {
            return String::new();
        };
        let read = async {
            let out = c.stdout_to_vec().await.unwrap_or_default();
            let err = c.stderr_to_vec().await.unwrap_or_default();
            (out, err)
        };
        let (out, err) = tokio::time::timeout(ENGINE_DEADLINE, read)
            .await
            .unwrap_or_default();
        let mut text = String::from_utf8_lossy(&out).into_owned();
        if !err.is_empty() {
            text.push_str("--- stderr ---\n");
            text.push_str(&String::from_utf8_lossy(&err));
        }
        if text.len() > LOG_LIMIT {
            let mut cut = text.len() - LOG_LIMIT;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            text = format!("(first {cut} bytes left out)\n{}", &text[cut..]);
        }
        text
    }

    /// The container's log; then the container and the network are removed.
    pub async fn finish(mut self) -> String {
        let log = self.log().await;
        if let Some(c) = self.container.take() {
            let _ = tokio::time::timeout(ENGINE_DEADLINE, c.rm()).await;
        }
        let left = std::mem::take(&mut *self.network.lock());
        if let Ok(d) = engine() {
            let _ = tokio::time::timeout(ENGINE_DEADLINE, remove(&d, &left)).await;
        }
        log
    }
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn image_names_split_at_the_tag() {
        assert_eq!(
            split_image("direct-conformance-sut:local"),
            ("direct-conformance-sut".into(), "local".into())
        );
        assert_eq!(
            split_image("vendor/hisp"),
            ("vendor/hisp".into(), "latest".into())
        );
        assert_eq!(
            split_image("registry:5000/hisp"),
            ("registry:5000/hisp".into(), "latest".into())
        );
    }
}
