//! The one HTTP server aerie runs (axum on tokio): binding with a clear error
//! when the port is taken, streaming a file (or a byte range of one, e.g. a
//! file inside an ISO) without reading it into memory, honouring a single
//! `Range:` request (BMC virtual media asks for ranges), and serving a router
//! until told to stop. Roads build their routes on it (the netboot server;
//! any road that serves an ISO by URL).

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::io::SeekFrom;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// The address could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {reason}")]
pub struct BindError {
    pub addr: SocketAddr,
    pub reason: String,
}

/// Bind `addr`; a taken port or a missing address says which and what to do.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, BindError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "port {} is already taken by another program (`ss -ltnp 'sport = :{}'` shows which); stop it or choose another port",
                addr.port(),
                addr.port()
            ),
            std::io::ErrorKind::AddrNotAvailable => format!(
                "{} is not an address of this machine; give this machine's address on that network",
                addr.ip()
            ),
            _ => e.to_string(),
        };
        BindError { addr, reason }
    })
}

/// Serve `router` on `listener` until `stop` completes; requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
}

/// A byte range of a file to send.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
}

impl FilePart {
    /// The whole file at `path`.
    pub fn whole(path: &Path) -> std::io::Result<FilePart> {
        let len = std::fs::metadata(path)?.len();
        Ok(FilePart {
            path: path.to_path_buf(),
            offset: 0,
            len,
        })
    }
}

/// `bytes=A-B`, `bytes=A-`, `bytes=-N` of a `len`-byte file → (start, count).
pub fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.checked_sub(n.min(len))?, len.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, len.checked_sub(1)?),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(len.checked_sub(1)?),
        ),
    };
    (start <= end && end < len).then(|| (start, end - start + 1))
}

const CHUNK: usize = 256 * 1024;

/// Stream `part` (honouring a `Range:` header) with `content_type`.
pub async fn send_file(
    part: FilePart,
    headers: &HeaderMap,
    content_type: &'static str,
) -> Response {
    let mut file = match tokio::fs::File::open(&part.path).await {
        Ok(f) => f,
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, part.len));
    let (status, start, count) = match range {
        None => (StatusCode::OK, 0, part.len),
        Some(Some((s, n))) => (StatusCode::PARTIAL_CONTENT, s, n),
        Some(None) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", part.len)) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    if file
        .seek(SeekFrom::Start(part.offset + start))
        .await
        .is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(count), CHUNK);
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) =
            HeaderValue::from_str(&format!("bytes {start}-{}/{}", start + count - 1, part.len))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=95-200", 100), Some((95, 5)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[test]
    fn a_taken_port_says_so() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let first = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = first.local_addr().unwrap();
            let err = bind(addr).await.unwrap_err().to_string();
            assert!(err.contains("already taken"), "{err}");
        });
    }

    #[test]
    fn a_part_of_a_file_is_streamed_with_its_length() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let tmp = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(tmp.path(), b"0123456789abcdef").unwrap();
            let part = FilePart {
                path: tmp.path().into(),
                offset: 4,
                len: 8,
            };
            let mut headers = HeaderMap::new();
            headers.insert(header::RANGE, HeaderValue::from_static("bytes=2-4"));
            let r = send_file(part.clone(), &headers, "application/octet-stream").await;
            assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
            assert_eq!(r.headers()[header::CONTENT_RANGE], "bytes 2-4/8");
            let body = axum::body::to_bytes(r.into_body(), 100).await.unwrap();
            assert_eq!(&body[..], b"678");
            let r = send_file(part, &HeaderMap::new(), "x").await;
            let body = axum::body::to_bytes(r.into_body(), 100).await.unwrap();
            assert_eq!(&body[..], b"456789ab");
        });
    }
}
