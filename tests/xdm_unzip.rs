//! The XDM packages of SMTP25–29 as an independent reader (Info-ZIP `unzip`/`zipinfo`) sees
//! them: both forms open and test clean, the Deflate form with explicit directory entries,
//! the Stored form without, each with the IHE XDM layout.

use std::process::Command;

use direct_conformance::sut::content::{XdmOptions, xdm};

fn zipinfo(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xdm.zip");
    std::fs::write(&path, bytes).unwrap();
    let test = Command::new("unzip")
        .arg("-tq")
        .arg(&path)
        .output()
        .expect("run unzip (is it installed?)");
    assert!(
        test.status.success(),
        "unzip -t: {}",
        String::from_utf8_lossy(&test.stdout)
    );
    let info = Command::new("zipinfo")
        .arg(&path)
        .output()
        .expect("run zipinfo");
    String::from_utf8_lossy(&info.stdout).to_string()
}

#[test]
fn both_xdm_forms_open_in_info_zip() {
    let deflated = zipinfo(&xdm(XdmOptions::default()).unwrap());
    for name in [
        "INDEX.HTM",
        "README.TXT",
        "IHE_XDM/SUBSET01/METADATA.XML",
        "IHE_XDM/SUBSET01/DOC0001.XML",
    ] {
        assert!(deflated.contains(name), "{name} missing:\n{deflated}");
    }
    assert!(deflated.contains("defN"), "not deflated:\n{deflated}");
    let directory = |l: &str| l.trim_end().ends_with('/');
    assert!(
        deflated
            .lines()
            .any(|l| l.trim_end().ends_with("IHE_XDM/SUBSET01/")),
        "no directory entries:\n{deflated}"
    );

    let stored = zipinfo(
        &xdm(XdmOptions {
            deflate_with_directories: false,
            ..XdmOptions::default()
        })
        .unwrap(),
    );
    assert!(stored.contains("IHE_XDM/SUBSET01/METADATA.XML"), "{stored}");
    assert!(
        !stored.lines().any(directory),
        "a directory entry:\n{stored}"
    );
    assert!(
        stored.contains("stor") && !stored.contains("defN"),
        "{stored}"
    );
}
