//! A line-oriented connection that can be upgraded to TLS in place (STARTTLS, STLS), with a
//! bounded line length and a timeout on every read and write.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// The byte stream under a session: plain TCP, or TLS as server or client.
pub enum Stream {
    Plain(TcpStream),
    Server(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    Client(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Only while an upgrade is in progress (or after a failed one).
    Gone,
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "connection lost during TLS upgrade",
    )
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Server(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Client(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Server(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Client(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Server(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Client(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Server(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Client(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("connection closed by peer")]
    Closed,
    #[error("line longer than {0} octets")]
    TooLong(usize),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A connection read line by line.
pub struct LineConn {
    stream: Stream,
    buf: Vec<u8>,
}

impl LineConn {
    pub fn new(tcp: TcpStream) -> Self {
        LineConn {
            stream: Stream::Plain(tcp),
            buf: Vec::new(),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Server(_) | Stream::Client(_))
    }

    /// Reads one line, terminator included. A line longer than `max` octets is read to its
    /// end and discarded, and reported as `TooLong`, so that the session can go on.
    pub async fn read_line(&mut self, max: usize, timeout: Duration) -> Result<Vec<u8>, LineError> {
        let mut too_long = false;
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if too_long || line.len() > max {
                    return Err(LineError::TooLong(max));
                }
                return Ok(line);
            }
            if self.buf.len() > max {
                too_long = true;
                self.buf.clear();
            }
            let mut chunk = [0u8; 8192];
            let n = tokio::time::timeout(timeout, self.stream.read(&mut chunk))
                .await
                .map_err(|_| LineError::Timeout(timeout))??;
            if n == 0 {
                return Err(LineError::Closed);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads exactly `n` octets (an IMAP literal), taking first what is already buffered;
    /// each read bounded by `timeout`. The caller bounds `n`.
    pub async fn read_exact(&mut self, n: usize, timeout: Duration) -> Result<Vec<u8>, LineError> {
        while self.buf.len() < n {
            let mut chunk = [0u8; 8192];
            let got = tokio::time::timeout(timeout, self.stream.read(&mut chunk))
                .await
                .map_err(|_| LineError::Timeout(timeout))??;
            if got == 0 {
                return Err(LineError::Closed);
            }
            self.buf.extend_from_slice(&chunk[..got]);
        }
        Ok(self.buf.drain(..n).collect())
    }

    pub async fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), LineError> {
        tokio::time::timeout(timeout, async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await
        .map_err(|_| LineError::Timeout(timeout))??;
        Ok(())
    }

    /// Server side of STARTTLS/STLS. Anything the client pipelined after the command is
    /// dropped (RFC 3207 §4.2: no plaintext command may leak into the TLS session).
    pub async fn accept_tls(
        &mut self,
        acceptor: &tokio_rustls::TlsAcceptor,
        timeout: Duration,
    ) -> Result<(), LineError> {
        self.buf.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(LineError::Io(io::Error::other("TLS is already on")));
        };
        let tls = tokio::time::timeout(timeout, acceptor.accept(tcp))
            .await
            .map_err(|_| LineError::Timeout(timeout))??;
        self.stream = Stream::Server(Box::new(tls));
        Ok(())
    }

    /// Client side of STARTTLS.
    pub async fn connect_tls(
        &mut self,
        connector: &tokio_rustls::TlsConnector,
        server_name: rustls::pki_types::ServerName<'static>,
        timeout: Duration,
    ) -> Result<(), LineError> {
        self.buf.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(LineError::Io(io::Error::other("TLS is already on")));
        };
        let tls = tokio::time::timeout(timeout, connector.connect(server_name, tcp))
            .await
            .map_err(|_| LineError::Timeout(timeout))??;
        self.stream = Stream::Client(Box::new(tls));
        Ok(())
    }

    pub async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.stream.shutdown()).await;
    }
}
