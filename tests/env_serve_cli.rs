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

#[test]
fn serve_answers_and_stops_on_ctrl_c() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--quiet",
            "--dns",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--ldap-base-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut dns_port = None;
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("read");
        if let Some(rest) = line.strip_prefix("DNS ") {
            dns_port = rest
                .split_whitespace()
                .next()
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse::<u16>().ok());
        }
        let done = line.starts_with("serving");
        banner.push(line);
        if done {
            break;
        }
    }
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
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let dig = dig.expect("dig is installed (scripts/setup)");
    assert_eq!(
        String::from_utf8_lossy(&dig.stdout).trim(),
        "10 domain1.direct.test."
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            assert!(exit.success(), "exit {exit:?}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop within 15 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let rest: Vec<_> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "stopping"), "{rest:?}");
}
