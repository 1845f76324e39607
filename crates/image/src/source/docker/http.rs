//! HTTP/1.1 over a unix socket, enough for the Docker engine API (used by the `docker:`
//! image source and by the shield): `GET` requests, one per connection, bodies framed by `Content-Length`, chunked encoding or the end of the
//! connection. Every line and header block read from the peer is bounded, and a chunked
//! body can be read as a stream (the `/events` endpoint never ends).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Longest status, header or chunk-size line accepted.
const MAX_LINE: u64 = 8 * 1024;
/// Most header lines accepted.
const MAX_HEADERS: usize = 100;

/// A response whose body is still to be read.
pub struct Response {
    pub status: u16,
    pub body: Box<dyn BufRead + Send>,
}

impl Response {
    /// Reads the whole body, refusing one larger than `cap` bytes.
    pub fn read_capped(mut self, cap: u64) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        (&mut self.body).take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > cap {
            return Err(bad(format!("response larger than {cap} bytes")));
        }
        Ok(bytes)
    }
}

/// Sends `GET target` on a new connection. `timeout` bounds each read (`None`: wait for
/// ever, for streams). Returns the stream too, so that a reader of a never-ending body can
/// be stopped by shutting it down.
pub fn get(socket: &Path, target: &str, timeout: Option<Duration>) -> Result<(Response, UnixStream), HttpError> {
    let stream = UnixStream::connect(socket).map_err(HttpError::Connect)?;
    let control = stream.try_clone().map_err(HttpError::Connect)?;
    exchange(stream, target, timeout).map(|r| (r, control)).map_err(HttpError::Exchange)
}

/// Why a request failed: the socket could not be reached, or the exchange broke.
#[derive(Debug)]
pub enum HttpError {
    Connect(io::Error),
    Exchange(io::Error),
}

fn exchange(mut stream: UnixStream, target: &str, timeout: Option<Duration>) -> io::Result<Response> {
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: docker\r\nUser-Agent: cguard-shield\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let status = parse_status(&read_line(&mut reader)?)?;
    let mut content_length = None;
    let mut chunked = false;
    for line in read_headers(&mut reader)? {
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
    let body: Box<dyn BufRead + Send> = if chunked {
        Box::new(BufReader::new(Chunked { inner: reader, left: 0, done: false }))
    } else if let Some(length) = content_length {
        Box::new(BufReader::new(reader.take(length)))
    } else {
        Box::new(reader)
    };
    Ok(Response { status, body })
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// `HTTP/1.x NNN reason` to `NNN`.
pub fn parse_status(line: &str) -> io::Result<u16> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(bad(format!("malformed status line {line:?}")));
    }
    code.parse().map_err(|_| bad(format!("malformed status line {line:?}")))
}

/// One line without its CRLF (or LF); at most [`MAX_LINE`] bytes.
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

fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<String>> {
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

/// A `Transfer-Encoding: chunked` body.
struct Chunked<R> {
    inner: R,
    /// Bytes left in the current chunk.
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let line = read_line(&mut self.inner)?;
            let size = line.split(';').next().unwrap_or_default().trim();
            self.left = u64::from_str_radix(size, 16).map_err(|_| bad(format!("bad chunk size {size:?}")))?;
            if self.left == 0 {
                // Trailers, then the end.
                read_headers(&mut self.inner)?;
                self.done = true;
                return Ok(0);
            }
        }
        let want = usize::try_from(self.left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed inside a chunk"));
        }
        self.left -= n as u64;
        if self.left == 0 {
            let end = read_line(&mut self.inner)?;
            if !end.is_empty() {
                return Err(bad("chunk not followed by CRLF".to_owned()));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_decoded() {
        let raw = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
        let mut body = String::new();
        Chunked { inner: &raw[..], left: 0, done: false }.read_to_string(&mut body).unwrap();
        assert_eq!(body, "hello world");
    }

    #[test]
    fn malformed_chunks_are_errors_not_panics() {
        for raw in [&b"zz\r\nabc"[..], b"5\r\nab", b"3\r\nabcX\r\n", b"ffffffffffffffffff\r\n"] {
            let mut out = Vec::new();
            assert!(Chunked { inner: raw, left: 0, done: false }.read_to_end(&mut out).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn status_lines_parse() {
        assert_eq!(parse_status("HTTP/1.1 200 OK").unwrap(), 200);
        assert_eq!(parse_status("HTTP/1.0 404").unwrap(), 404);
        assert!(parse_status("SSH-2.0 hello").is_err());
        assert!(parse_status("HTTP/1.1 20 OK").is_err());
    }
}
