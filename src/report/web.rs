//! `direct-conformance web`: serves a folder of reports over HTTP (read-only GET), the
//! `report` service of docker-compose.yml. A folder answers with its `index.html`, else
//! with a list of what it holds; nothing outside the root is reachable.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// A connection is closed after this long, finished or not.
const CONNECTION_LIMIT: Duration = Duration::from_secs(60);

/// Serves `root` on `listener` until the future is dropped.
pub async fn serve(listener: tokio::net::TcpListener, root: PathBuf) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let root = root.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let root = root.clone();
                async move { Ok::<_, Infallible>(answer(&root, &req)) }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIMIT, conn).await;
        });
    }
}

/// The file below `root` that a URL path names; `None` for anything that leaves the root.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    for part in url_path.split('/').filter(|s| !s.is_empty()) {
        let part = percent_decode(part)?;
        let mut comps = Path::new(&part).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(c)), None) => p.push(c),
            _ => return None,
        }
    }
    Some(p)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("log" | "txt" | "eml") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn respond(status: StatusCode, ct: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

fn answer(root: &Path, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return respond(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
    }
    let Some(path) = resolve(root, req.uri().path()) else {
        return respond(StatusCode::NOT_FOUND, "text/plain", "not found\n");
    };
    let target = if path.is_dir() {
        let index = path.join("index.html");
        if !index.is_file() {
            return listing(&path, req.uri().path());
        }
        index
    } else {
        path
    };
    match std::fs::read(&target) {
        Ok(bytes) => respond(StatusCode::OK, content_type(&target), bytes),
        Err(_) => respond(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    }
}

fn listing(dir: &Path, url: &str) -> Response<Full<Bytes>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if e.path().is_dir() {
                        format!("{n}/")
                    } else {
                        n
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let base = if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    };
    let items: String = names
        .iter()
        .map(|n| {
            format!(
                "<li><a href=\"{}{}\">{}</a></li>\n",
                escape(&base),
                escape(n),
                escape(n)
            )
        })
        .collect();
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>reports</title><h1>{}</h1><ul>\n{items}</ul>\n{}",
        escape(url),
        if names.is_empty() {
            "<p>No report yet: run the suite (README, Containers).</p>"
        } else {
            ""
        }
    );
    respond(StatusCode::OK, "text/html; charset=utf-8", body)
}

/// Binds `addr` (for the caller to print) before serving.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_below_the_root() {
        let r = Path::new("/reports");
        assert_eq!(resolve(r, "/"), Some(PathBuf::from("/reports")));
        assert_eq!(
            resolve(r, "/latest/index.html"),
            Some(PathBuf::from("/reports/latest/index.html"))
        );
        assert_eq!(resolve(r, "/../etc/passwd"), None);
        assert_eq!(resolve(r, "/%2e%2e/etc"), None);
        assert_eq!(resolve(r, "/a%2Fb"), None);
        assert_eq!(resolve(r, "/a%zz"), None);
    }

    #[tokio::test]
    async fn serves_an_index_and_lists_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("latest")).unwrap();
        std::fs::write(dir.path().join("latest/index.html"), "<p>report</p>").unwrap();
        let l = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = l.local_addr().unwrap();
        let root = dir.path().to_path_buf();
        let server = tokio::spawn(serve(l, root));
        let get = |path: &'static str| async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let top = get("/").await;
        assert!(
            top.starts_with("HTTP/1.1 200") && top.contains("latest/"),
            "{top}"
        );
        let index = get("/latest/").await;
        assert!(index.contains("<p>report</p>"), "{index}");
        assert!(get("/nothing").await.starts_with("HTTP/1.1 404"));
        server.abort();
    }
}
