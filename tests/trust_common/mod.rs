//! Fixtures for the trust tests: a PKI made by the real `openssl` command (`openssl ca`, so
//! that validity windows, revocation and CRLs come from an independent implementation) and a
//! tiny HTTP server on 127.0.0.1 for AIA and CRL fetching. A missing `openssl` fails the test.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::der::DecodePem;

// The openssl runners are the shared ones (a missing openssl fails the test).
pub use crate::common::{openssl, openssl_ok};

// ---------------------------------------------------------------- HTTP server

/// What the test server answers for a path.
#[derive(Clone)]
pub enum Route {
    Ok(Vec<u8>),
    Status(u16),
    /// Accepts the connection and never answers.
    Hang,
}

pub struct Server {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (r, h) = (routes.clone(), hits.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, h) = (r.clone(), h.clone());
                std::thread::spawn(move || serve(stream, &r, &h));
            }
        });
        Server { port, routes, hits }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), route);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

fn serve(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, Route>>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    *hits.lock().expect("hits").entry(path.clone()).or_default() += 1;
    let route = routes
        .lock()
        .expect("routes")
        .get(&path)
        .cloned()
        .unwrap_or(Route::Status(404));
    let (status, body) = match route {
        Route::Ok(b) => (200, b),
        Route::Status(s) => (s, b"error".to_vec()),
        Route::Hang => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
    };
    let reason = if status == 200 { "OK" } else { "Error" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
}

// ---------------------------------------------------------------- PKI

pub struct Issued {
    pub path: PathBuf,
    pub cert: Certificate,
}

pub struct Ca {
    pub name: String,
    pub dir: PathBuf,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub cnf: PathBuf,
    pub cert: Certificate,
}

fn read_cert(path: &Path) -> Certificate {
    Certificate::from_pem(std::fs::read(path).expect("read cert")).expect("parse cert")
}

pub fn read_crl(path: &Path) -> CertificateList {
    CertificateList::from_pem(std::fs::read(path).expect("read crl")).expect("parse crl")
}

/// openssl `ca` date format.
pub fn ca_date(t: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

const RSA2048: &[&str] = &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
const RSA1024: &[&str] = &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"];
const P256: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

fn genkey(dir: &Path, file: &str, args: &[&str]) {
    let mut a = vec!["genpkey", "-out", file];
    a.extend_from_slice(args);
    openssl_ok(&a, dir);
}

fn write_cnf(dir: &Path, ca_dir: &Path, cert: &Path, key: &Path) -> PathBuf {
    std::fs::create_dir_all(ca_dir.join("newcerts")).expect("mkdir");
    std::fs::write(ca_dir.join("index.txt"), "").expect("index");
    std::fs::write(ca_dir.join("serial"), "1000\n").expect("serial");
    std::fs::write(ca_dir.join("crlnumber"), "1000\n").expect("crlnumber");
    let cnf = ca_dir.join("ca.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[ca]\ndefault_ca = CA_default\n[CA_default]\ndir = {d}\ndatabase = {d}/index.txt\n\
             new_certs_dir = {d}/newcerts\ncertificate = {c}\nprivate_key = {k}\nserial = {d}/serial\n\
             crlnumber = {d}/crlnumber\ndefault_md = sha256\ndefault_days = 365\ndefault_crl_days = 1\n\
             policy = policy_any\nunique_subject = no\npreserve = yes\nemail_in_dn = yes\n\
             crl_extensions = crl_ext\n[policy_any]\ncommonName = optional\nemailAddress = optional\n\
             organizationName = optional\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n",
            d = ca_dir.display(),
            c = cert.display(),
            k = key.display()
        ),
    )
    .expect("cnf");
    let _ = dir;
    cnf
}

impl Ca {
    /// A self-signed root.
    pub fn root(dir: &Path, name: &str, extra: &[&str]) -> Ca {
        let key = format!("{name}.key");
        let cert = format!("{name}.pem");
        genkey(dir, &key, RSA2048);
        let subj = format!("/CN={name}");
        let mut args = vec![
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
            "-subj",
            &subj,
            "-days",
            "3650",
            "-sha256",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            "subjectKeyIdentifier=hash",
            "-out",
            &cert,
        ];
        for e in extra {
            args.push("-addext");
            args.push(e);
        }
        openssl_ok(&args, dir);
        let cnf = write_cnf(
            dir,
            &dir.join(format!("{name}.ca")),
            &dir.join(&cert),
            &dir.join(&key),
        );
        Ca {
            name: name.into(),
            dir: dir.to_path_buf(),
            cert: read_cert(&dir.join(&cert)),
            cert_path: dir.join(&cert),
            key_path: dir.join(&key),
            cnf,
        }
    }

    /// Issues a certificate for `subj` with the extension text `ext`.
    pub fn issue(
        &self,
        name: &str,
        subj: &str,
        key_args: &[&str],
        ext: &str,
        opts: &IssueOpts,
    ) -> Issued {
        let d = &self.dir;
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let cert = format!("{name}.pem");
        let extf = format!("{name}.ext");
        genkey(d, &key, key_args);
        openssl_ok(
            &["req", "-new", "-key", &key, "-subj", subj, "-out", &csr],
            d,
        );
        std::fs::write(d.join(&extf), ext).expect("ext");
        let cnf = self.cnf.display().to_string();
        let mut args = vec![
            "ca", "-batch", "-notext", "-config", &cnf, "-in", &csr, "-out", &cert, "-extfile",
            &extf, "-md", opts.md,
        ];
        let (s, e);
        if let Some(start) = opts.start {
            s = ca_date(start);
            args.extend_from_slice(&["-startdate", &s]);
        }
        if let Some(end) = opts.end {
            e = ca_date(end);
            args.extend_from_slice(&["-enddate", &e]);
        }
        openssl_ok(&args, d);
        Issued {
            cert: read_cert(&d.join(&cert)),
            path: d.join(&cert),
        }
    }

    /// Issues a subordinate CA.
    pub fn sub_ca(&self, name: &str, ext: &str) -> Ca {
        let issued = self.issue(
            name,
            &format!("/CN={name}"),
            RSA2048,
            ext,
            &IssueOpts::default(),
        );
        let cnf = write_cnf(
            &self.dir,
            &self.dir.join(format!("{name}.ca")),
            &issued.path,
            &self.dir.join(format!("{name}.key")),
        );
        Ca {
            name: name.into(),
            dir: self.dir.clone(),
            cert: issued.cert,
            cert_path: issued.path,
            key_path: self.dir.join(format!("{name}.key")),
            cnf,
        }
    }

    pub fn revoke(&self, cert: &Path, reason: &str) {
        let cnf = self.cnf.display().to_string();
        let c = cert.display().to_string();
        openssl_ok(
            &["ca", "-config", &cnf, "-revoke", &c, "-crl_reason", reason],
            &self.dir,
        );
    }

    /// Writes this CA's CRL (PEM) and returns its path.
    pub fn crl(&self) -> PathBuf {
        let out = self.dir.join(format!("{}.crl", self.name));
        let cnf = self.cnf.display().to_string();
        let o = out.display().to_string();
        openssl_ok(&["ca", "-config", &cnf, "-gencrl", "-out", &o], &self.dir);
        out
    }

    pub fn der(&self) -> Vec<u8> {
        let p = self.cert_path.display().to_string();
        openssl_ok(&["x509", "-in", &p, "-outform", "DER"], &self.dir).stdout
    }
}

pub struct IssueOpts {
    pub md: &'static str,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

impl Default for IssueOpts {
    fn default() -> Self {
        IssueOpts {
            md: "sha256",
            start: None,
            end: None,
        }
    }
}

pub fn ca_ext(server: &Server, parent: &str, extra: &str) -> String {
    format!(
        "basicConstraints=critical,CA:TRUE{extra}\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid\ncrlDistributionPoints=URI:{}\nauthorityInfoAccess=caIssuers;URI:{}\n",
        server.url(&format!("/{parent}.crl")),
        server.url(&format!("/{parent}.cer"))
    )
}

/// Leaf extensions: address binding, key usage, CRL DP and AIA at the given server paths.
pub fn leaf_ext(server: &Server, email: &str, ku: &str, crl_path: &str, aia_path: &str) -> String {
    format!(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,{ku}\nsubjectAltName=email:{email}\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\ncrlDistributionPoints=URI:{}\n\
         authorityInfoAccess=caIssuers;URI:{}\n",
        server.url(crl_path),
        server.url(aia_path)
    )
}

/// The whole test PKI: one root, intermediates and leaves for every verdict.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub root: Ca,
    pub inter: Ca,
    pub inter2: Ca,
    pub badca: Ca,
    pub plen0: Ca,
    pub sub: Ca,
    pub ncca: Ca,
    pub other_root: Ca,
    /// Named like `inter` but with another key (a stale CA certificate in a SignedData).
    pub stale_inter: Ca,
    pub leaves: HashMap<&'static str, Issued>,
    pub crls: HashMap<&'static str, PathBuf>,
}

impl Pki {
    pub fn leaf(&self, name: &str) -> &Issued {
        self.leaves
            .get(name)
            .unwrap_or_else(|| panic!("no leaf {name}"))
    }
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(build_pki)
}

fn build_pki() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let server = Server::start();
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);

    let root = Ca::root(d, "root", &[]);
    let other_root = Ca::root(d, "other-root", &[]);
    std::fs::create_dir_all(d.join("stale")).expect("mkdir stale");
    let stale_inter = Ca::root(&d.join("stale"), "inter", &[]);
    let inter = root.sub_ca("inter", &ca_ext(&server, "root", ""));
    let inter2 = root.sub_ca("inter2", &ca_ext(&server, "root", ""));
    let badca = root.sub_ca(
        "badca",
        &ca_ext(&server, "root", "").replace(
            "keyUsage=critical,keyCertSign,cRLSign",
            "keyUsage=critical,cRLSign,digitalSignature",
        ),
    );
    let plen0 = root.sub_ca("plen0", &ca_ext(&server, "root", ",pathlen:0"));
    let sub = plen0.sub_ca("sub", &ca_ext(&server, "plen0", ""));
    let ncca = root.sub_ca(
        "ncca",
        &format!(
            "{}nameConstraints=critical,permitted;email:good.test,permitted;DNS:good.test\n",
            ca_ext(&server, "root", "")
        ),
    );

    let both = "digitalSignature,keyEncipherment";
    let std_leaf = |email: &str| leaf_ext(&server, email, both, "/inter.crl", "/inter.cer");
    let mut leaves = HashMap::new();
    let subj = |cn: &str, email: &str| format!("/CN={cn}/emailAddress={email}");
    let def = IssueOpts::default();

    leaves.insert(
        "valid",
        inter.issue(
            "valid",
            &subj("valid", "valid@hisp.direct.test"),
            RSA2048,
            &std_leaf("valid@hisp.direct.test"),
            &def,
        ),
    );
    leaves.insert(
        "expired",
        inter.issue(
            "expired",
            &subj("expired", "expired@hisp.direct.test"),
            RSA2048,
            &std_leaf("expired@hisp.direct.test"),
            &IssueOpts {
                start: Some(now - day * 730),
                end: Some(now - day * 365),
                ..IssueOpts::default()
            },
        ),
    );
    leaves.insert(
        "notyet",
        inter.issue(
            "notyet",
            &subj("notyet", "notyet@hisp.direct.test"),
            RSA2048,
            &std_leaf("notyet@hisp.direct.test"),
            &IssueOpts {
                start: Some(now + day * 365),
                end: Some(now + day * 730),
                ..IssueOpts::default()
            },
        ),
    );
    let revoked = inter.issue(
        "revoked",
        &subj("revoked", "revoked@hisp.direct.test"),
        RSA2048,
        &std_leaf("revoked@hisp.direct.test"),
        &def,
    );
    inter.revoke(&revoked.path, "keyCompromise");
    leaves.insert("revoked", revoked);
    leaves.insert(
        "wrongku",
        inter.issue(
            "wrongku",
            &subj("wrongku", "wrongku@hisp.direct.test"),
            RSA2048,
            &leaf_ext(
                &server,
                "wrongku@hisp.direct.test",
                "keyEncipherment",
                "/inter.crl",
                "/inter.cer",
            ),
            &def,
        ),
    );
    leaves.insert(
        "sha1",
        inter.issue(
            "sha1",
            &subj("sha1", "sha1@hisp.direct.test"),
            RSA2048,
            &std_leaf("sha1@hisp.direct.test"),
            &IssueOpts {
                md: "sha1",
                ..IssueOpts::default()
            },
        ),
    );
    leaves.insert(
        "rsa1024",
        inter.issue(
            "rsa1024",
            &subj("rsa1024", "rsa1024@hisp.direct.test"),
            RSA1024,
            &std_leaf("rsa1024@hisp.direct.test"),
            &def,
        ),
    );
    leaves.insert(
        "p256",
        inter.issue(
            "p256",
            &subj("p256", "p256@hisp.direct.test"),
            P256,
            &format!(
                "{}extendedKeyUsage=emailProtection,clientAuth\n",
                leaf_ext(
                    &server,
                    "p256@hisp.direct.test",
                    "digitalSignature",
                    "/inter.crl",
                    "/inter.cer",
                )
            ),
            &def,
        ),
    );
    leaves.insert(
        "p7c",
        inter2.issue(
            "p7c",
            &subj("p7c", "p7c@hisp.direct.test"),
            RSA2048,
            &leaf_ext(
                &server,
                "p7c@hisp.direct.test",
                both,
                "/inter2.crl",
                "/inter2.p7c",
            ),
            &def,
        ),
    );
    leaves.insert(
        "deadaia",
        inter2.issue(
            "deadaia",
            &subj("deadaia", "deadaia@hisp.direct.test"),
            RSA2048,
            &leaf_ext(
                &server,
                "deadaia@hisp.direct.test",
                both,
                "/inter2.crl",
                "/missing.cer",
            ),
            &def,
        ),
    );
    leaves.insert(
        "hangaia",
        inter2.issue(
            "hangaia",
            &subj("hangaia", "hangaia@hisp.direct.test"),
            RSA2048,
            &leaf_ext(
                &server,
                "hangaia@hisp.direct.test",
                both,
                "/inter2.crl",
                "/hang",
            ),
            &def,
        ),
    );
    leaves.insert(
        "crl503",
        inter.issue(
            "crl503",
            &subj("crl503", "crl503@hisp.direct.test"),
            RSA2048,
            &leaf_ext(
                &server,
                "crl503@hisp.direct.test",
                both,
                "/gone.crl",
                "/inter.cer",
            ),
            &def,
        ),
    );
    leaves.insert(
        "nodp",
        inter.issue(
            "nodp",
            "/CN=nodp",
            RSA2048,
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nsubjectAltName=DNS:hisp.direct.test\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
            &def,
        ),
    );
    leaves.insert(
        "under_badca",
        badca.issue(
            "under_badca",
            &subj("under_badca", "x@hisp.direct.test"),
            RSA2048,
            &leaf_ext(
                &server,
                "x@hisp.direct.test",
                both,
                "/badca.crl",
                "/badca.cer",
            ),
            &def,
        ),
    );
    leaves.insert(
        "under_sub",
        sub.issue(
            "under_sub",
            &subj("under_sub", "y@hisp.direct.test"),
            RSA2048,
            &leaf_ext(&server, "y@hisp.direct.test", both, "/sub.crl", "/sub.cer"),
            &def,
        ),
    );
    leaves.insert(
        "nc_ok",
        ncca.issue(
            "nc_ok",
            &subj("nc_ok", "ok@good.test"),
            RSA2048,
            &leaf_ext(&server, "ok@good.test", both, "/ncca.crl", "/ncca.cer"),
            &def,
        ),
    );
    leaves.insert(
        "nc_bad",
        ncca.issue(
            "nc_bad",
            &subj("nc_bad", "bad@evil.test"),
            RSA2048,
            &leaf_ext(&server, "bad@evil.test", both, "/ncca.crl", "/ncca.cer"),
            &def,
        ),
    );
    leaves.insert(
        "untrusted",
        other_root.issue(
            "untrusted",
            &subj("untrusted", "u@hisp.direct.test"),
            RSA2048,
            &leaf_ext(
                &server,
                "u@hisp.direct.test",
                both,
                "/other-root.crl",
                "/other-root.cer",
            ),
            &def,
        ),
    );

    leaves.insert(
        "oddities",
        inter.issue(
            "oddities",
            "/CN=*.hisp.direct.test/emailAddress=other@hisp.direct.test",
            RSA2048,
            &format!(
                "basicConstraints=CA:TRUE\nkeyUsage=critical,{both}\nextendedKeyUsage=serverAuth\n\
                 subjectAltName=email:odd@hisp.direct.test,DNS:*.hisp.direct.test,DNS:bad_name.test\n\
                 certificatePolicies=1.3.6.1.4.1.41179.0.1.2\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            ),
            &def,
        ),
    );

    openssl_ok(
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:1024",
            "-out",
            "dsa.param",
        ],
        d,
    );
    leaves.insert(
        "dsa",
        inter.issue(
            "dsa",
            &subj("dsa", "dsa@hisp.direct.test"),
            &["-paramfile", "dsa.param"],
            &std_leaf("dsa@hisp.direct.test"),
            &def,
        ),
    );
    leaves.insert(
        "nosubject",
        inter.issue(
            "nosubject",
            "/",
            RSA2048,
            &std_leaf("nosubject@hisp.direct.test"),
            &def,
        ),
    );

    leaves.insert(
        "ldapdp",
        inter.issue(
            "ldapdp",
            &subj("ldapdp", "ldapdp@hisp.direct.test"),
            RSA2048,
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=email:ldapdp@hisp.direct.test\n\
             crlDistributionPoints=URI:ldap://ldap.direct.test/cn=inter?certificateRevocationList\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
            &def,
        ),
    );
    leaves.insert(
        "nc_dns_bad",
        ncca.issue(
            "nc_dns_bad",
            "/CN=nc_dns_bad",
            RSA2048,
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:evil.test\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
            &def,
        ),
    );

    let mut crls = HashMap::new();
    for ca in [
        &root,
        &inter,
        &inter2,
        &badca,
        &plen0,
        &sub,
        &ncca,
        &other_root,
    ] {
        let path = ca.crl();
        let der = openssl_ok(
            &["crl", "-in", &path.display().to_string(), "-outform", "DER"],
            d,
        )
        .stdout;
        server.route(&format!("/{}.crl", ca.name), Route::Ok(der));
        server.route(&format!("/{}.cer", ca.name), Route::Ok(ca.der()));
        let key: &'static str = Box::leak(ca.name.clone().into_boxed_str());
        crls.insert(key, path);
    }
    let p7c = openssl_ok(
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            &inter2.cert_path.display().to_string(),
            "-outform",
            "DER",
        ],
        d,
    )
    .stdout;
    server.route("/inter2.p7c", Route::Ok(p7c));
    server.route("/gone.crl", Route::Status(503));
    server.route("/hang", Route::Hang);

    Pki {
        dir,
        server,
        root,
        inter,
        inter2,
        badca,
        plen0,
        sub,
        ncca,
        other_root,
        stale_inter,
        leaves,
        crls,
    }
}

