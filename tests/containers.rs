//! Container tests: `run --sut-image` against the example SUT images on the Docker engine.
//! A separate target (`cargo test --features containers --test containers`) that needs a
//! reachable Docker engine and the images of `scripts/build-images`; without either, every
//! test fails with a message that says so (never a skip). `.ci/run` builds the images first.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");
const CLEAN: &str = "direct-conformance-sut:local";
const FAULTED: &str = "direct-conformance-sut:faulted";
/// RX-21 and RX-32 need the SUT's HTTP client (CRL, AIA) to work inside the image, and D1 its
/// discovery through the harness DNS.
const SUBSET: &str = "@RX-01 or @SMTP22 or @RX-21 or @RX-32 or @D1 or @H1 or @IMAP7";

/// One container run at a time: the SUT's windows are the embedded SUT's, sized for a
/// 2-core machine running one suite.
static SERIAL: Mutex<()> = Mutex::new(());

fn docker(args: &[&str]) -> Result<Output, String> {
    Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("the docker command could not run: {e}"))
}

/// A reachable engine and the example images, or a panic that says what is missing.
fn need_engine_and_images() {
    match docker(&["version", "--format", "{{.Server.Version}}"]) {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "no Docker engine is reachable (docker version: {}): these container tests need one; start Docker, then run scripts/build-images",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("no Docker engine is reachable ({e}): these container tests need one"),
    }
    for image in [CLEAN, FAULTED] {
        let ok = docker(&["image", "inspect", image]).is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "the image {image} is missing: build the images with scripts/build-images"
        );
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    results: serde_json::Value,
    pid: u32,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let child = Command::new(BIN)
        .arg("run")
        .arg("--report-dir")
        .arg(dir)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let results = std::fs::read_to_string(dir.join("results.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        results,
        pid,
    }
}

/// Containers and networks that the run with this process id left behind.
fn leftovers(pid: u32) -> String {
    let filter = format!("label=org.direct-conformance.run={pid}");
    let mut left = String::new();
    for what in [
        vec!["ps", "-a", "-q", "--filter", &filter],
        vec!["network", "ls", "-q", "--filter", &filter],
    ] {
        let o = docker(&what).unwrap();
        left.push_str(String::from_utf8_lossy(&o.stdout).trim());
    }
    left
}

fn failed_cases(r: &Run) -> Vec<String> {
    r.results["scenarios"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| s["verdict"] == "failed" || s["verdict"] == "errored")
                .map(|s| s["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_example_sut_image_passes_and_is_removed() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    need_engine_and_images();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let r = run(dir.path(), &["--sut-image", CLEAN, "--tags", SUBSET]);
    eprintln!("clean image run: {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let passed = r.results["totals"]["passed"].as_u64().unwrap_or(0);
    assert!(
        passed >= 8,
        "RX-01 (two scenarios), SMTP22, RX-21, RX-32, D1, H1 (the image's own DNS server) and IMAP7 (its IMAP door) ran: {}",
        r.stdout
    );
    assert_eq!(r.results["totals"]["failed"], 0);
    // The SUT's log is in the report, and it is the container's (it bound 0.0.0.0:25).
    let log = r.results["sut_log"].as_str().unwrap_or("");
    assert!(
        log.contains("reference HISP sut.direct.test: backbone 0.0.0.0:25"),
        "{log}"
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(
        html.contains("The SUT container"),
        "the HTML report shows the log"
    );
    assert!(r.results["sut"].as_str().unwrap_or("").contains(CLEAN));
    assert_eq!(
        leftovers(r.pid),
        "",
        "the run removed its container and network"
    );
}

#[test]
fn the_faulted_image_fails() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    need_engine_and_images();
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["--sut-image", FAULTED, "--tags", SUBSET]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    let failed = failed_cases(&r);
    assert!(
        failed.iter().any(|n| n.starts_with("RX-01")),
        "no processed MDN fails RX-01: {failed:?}"
    );
    assert!(
        !failed.iter().any(|n| n.starts_with("SMTP22")),
        "{failed:?}"
    );
    assert_eq!(leftovers(r.pid), "");
}

#[test]
fn a_fault_reaches_the_container_through_its_environment() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    need_engine_and_images();
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        dir.path(),
        &[
            "--sut-image",
            CLEAN,
            "--fault",
            "accept-bad-auth",
            "--tags",
            "@SMTP22",
        ],
    );
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(failed_cases(&r).iter().any(|n| n.starts_with("SMTP22")));
    assert_eq!(r.results["fault"], "accept-bad-auth");
}

#[test]
fn ctrl_c_removes_the_container_and_its_network() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    need_engine_and_images();
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(BIN)
        .args([
            "run",
            "--sut-image",
            CLEAN,
            "--tags",
            SUBSET,
            "--report-dir",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait for the container to exist, then interrupt.
    let deadline = Instant::now() + Duration::from_secs(60);
    let filter = format!("label=org.direct-conformance.run={pid}");
    loop {
        let o = docker(&["ps", "-q", "--filter", &filter]).unwrap();
        if !String::from_utf8_lossy(&o.stdout).trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the SUT container never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    let kill = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        leftovers(pid),
        "",
        "Ctrl-C removed the container and network"
    );
}

#[test]
fn a_missing_image_or_engine_is_said_plainly() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    need_engine_and_images();
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        dir.path(),
        &["--sut-image", "direct-conformance-sut:no-such-tag"],
    );
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("scripts/build-images"), "{}", r.stderr);
    assert_eq!(
        leftovers(r.pid),
        "",
        "the network is removed on failure too"
    );

    let out = Command::new(BIN)
        .args(["run", "--sut-image", CLEAN, "--report-dir"])
        .arg(dir.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no Docker engine is reachable"), "{stderr}");
}
