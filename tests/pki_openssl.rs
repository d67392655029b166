//! The committed test PKI (`reference-certs/`) judged by independent tools: OpenSSL for path
//! validation, CRLs and PKCS#12, Java keytool for PKCS#12; and the `certs` command for
//! reproducibility. A missing `openssl` or `keytool` fails these tests: it does not skip them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use direct_conformance::pki::{Manifest, PKCS12_PASSWORD, ReferencePki};

fn certs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reference-certs")
}

fn run(tool: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("`{tool}` must be installed for the PKI tests: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn cert(name: &str) -> String {
    format!("{name}/cert.pem")
}

const ROOT: &str = "direct.test_ca_root";
const INTER1: &str = "direct.test_ca_intermediate1";
const INTER2: &str = "direct.test_ca_intermediate2";

/// `openssl verify` of a leaf against the root, with intermediates as untrusted helpers.
fn verify(leaf: &str, extra: &[&str]) -> Output {
    let dir = certs_dir();
    let root = cert(ROOT);
    let i1 = cert(INTER1);
    let i2 = cert(INTER2);
    let inter = tempfile::NamedTempFile::new().expect("temp");
    let both = [
        std::fs::read(dir.join(&i1)).expect("inter1"),
        std::fs::read(dir.join(&i2)).expect("inter2"),
    ]
    .concat();
    std::fs::write(inter.path(), both).expect("write");
    let inter_path = inter.path().to_string_lossy().to_string();
    let leaf = cert(leaf);
    let mut args = vec![
        "verify",
        "-CAfile",
        root.as_str(),
        "-untrusted",
        &inter_path,
    ];
    args.extend_from_slice(extra);
    args.push(&leaf);
    run("openssl", &args, &dir)
}

/// All committed CRLs as one PEM file (OpenSSL's -CRLfile wants PEM).
fn crl_bundle(cas: &[&str]) -> tempfile::NamedTempFile {
    let dir = certs_dir();
    let file = tempfile::NamedTempFile::new().expect("temp");
    let mut pem = String::new();
    for ca in cas {
        let out = run(
            "openssl",
            &["crl", "-inform", "DER", "-in", &format!("{ca}.crl")],
            &dir,
        );
        assert!(out.status.success(), "openssl crl {ca}: {}", text(&out));
        pem.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    std::fs::write(file.path(), pem).expect("write");
    file
}

#[test]
fn valid_leaves_chain_to_the_root() {
    for leaf in [
        "D1_valA",
        "D2_valB",
        "D14_valA",
        "D18_valA",
        "D22_valA",
        "D30_valA",
        "D33_valA",
        "hisp_sender",
        "hisp_domain",
        "sender_p256",
        "sender_p384",
        "sender_rsa4096",
        "sut_domain",
        "tls_hisp",
        INTER1,
    ] {
        let out = verify(leaf, &[]);
        assert!(out.status.success(), "{leaf}: {}", text(&out));
    }
}

#[test]
fn expired_not_yet_valid_and_untrusted_leaves_fail() {
    for (leaf, why) in [
        ("D1_invB", "expired"),
        ("D5_invA", "expired"),
        ("sender_expired", "expired"),
        ("D19_invA", "not yet valid"),
        ("sender_not_yet_valid", "not yet valid"),
        ("D21_invA", "unable to get local issuer"),
        ("sender_untrusted", "unable to get local issuer"),
        ("sender_bundle", "unable to get local issuer"),
    ] {
        let out = verify(leaf, &[]);
        assert!(!out.status.success(), "{leaf} verified but must not");
        assert!(text(&out).contains(why), "{leaf}: {}", text(&out));
    }
}

#[test]
fn revoked_leaves_are_revoked_and_the_intermediate_crl_is_found() {
    let crls = crl_bundle(&[ROOT, INTER1, INTER2]);
    let crl_path = crls.path().to_string_lossy().to_string();
    for leaf in ["D17_invB", "D17_invC", "D34_invA", "sender_revoked"] {
        let out = verify(leaf, &["-crl_check", "-CRLfile", &crl_path]);
        assert!(!out.status.success(), "{leaf} verified but is revoked");
        assert!(
            text(&out).contains("certificate revoked"),
            "{leaf}: {}",
            text(&out)
        );
    }
    for leaf in ["D17_valA", "D17_invD", "D1_valA"] {
        let out = verify(leaf, &["-crl_check", "-CRLfile", &crl_path]);
        assert!(out.status.success(), "{leaf}: {}", text(&out));
    }
    // -crl_check_all needs the intermediates' CRLs to be matched to them by AKI: this fails
    // with x509-cert's unpatched CrlBuilder (it copies the intermediate's own AKI).
    for leaf in ["D18_valA", "D33_valA", "sender_inter1"] {
        let out = verify(leaf, &["-crl_check_all", "-CRLfile", &crl_path]);
        assert!(out.status.success(), "{leaf}: {}", text(&out));
    }
    // Without the intermediate's CRL the same check must fail, or the test proves nothing.
    let root_only = crl_bundle(&[ROOT]);
    let root_only_path = root_only.path().to_string_lossy().to_string();
    let out = verify("D18_valA", &["-crl_check_all", "-CRLfile", &root_only_path]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unable to get certificate CRL"),
        "{}",
        text(&out)
    );
}

#[test]
fn pkcs12_bundles_open_without_legacy_in_openssl() {
    let dir = certs_dir();
    let pass = format!("pass:{PKCS12_PASSWORD}");
    for name in ["D1_valA", "sender_p256", "D18_valA", ROOT] {
        let p12 = format!("{name}/bundle.p12");
        let out = run(
            "openssl",
            &["pkcs12", "-info", "-noout", "-in", &p12, "-passin", &pass],
            &dir,
        );
        assert!(out.status.success(), "{name}: {}", text(&out));
        let t = text(&out);
        assert!(t.contains("MAC: sha256"), "{name}: {t}");
        assert!(t.contains("AES-256-CBC"), "{name}: {t}");
        // The key inside is the committed key.
        let out = run(
            "openssl",
            &[
                "pkcs12", "-in", &p12, "-passin", &pass, "-nocerts", "-nodes",
            ],
            &dir,
        );
        assert!(out.status.success(), "{name}: {}", text(&out));
        let from_p12 = run_pipe_pkey(&out.stdout, &dir);
        let committed = run(
            "openssl",
            &["pkey", "-in", &format!("{name}/key.pem"), "-pubout"],
            &dir,
        );
        assert_eq!(from_p12, committed.stdout, "{name}: key in bundle differs");
    }
    let out = run(
        "openssl",
        &[
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            "D1_valA/bundle.p12",
            "-passin",
            "pass:wrong",
        ],
        &dir,
    );
    assert!(!out.status.success(), "a wrong password must fail the MAC");
}

fn run_pipe_pkey(pem: &[u8], dir: &Path) -> Vec<u8> {
    let key = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(key.path(), pem).expect("write");
    let out = run(
        "openssl",
        &["pkey", "-in", &key.path().to_string_lossy(), "-pubout"],
        dir,
    );
    assert!(out.status.success(), "{}", text(&out));
    out.stdout
}

#[test]
fn pkcs12_bundles_open_in_java_keytool() {
    let dir = certs_dir();
    for name in ["D1_valA", "sender_p256", "D18_valA"] {
        let out = run(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                &format!("{name}/bundle.p12"),
                "-storepass",
                PKCS12_PASSWORD,
            ],
            &dir,
        );
        assert!(out.status.success(), "{name}: {}", text(&out));
        assert!(
            text(&out).contains("PrivateKeyEntry"),
            "{name}: {}",
            text(&out)
        );
    }
}

#[test]
fn p7c_and_cer_files_parse() {
    let dir = certs_dir();
    let out = run(
        "openssl",
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            &format!("{INTER2}.p7c"),
            "-print_certs",
            "-noout",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(INTER2), "{}", text(&out));
    for ca in [
        ROOT,
        INTER1,
        INTER2,
        "direct.test_ca_untrusted",
        "direct.test_ca_bundle",
    ] {
        let out = run(
            "openssl",
            &[
                "x509",
                "-inform",
                "DER",
                "-in",
                &format!("{ca}.cer"),
                "-noout",
            ],
            &dir,
        );
        assert!(out.status.success(), "{ca}: {}", text(&out));
    }
}

#[test]
fn profiles_carry_what_the_catalogue_asks() {
    let dir = certs_dir();
    let ext = |name: &str, which: &str| {
        let out = run(
            "openssl",
            &["x509", "-in", &cert(name), "-noout", "-ext", which],
            &dir,
        );
        assert!(out.status.success(), "{name}: {}", text(&out));
        text(&out)
    };
    let san = ext("D30_valA", "subjectAltName");
    assert!(
        san.contains("email:d30@domain22.direct.test") && san.contains("DNS:domain22.direct.test")
    );
    let ku = ext("D22_invS", "keyUsage");
    assert!(
        ku.contains("critical")
            && ku.contains("Digital Signature")
            && !ku.contains("Key Encipherment")
    );
    let ku = ext("D22_valA", "keyUsage");
    assert!(ku.contains("Key Encipherment") && !ku.contains("Digital Signature"));
    assert!(ext("D33_valA", "authorityInfoAccess").contains("direct.test_ca_intermediate2.p7c"));
    assert!(ext("D20_invA", "subjectAltName").contains("nobody@domain12.direct.test"));
    let out = run(
        "openssl",
        &[
            "x509",
            "-in",
            &cert("sender_sha1_signed"),
            "-noout",
            "-text",
        ],
        &dir,
    );
    assert!(text(&out).contains("sha1WithRSAEncryption"));
    let out = run(
        "openssl",
        &["x509", "-in", &cert("sender_rsa1024"), "-noout", "-text"],
        &dir,
    );
    assert!(text(&out).contains("(1024 bit)"));
}

#[test]
fn malformed_validity_variants_are_refused_by_openssl() {
    let dir = certs_dir();
    let pki = ReferencePki::load_default().expect("load");
    for name in ["sender_no_not_before", "sender_no_not_after"] {
        let file = format!("{name}/malformed.der");
        let out = run(
            "openssl",
            &["x509", "-inform", "DER", "-in", &file, "-noout"],
            &dir,
        );
        assert!(
            !out.status.success(),
            "{name}: OpenSSL parsed a malformed certificate"
        );
        let out = run(
            "openssl",
            &["asn1parse", "-inform", "DER", "-in", &file],
            &dir,
        );
        assert!(out.status.success(), "{name}: not DER: {}", text(&out));
        // One time in the certificate instead of two (the CRL-free TBS has no other times).
        assert_eq!(text(&out).matches("UTCTIME").count(), 1, "{name}");
        let cred = pki.credential(name).expect("credential");
        assert!(cred.malformed_der.is_some(), "{name}");
        // The well-formed twin verifies.
        let out = verify(name, &[]);
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
}

#[test]
fn manifest_names_every_file() {
    let dir = certs_dir();
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .expect("manifest parses");
    let listed: BTreeSet<String> = manifest.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(listed, files_under(&dir));
    for c in &manifest.credentials {
        assert!(!c.purpose.is_empty() && !c.subject.is_empty(), "{}", c.name);
        let expected = if c.name.starts_with("sender_no_not_") {
            6
        } else {
            4
        };
        assert_eq!(c.files.len(), expected, "{}", c.name);
    }
}

#[test]
fn certs_command_regenerates_the_committed_set_byte_for_byte() {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_direct-conformance"))
        .args(["certs", "--out"])
        .arg(out_dir.path())
        .env_remove("DIRECT_CONFORMANCE_PKI_SPEC")
        .output()
        .expect("run certs");
    assert!(out.status.success(), "{}", text(&out));
    let committed = certs_dir();
    let a = files_under(&committed);
    let b = files_under(out_dir.path());
    assert_eq!(a, b, "file lists differ");
    for f in &a {
        let x = std::fs::read(committed.join(f)).expect("committed file");
        let y = std::fs::read(out_dir.path().join(f)).expect("generated file");
        assert!(
            x == y,
            "{f} differs from the committed file: regenerate with `direct-conformance certs`"
        );
    }
}

#[test]
fn certs_command_refuses_a_bad_epoch_with_exit_2() {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_direct-conformance"))
        .args(["certs", "--epoch", "yesterday", "--out"])
        .arg(out_dir.path())
        .output()
        .expect("run certs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn default_set_loads_with_matching_keys() {
    let pki = ReferencePki::load_default().expect("load reference-certs");
    assert_eq!(pki.anchor().map(|c| c.name.as_str()), Some(ROOT));
    let chain: Vec<&str> = pki
        .chain("D18_valA")
        .expect("chain")
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(chain, ["D18_valA", INTER1, ROOT]);
    assert!(pki.crl_der(ROOT).is_some());
    assert!(pki.credentials().count() > 80);
}

/// CAs with ECDSA keys (the committed set has only RSA CAs): signatures, CRLs and PKCS#12 made
/// by the same code must satisfy OpenSSL too.
#[test]
fn ecdsa_issuers_produce_valid_chains_and_crls() {
    const SPEC: &str = r#"
epoch = "2026-01-01T00:00:00Z"
base_url = "http://pki.example.test"
anchor = "root"
crl_next_update_days = 3653
pkcs12_iterations = 64
[validity.valid]
not_before_days = 0
not_after_days = 3653
[[credential]]
name = "root"
issuer = "self"
ca = true
key = "p384"
signature = "sha384"
purpose = "root"
[[credential]]
name = "inter"
issuer = "root"
ca = true
key = "p256"
signature = "sha384"
purpose = "intermediate, signed by the P-384 root"
[[credential]]
name = "leaf"
issuer = "inter"
key = "p256"
address = "a@example.test"
purpose = "leaf"
[[credential]]
name = "gone"
issuer = "inter"
key = "p256"
address = "b@example.test"
revoked = { reason = "superseded", days = -1 }
purpose = "revoked leaf"
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    direct_conformance::pki::generate(SPEC, None, dir.path()).expect("generate");
    let d = dir.path();
    let mut pem = String::new();
    for ca in ["root", "inter"] {
        let out = run(
            "openssl",
            &["crl", "-inform", "DER", "-in", &format!("{ca}.crl")],
            d,
        );
        assert!(out.status.success(), "{}", text(&out));
        pem.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    std::fs::write(d.join("crls.pem"), pem).expect("write");
    let check = |leaf: &str| {
        run(
            "openssl",
            &[
                "verify",
                "-CAfile",
                "root/cert.pem",
                "-untrusted",
                "inter/cert.pem",
                "-crl_check_all",
                "-CRLfile",
                "crls.pem",
                &format!("{leaf}/cert.pem"),
            ],
            d,
        )
    };
    let out = check("leaf");
    assert!(out.status.success(), "{}", text(&out));
    let out = check("gone");
    assert!(text(&out).contains("certificate revoked"), "{}", text(&out));
    let pass = format!("pass:{PKCS12_PASSWORD}");
    let out = run(
        "openssl",
        &[
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            "leaf/bundle.p12",
            "-passin",
            &pass,
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out));
}

fn files_under(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}
