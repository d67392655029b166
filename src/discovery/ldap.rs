//! One LDAP server asked for one mail value (DISC-12): anonymous bind, root DSE
//! `namingContexts`, then a subtree search per context with the DCDT filter, reading
//! `userCertificate;binary` and `userCertificate`. A context that refuses is recorded and the
//! next one asked (D32). Every operation is bounded in time and recorded.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};

use super::dns::ms;
use super::result::{NetworkStep, StepTarget};

/// A certificate value found in an entry.
pub struct Found {
    pub base: String,
    pub filter: String,
    pub dn: String,
    pub der: Vec<u8>,
}

pub enum ServerOutcome {
    /// The server answered; maybe with no certificate (then the next server is asked, DISC-13).
    Answered(Vec<Found>),
    /// Connection refused, timeout, bind or root DSE failure (DISC-11); the steps say why.
    Failed,
}

const CERT_ATTRS: [&str; 2] = ["userCertificate;binary", "userCertificate"];

pub fn filter_for(mail: &str) -> String {
    let m = ldap_escape(mail);
    format!("(&(mail={m})(|(userCertificate;binary=*)(userCertificate=*)))")
}

struct Session<'a> {
    ldap: Ldap,
    label: &'a str,
    addr: SocketAddr,
    op_timeout: Duration,
    steps: &'a mut Vec<NetworkStep>,
}

impl Session<'_> {
    fn record(&mut self, operation: String, start: Instant, ok: bool, outcome: String) {
        self.steps.push(NetworkStep {
            target: StepTarget::Ldap {
                server: self.label.to_string(),
                operation,
            },
            server: Some(self.addr.to_string()),
            ok,
            outcome,
            duration_ms: ms(start),
        });
    }

    async fn bind(&mut self) -> Result<(), String> {
        let start = Instant::now();
        let r = self
            .ldap
            .with_timeout(self.op_timeout)
            .simple_bind("", "")
            .await;
        let outcome = match r {
            Ok(res) if res.rc == 0 => Ok(()),
            Ok(res) => Err(format!("bind result {} {}", res.rc, res.text)),
            Err(e) => Err(format!("bind: {e}")),
        };
        self.record(
            "anonymous bind".into(),
            start,
            outcome.is_ok(),
            outcome.clone().err().unwrap_or_else(|| "success".into()),
        );
        outcome
    }

    async fn naming_contexts(&mut self) -> Result<Vec<String>, String> {
        let start = Instant::now();
        let r = self
            .ldap
            .with_timeout(self.op_timeout)
            .search("", Scope::Base, "(objectClass=*)", vec!["namingContexts"])
            .await;
        let outcome = match r {
            Ok(sr) if sr.1.rc == 0 => {
                let mut ctx = Vec::new();
                for re in sr.0 {
                    if let Some(e) = construct(re) {
                        for (k, v) in e.attrs {
                            if k.eq_ignore_ascii_case("namingContexts") {
                                ctx.extend(v);
                            }
                        }
                    }
                }
                Ok(ctx)
            }
            Ok(sr) => Err(format!("root DSE result {} {}", sr.1.rc, sr.1.text)),
            Err(e) => Err(format!("root DSE: {e}")),
        };
        let text = match &outcome {
            Ok(c) => format!("namingContexts [{}]", c.join(", ")),
            Err(e) => e.clone(),
        };
        self.record("root DSE".into(), start, outcome.is_ok(), text);
        outcome
    }

    /// Searches one context; an error result is recorded and gives nothing.
    async fn search(&mut self, base: &str, filter: &str) -> Result<Vec<Found>, String> {
        let start = Instant::now();
        let r = self
            .ldap
            .with_timeout(self.op_timeout)
            .search(base, Scope::Subtree, filter, CERT_ATTRS.to_vec())
            .await;
        let op = format!("search base '{base}' {filter}");
        match r {
            Ok(sr) => {
                let mut found = Vec::new();
                let n = sr.0.len();
                for re in sr.0 {
                    let Some(e) = construct(re) else { continue };
                    // Servers answer the same value under both attribute names: keep one.
                    let mut values: Vec<Vec<u8>> = Vec::new();
                    for (k, vals) in e.bin_attrs {
                        if CERT_ATTRS.iter().any(|a| a.eq_ignore_ascii_case(&k)) {
                            for v in vals {
                                if !values.contains(&v) {
                                    values.push(v);
                                }
                            }
                        }
                    }
                    found.extend(values.into_iter().map(|der| Found {
                        base: base.into(),
                        filter: filter.into(),
                        dn: e.dn.clone(),
                        der,
                    }));
                }
                let ok = sr.1.rc == 0;
                let text = if ok {
                    format!("{n} entr(y/ies), {} certificate value(s)", found.len())
                } else {
                    format!("result {} {}", sr.1.rc, sr.1.text)
                };
                self.record(op, start, ok, text.clone());
                if ok { Ok(found) } else { Err(text) }
            }
            Err(e) => {
                let text = format!("search: {e}");
                self.record(op, start, false, text.clone());
                Err(text)
            }
        }
    }
}

