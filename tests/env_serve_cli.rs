//! `direct-conformance serve` as users run it: the case listing, a world on free ports that
//! answers `dig`, and a clean stop on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

#[test]
fn list_prints_every_case_with_address_and_expectation() {
    let out = Command::new(BIN)
        .args(["serve", "--list"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 42, "D1–D34 and H1–H8:\n{text}");
    let d1: Vec<_> = lines[0].split_whitespace().collect();
    assert_eq!(&d1[..3], ["D1", "d1@domain1.direct.test", "D1_valA"]);
    let d5 = lines.iter().find(|l| l.starts_with("D5 ")).expect("D5");
    assert!(d5.contains("(none)"), "{d5}");
}

/// Starts `serve` on free ports with `extra` flags and reads its banner up to the `serving`
/// line; the rest of stdout stays readable.
fn start_serve(
    extra: &[&std::ffi::OsStr],
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
    Vec<String>,
) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--quiet",
            "--dns",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
        ])
        .args(["--ldap-base-port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("read");
        let done = line.starts_with("serving");
        banner.push(line);
        if done {
            break;
        }
    }
    (child, lines, banner)
}

/// SIGINT, then the exit status within 15 s (killed and failed past that).
fn interrupt_and_wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            return exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop within 15 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_answers_and_stops_on_ctrl_c() {
    let (mut child, lines, banner) = start_serve(&[]);
    let dns_port = banner.iter().find_map(|line| {
        line.strip_prefix("DNS ")?
            .split_whitespace()
            .next()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse::<u16>().ok())
    });
    let port = dns_port.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("no DNS line in {banner:?}")
    });
    assert!(banner.iter().any(|l| l.contains("tarpit")), "{banner:?}");
    let dig = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+short",
            "+time=3",
            "+tries=1",
        ])
        .args(["MX", "domain1.direct.test"])
        .output();
    let exit = interrupt_and_wait(&mut child);
    let dig = dig.expect("dig is installed (scripts/setup)");
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        "10 domain1.direct.test."
    );
    assert!(exit.success(), "exit {exit:?}");
    let rest: Vec<_> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "stopping"), "{rest:?}");
}

#[test]
fn serve_with_hisp_starts_the_reference_hisp_beside_the_world() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("hisp.toml");
    std::fs::write(
        &config,
        r#"
hostname = "hisp.direct.test"
maildir = "maildir"
[listen]
backbone = "127.0.0.1:0"
[[domain]]
name = "hisp.direct.test"
signing = "pki:hisp_domain"
incoming_anchors = ["pki:direct.test_ca_root"]
[[address]]
address = "good@hisp.direct.test"
signing = "pki:hisp_sender"
"#,
    )
    .expect("write config");
    let (mut child, _lines, banner) = start_serve(&[
        "--https".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--hisp".as_ref(),
        config.as_os_str(),
    ]);
    let backbone = banner.iter().find_map(|line| {
        line.split("backbone ")
            .nth(1)?
            .split(',')
            .next()
            .and_then(|a| a.trim().parse::<std::net::SocketAddr>().ok())
    });
    let Some(addr) = backbone else {
        let _ = child.kill();
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        panic!("no HISP line in {banner:?}; stderr {err}");
    };
    let mut greeting = [0u8; 64];
    let n = std::net::TcpStream::connect(addr).and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let n = s.read(&mut greeting)?;
        s.write_all(b"QUIT\r\n")?;
        Ok(n)
    });
    interrupt_and_wait(&mut child);
    let n = n.expect("backbone answers");
    assert!(
        greeting[..n].starts_with(b"220 hisp.direct.test"),
        "{:?}",
        String::from_utf8_lossy(&greeting[..n])
    );
}
