//! Unary gRPC calls over a unix socket: HTTP/2 (hyper), each message with gRPC's 5-byte
//! prefix (compression flag, big-endian length), the status in `grpc-status` (headers of
//! a trailers-only answer, or trailers).

use std::path::Path;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Largest answer message accepted (a container with a large spec is tens of kilobytes).
const MAX_MESSAGE: usize = 16 << 20;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    #[error("cannot connect to {socket}: {message}")]
    Connect { socket: String, message: String },
    #[error("{0}")]
    Transport(String),
    /// A gRPC status other than OK (5: not found).
    #[error("status {code}: {message}")]
    Status { code: u32, message: String },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl GrpcError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, GrpcError::Status { code: 5, .. })
    }
}

fn transport(e: impl std::fmt::Display) -> GrpcError {
    GrpcError::Transport(e.to_string())
}

/// One unary call on a connection of its own, within `timeout`. `namespace` goes in the
/// `containerd-namespace` header when not empty.
pub async fn unary<Req: prost::Message, Resp: prost::Message + Default>(
    socket: &Path,
    path: &str,
    namespace: &str,
    request: &Req,
    timeout: Duration,
) -> Result<Resp, GrpcError> {
    match tokio::time::timeout(timeout, call(socket, path, namespace, request)).await {
        Ok(result) => result,
        Err(_) => Err(GrpcError::Timeout(timeout)),
    }
}

async fn call<Req: prost::Message, Resp: prost::Message + Default>(
    socket: &Path,
    path: &str,
    namespace: &str,
    request: &Req,
) -> Result<Resp, GrpcError> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| GrpcError::Connect { socket: socket.display().to_string(), message: e.to_string() })?;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.map_err(transport)?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut body = BytesMut::with_capacity(5 + request.encoded_len());
    body.put_u8(0);
    body.put_u32(u32::try_from(request.encoded_len()).map_err(transport)?);
    request.encode(&mut body).map_err(transport)?;
    let mut builder = hyper::Request::post(format!("http://containerd{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if !namespace.is_empty() {
        builder = builder.header(super::proto::NAMESPACE_HEADER, namespace);
    }
    let request = builder.body(Full::new(body.freeze())).map_err(transport)?;
    let answer = sender.send_request(request).await.map_err(transport)?;
    let result = read_answer(answer).await;
    driver.abort();
    result
}

async fn read_answer<Resp: prost::Message + Default>(
    answer: hyper::Response<hyper::body::Incoming>,
) -> Result<Resp, GrpcError> {
    check_status(answer.headers())?;
    if answer.status() != hyper::StatusCode::OK {
        return Err(GrpcError::Transport(format!("HTTP status {}", answer.status())));
    }
    let mut body = answer.into_body();
    let mut data = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(transport)?;
        if let Some(trailers) = frame.trailers_ref() {
            check_status(trailers)?;
        } else if let Ok(chunk) = frame.into_data() {
            if data.len() + chunk.len() > MAX_MESSAGE + 5 {
                return Err(GrpcError::Transport("answer larger than 16 MiB".to_owned()));
            }
            data.extend_from_slice(&chunk);
        }
    }
    decode_message(data.freeze())
}

/// The one message of a unary answer's body.
pub fn decode_message<Resp: prost::Message + Default>(mut data: Bytes) -> Result<Resp, GrpcError> {
    if data.len() < 5 {
        return Err(GrpcError::Transport("empty answer".to_owned()));
    }
    if data[0] != 0 {
        return Err(GrpcError::Transport("compressed answer".to_owned()));
    }
    let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
    data.advance(5);
    if len > MAX_MESSAGE || data.len() < len {
        return Err(GrpcError::Transport("truncated answer".to_owned()));
    }
    Resp::decode(data.split_to(len)).map_err(transport)
}

fn check_status(headers: &hyper::HeaderMap) -> Result<(), GrpcError> {
    let Some(status) = headers.get("grpc-status") else { return Ok(()) };
    let code = status.to_str().ok().and_then(|s| s.parse::<u32>().ok()).unwrap_or(2);
    if code == 0 {
        return Ok(());
    }
    let message = headers.get("grpc-message").map(|m| percent_decode(m.as_bytes())).unwrap_or_default();
    Err(GrpcError::Status { code, message })
}

/// gRPC's percent-encoding of `grpc-message`.
fn percent_decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Some(v) = std::str::from_utf8(hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containerd::proto::GetContainerRequest;
    use prost::Message;

    #[test]
    fn framed_messages_decode_and_bad_frames_are_errors() {
        let message = GetContainerRequest { id: "abc".into() };
        let mut framed = BytesMut::new();
        framed.put_u8(0);
        framed.put_u32(message.encoded_len() as u32);
        message.encode(&mut framed).unwrap();
        let framed = framed.freeze();
        assert_eq!(decode_message::<GetContainerRequest>(framed.clone()).unwrap(), message);
        assert!(decode_message::<GetContainerRequest>(framed.slice(..framed.len() - 1)).is_err());
        assert!(decode_message::<GetContainerRequest>(Bytes::from_static(&[0, 0])).is_err());
        assert!(decode_message::<GetContainerRequest>(Bytes::from_static(&[1, 0, 0, 0, 0])).is_err());
        assert!(decode_message::<GetContainerRequest>(Bytes::from_static(&[0, 255, 255, 255, 255, 1])).is_err());
    }

    #[test]
    fn status_messages_are_percent_decoded() {
        assert_eq!(percent_decode(b"container %22x%22 not found"), "container \"x\" not found");
        assert_eq!(percent_decode(b"100%"), "100%");
        assert_eq!(percent_decode(b"%zz"), "%zz");
    }
}