/// ldap3 panics on an entry it cannot parse; a malformed answer must not end discovery.
fn construct(re: ldap3::ResultEntry) -> Option<SearchEntry> {
    std::panic::catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(re))).ok()
}

/// Asks the server at `addr` (named `label` in the report) for entries whose mail is `mail`.
pub async fn query(
    label: &str,
    addr: SocketAddr,
    mail: &str,
    connect_timeout: Duration,
    op_timeout: Duration,
    steps: &mut Vec<NetworkStep>,
) -> ServerOutcome {
    query_contexts(label, addr, mail, connect_timeout, op_timeout, false, steps).await
}

/// As [`query`]; `first_context_only` is the `first-naming-context-only` fault knob.
pub async fn query_contexts(
    label: &str,
    addr: SocketAddr,
    mail: &str,
    connect_timeout: Duration,
    op_timeout: Duration,
    first_context_only: bool,
    steps: &mut Vec<NetworkStep>,
) -> ServerOutcome {
    let start = Instant::now();
    let settings = LdapConnSettings::new().set_conn_timeout(connect_timeout);
    let url = format!("ldap://{addr}");
    let connected = tokio::time::timeout(
        connect_timeout,
        LdapConnAsync::with_settings(settings, &url),
    )
    .await;
    let (conn, ldap) = match connected {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return connect_failed(label, addr, start, format!("connect: {e}"), steps),
        Err(_) => {
            return connect_failed(
                label,
                addr,
                start,
                format!("connect: no connection within {connect_timeout:?}"),
                steps,
            );
        }
    };
    steps.push(NetworkStep {
        target: StepTarget::Ldap {
            server: label.into(),
            operation: "connect".into(),
        },
        server: Some(addr.to_string()),
        ok: true,
        outcome: "connected".into(),
        duration_ms: ms(start),
    });
    let driver = tokio::spawn(async move {
        let _ = conn.drive().await;
    });
    let mut s = Session {
        ldap,
        label,
        addr,
        op_timeout,
        steps,
    };
    let outcome = run(&mut s, mail, first_context_only).await;
    // Unbind briefly; the driver ends with the connection, or is stopped here.
    let _ = tokio::time::timeout(Duration::from_millis(200), s.ldap.unbind()).await;
    driver.abort();
    outcome
}

async fn run(s: &mut Session<'_>, mail: &str, first_context_only: bool) -> ServerOutcome {
    if s.bind().await.is_err() {
        return ServerOutcome::Failed;
    }
    let mut contexts = match s.naming_contexts().await {
        Ok(c) if !c.is_empty() => c,
        Ok(_) | Err(_) => return ServerOutcome::Failed,
    };
    if first_context_only {
        contexts.truncate(1);
    }
    let filter = filter_for(mail);
    let mut found = Vec::new();
    let mut errors = 0;
    for base in &contexts {
        match s.search(base, &filter).await {
            Ok(f) => found.extend(f),
            Err(_) => errors += 1,
        }
    }
    if found.is_empty() && errors == contexts.len() {
        return ServerOutcome::Failed;
    }
    ServerOutcome::Answered(found)
}

fn connect_failed(
    label: &str,
    addr: SocketAddr,
    start: Instant,
    why: String,
    steps: &mut Vec<NetworkStep>,
) -> ServerOutcome {
    steps.push(NetworkStep {
        target: StepTarget::Ldap {
            server: label.into(),
            operation: "connect".into(),
        },
        server: Some(addr.to_string()),
        ok: false,
        outcome: why,
        duration_ms: ms(start),
    });
    ServerOutcome::Failed
}

#[cfg(test)]
mod tests {
    #[test]
    fn filter_escapes_specials() {
        assert_eq!(
            super::filter_for("a*(b)@x"),
            "(&(mail=a\\2a\\28b\\29@x)(|(userCertificate;binary=*)(userCertificate=*)))"
        );
    }
}
