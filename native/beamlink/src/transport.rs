//! The byte stream under a distribution connection: plain TCP, or any other duplex stream
//! (TLS over TCP, an in-memory pipe in tests).
//!
//! The connection layer needs two things from it: a read half for its reader task, and a write
//! half for its writer task. Plain TCP also offers a *direct* write handle, so a caller can put
//! a small packet on an idle socket itself (a non-blocking `try_write`, no task hand-off); other
//! streams go through the writer task every time, because a TLS record cannot be half-written
//! by one thread while another encrypts the next.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use beamlink::transport::Transport;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! let (a, mut b) = tokio::io::duplex(64);
//! let t = Transport::stream(a);
//! assert!(!t.is_tcp());
//! let (mut rd, mut wr, direct) = t.split();
//! assert!(direct.is_none(), "only plain TCP is written to directly");
//! wr.write_all(b"ping").await.unwrap();
//! let mut got = [0u8; 4];
//! b.read_exact(&mut got).await.unwrap();
//! b.write_all(b"pong").await.unwrap();
//! rd.read_exact(&mut got).await.unwrap();
//! assert_eq!(&got, b"pong");
//! # });
//! ```

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A stream a connection can run on besides plain TCP.
pub trait Duplex: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Duplex for T {}

/// The stream under a connection, from the handshake on.
pub enum Transport {
    /// Plain TCP: idle sockets are written to directly by the sender.
    Tcp(TcpStream),
    /// Anything else (TLS): every write goes through the connection's writer task.
    Stream(Box<dyn Duplex>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Tcp(s) => write!(f, "Transport::Tcp({:?})", s.peer_addr().ok()),
            Transport::Stream(_) => f.write_str("Transport::Stream"),
        }
    }
}

impl From<TcpStream> for Transport {
    fn from(s: TcpStream) -> Transport {
        Transport::Tcp(s)
    }
}

impl Transport {
    /// Wraps any duplex stream.
    pub fn stream(s: impl Duplex) -> Transport {
        Transport::Stream(Box::new(s))
    }

    pub fn is_tcp(&self) -> bool {
        matches!(self, Transport::Tcp(_))
    }

    /// The read half, the write half, and for plain TCP a handle for direct writes (it shares
    /// the socket with the write half; the connection layer keeps the two from interleaving).
    pub fn split(self) -> (ReadHalf, WriteHalf, Option<Arc<OwnedWriteHalf>>) {
        match self {
            Transport::Tcp(s) => {
                let _ = s.set_nodelay(true);
                let (rd, wr) = s.into_split();
                let wr = Arc::new(wr);
                (ReadHalf::Tcp(rd), WriteHalf::Tcp(wr.clone()), Some(wr))
            }
            Transport::Stream(s) => {
                let (rd, wr) = tokio::io::split(s);
                (ReadHalf::Stream(rd), WriteHalf::Stream(wr), None)
            }
        }
    }
}

impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Stream(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Stream(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_flush(cx),
            Transport::Stream(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Stream(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// The reading side of a [`Transport`].
pub enum ReadHalf {
    Tcp(OwnedReadHalf),
    Stream(tokio::io::ReadHalf<Box<dyn Duplex>>),
}

impl AsyncRead for ReadHalf {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadHalf::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            ReadHalf::Stream(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

/// The writing side of a [`Transport`], owned by the connection's writer task.
pub enum WriteHalf {
    Tcp(Arc<OwnedWriteHalf>),
    Stream(tokio::io::WriteHalf<Box<dyn Duplex>>),
}

impl WriteHalf {
    /// Writes all of `buf` (and, for a stream, flushes it onward); returns the number of
    /// system writes it took for TCP, 1 otherwise.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<u64> {
        match self {
            WriteHalf::Tcp(socket) => {
                // Through `try_write` on the shared half: the direct writers use the same one.
                let mut writes = 0;
                while !buf.is_empty() {
                    socket.writable().await?;
                    match socket.try_write(buf) {
                        Ok(n) => {
                            buf = &buf[n..];
                            writes += 1;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(writes)
            }
            WriteHalf::Stream(s) => {
                s.write_all(buf).await?;
                s.flush().await?;
                Ok(1)
            }
        }
    }
}
