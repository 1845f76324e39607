//! A minimal HTTP/1.1 client over a unix socket, enough for the Docker engine API: one
//! `GET` per connection, bodies framed by `Content-Length`, chunked encoding or the end
//! of the connection. Every line and header block read from the peer is bounded.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Longest status, header or chunk-size line accepted.
const MAX_LINE: u64 = 8 * 1024;
/// Most header (or trailer) lines accepted.
const MAX_HEADERS: usize = 100;
/// How long a read may wait: saving a large image can pause while the engine packs layers.
const READ_TIMEOUT: Duration = Duration::from_secs(600);

/// A response whose body is still to be read.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Box<dyn Read + Send>,
}

impl Response {
    /// Reads the whole body, refusing one larger than `cap` bytes.
    pub(crate) fn read_capped(mut self, cap: u64) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        (&mut self.body).take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > cap {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("response larger than {cap} bytes")));
        }
        Ok(bytes)
    }
}

/// Why a request failed: the socket could not be reached, or the exchange broke.
#[derive(Debug)]
pub(crate) enum HttpError {
    Connect(io::Error),
    Exchange(io::Error),
}

/// Sends `GET target` to the server listening on `socket`.
pub(crate) fn get(socket: &Path, target: &str) -> Result<Response, HttpError> {
    let stream = UnixStream::connect(socket).map_err(HttpError::Connect)?;
    exchange(stream, target).map_err(HttpError::Exchange)
}

fn exchange(mut stream: UnixStream, target: &str) -> io::Result<Response> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: docker\r\nUser-Agent: cguard\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let status_line = read_line(&mut reader)?;
    let status = parse_status(&status_line)?;
    let mut content_length = None;
    let mut chunked = false;
    for line in read_header_block(&mut reader)? {
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(format!("malformed header line {line:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(value.parse::<u64>().map_err(|_| bad(format!("bad Content-Length {value:?}")))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().split(',').any(|c| c.trim() == "chunked");
        }
    }
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Chunked { inner: reader, left: 0, after_chunk: false, done: false })
    } else if let Some(length) = content_length {
        Box::new(Sized { inner: reader.take(length), left: length })
    } else {
        // With `Connection: close` the body ends with the connection.
        Box::new(reader)
    };
    Ok(Response { status, body })
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// `HTTP/1.x NNN reason` to `NNN`.
fn parse_status(line: &str) -> io::Result<u16> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(bad(format!("malformed status line {line:?}")));
    }
    code.parse().map_err(|_| bad(format!("malformed status line {line:?}")))
}

/// One CRLF- (or LF-) terminated line, without its terminator; at most [`MAX_LINE`] bytes.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    reader.take(MAX_LINE).read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') {
        return Err(if line.len() as u64 >= MAX_LINE {
            bad("line too long in response".to_owned())
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed in the middle of a response")
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| bad("response line is not UTF-8".to_owned()))
}

/// Header lines up to the empty line that ends them.
fn read_header_block(reader: &mut impl BufRead) -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            return Ok(lines);
        }
        if lines.len() >= MAX_HEADERS {
            return Err(bad(format!("more than {MAX_HEADERS} header lines")));
        }
        lines.push(line);
    }
}

/// A body of known length that must arrive whole.
struct Sized<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Sized<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "response body shorter than its Content-Length"));
        }
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}

/// A `Transfer-Encoding: chunked` body.
struct Chunked<R> {
    inner: R,
    /// Bytes left in the current chunk.
    left: u64,
    /// Whether a chunk's data just ended (its CRLF is still to be read).
    after_chunk: bool,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            if self.after_chunk {
                if !read_line(&mut self.inner)?.is_empty() {
                    return Err(bad("chunk data not followed by CRLF".to_owned()));
                }
                self.after_chunk = false;
            }
            let line = read_line(&mut self.inner)?;
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size_text, 16).map_err(|_| bad(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                read_header_block(&mut self.inner)?;
                self.done = true;
                return Ok(0);
            }
            self.left = size;
        }
        let want = usize::try_from(self.left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed in the middle of a chunk"));
        }
        self.left = self.left.saturating_sub(n as u64);
        if self.left == 0 {
            self.after_chunk = true;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(raw: &str) -> io::Result<Vec<u8>> {
        let mut chunked = Chunked { inner: raw.as_bytes(), left: 0, after_chunk: false, done: false };
        let mut out = Vec::new();
        chunked.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(body_of("5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n").unwrap(), b"hello, world");
        assert_eq!(body_of("0\r\n\r\n").unwrap(), b"");
        assert!(body_of("5\r\nhel").is_err(), "truncated chunk");
        assert!(body_of("5\r\nhelloXX\r\n0\r\n\r\n").is_err(), "missing CRLF after data");
        assert!(body_of("zz\r\n").is_err(), "bad size");
        assert!(body_of("ffffffffffffffffff\r\n").is_err(), "oversized size");
        assert!(body_of(&format!("{}\r\n", "1".repeat(10_000))).is_err(), "endless size line");
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status("HTTP/1.1 404 Not Found").unwrap(), 404);
        assert_eq!(parse_status("HTTP/1.0 200").unwrap(), 200);
        assert!(parse_status("SSH-2.0").is_err());
        assert!(parse_status("HTTP/1.1 2000 x").is_err());
    }

    #[test]
    fn sized_body_must_arrive_whole() {
        let mut short = Sized { inner: &b"abc"[..], left: 5 };
        let mut out = Vec::new();
        assert_eq!(short.read_to_end(&mut out).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
