//! `direct-conformance hisp --config FILE`: a bad file is refused naming the field (exit 2);
//! a good one runs, prints its bound addresses and answers SMTP and POP3.

mod hisp_common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use hisp_common::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_direct-conformance"))
}

#[test]
fn bad_config_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hisp.toml");
    let text =
        sut_toml(dir.path(), &[], &[]).replace("pki:sut_recipient", "pki:no_such_credential");
    std::fs::write(&path, text).unwrap();
    let out = bin()
        .args(["hisp", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("address[0].signing") && err.contains("no_such_credential"),
        "{err}"
    );

    std::fs::write(&path, "hostname = \"x\"\nmaildir = \"m\"\nlisten = 3\n").unwrap();
    let out = bin()
        .args(["hisp", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("listen"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hisp_command_serves_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hisp.toml");
    std::fs::write(&path, sut_toml(dir.path(), &[], &[])).unwrap();
    let mut child = bin()
        .args(["hisp", "--config"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut l = String::new();
        let _ = BufReader::new(stdout).read_line(&mut l);
        l
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .expect("banner in time")
        .unwrap();
    let addr = |door: &str| -> std::net::SocketAddr {
        let rest = line.split(&format!("{door} ")).nth(1).expect(door);
        rest.split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .unwrap()
            .parse()
            .expect("address")
    };
    let r = smtp_script(addr("backbone"), &[b"EHLO c\r\n", b"QUIT\r\n"]).await;
    assert!(r[0].starts_with("220 sut.direct.test"), "{r:?}");
    assert!(r[1].contains("STARTTLS"), "{r:?}");
    let msgs = pop3_fetch(addr("pop3"), "recipient@sut.direct.test", "secret", false).await;
    assert!(msgs.is_empty());
    child.kill().unwrap();
    let _ = child.wait();
}