/// `openssl verify` as the oracle: true when OpenSSL accepts `leaf` under `root` with the
/// untrusted `chain`, checking every CRL when `crls` is given.
pub fn openssl_verify(pki: &Pki, leaf: &Path, chain: &[&Path], crls: &[&Path]) -> bool {
    let d = pki.dir.path();
    let bundle = d.join(format!(
        "untrusted-{}.pem",
        leaf.file_stem().and_then(|s| s.to_str()).unwrap_or("x")
    ));
    let mut text = Vec::new();
    for c in chain {
        text.extend(std::fs::read(c).expect("read chain"));
    }
    std::fs::write(&bundle, text).expect("bundle");
    let root = pki.root.cert_path.display().to_string();
    let b = bundle.display().to_string();
    let l = leaf.display().to_string();
    let mut args = vec!["verify", "-auth_level", "0", "-CAfile", &root];
    if !chain.is_empty() {
        args.extend_from_slice(&["-untrusted", &b]);
    }
    let crl_strings: Vec<String> = crls.iter().map(|p| p.display().to_string()).collect();
    if !crls.is_empty() {
        args.push("-crl_check_all");
        for c in &crl_strings {
            args.extend_from_slice(&["-CRLfile", c]);
        }
    }
    args.push(&l);
    openssl(&args, d).status.success()
}
