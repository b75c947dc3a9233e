//! The request log behind `GET /logs` (SPEC §1.5): every API call since the
//! instance started, in arrival order, as `["METHOD", "/path"]`.
//!
//! Calls go to an append-only file (one JSON array per line), not memory,
//! so the log can cover billions of calls. Memory holds only the byte
//! offset of every 1024th line, so `?offset=` can seek instead of scanning
//! (8 bytes per 1024 calls). `/logs` streams the file. Only method and path
//! are kept: never the query string, a header, a token or a body.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chirp_store::DbCounts;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::extract::Query;
use crate::state::AppState;
use crate::{ApiError, ApiResult};

/// Lines between two entries of the offset index.
const STRIDE: u64 = 1024;
/// Bytes per chunk of a streamed `/logs` body.
const CHUNK: usize = 64 * 1024;

struct LogFile {
    writer: BufWriter<File>,
    /// Calls recorded.
    total: u64,
    /// Bytes recorded (flushed or still in the writer's buffer).
    bytes: u64,
    /// `index[k]` is the byte offset of line `k * STRIDE`.
    index: Vec<u64>,
    /// Set after a write error, so it is logged once, not per request.
    failed: bool,
}

/// The log of one API instance. Cheap to clone.
#[derive(Clone)]
pub struct RequestLog {
    inner: Arc<Inner>,
}

struct Inner {
    instance: String,
    started_at: DateTime<Utc>,
    path: PathBuf,
    file: Mutex<LogFile>,
}

impl RequestLog {
    /// Starts an empty log in `path` (truncating what a previous run left).
    pub fn create(path: &Path, instance: String) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                instance,
                started_at: Utc::now(),
                path: path.to_owned(),
                file: Mutex::new(LogFile {
                    writer: BufWriter::with_capacity(64 * 1024, file),
                    total: 0,
                    bytes: 0,
                    index: Vec::new(),
                    failed: false,
                }),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, LogFile> {
        self.inner.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one call. Cheap: a buffered write under a short lock.
    pub fn record(&self, method: &str, path: &str) {
        let mut line = serde_json::to_vec(&[method, path]).unwrap_or_default();
        line.push(b'\n');
        let mut f = self.lock();
        if f.total.is_multiple_of(STRIDE) {
            let at = f.bytes;
            f.index.push(at);
        }
        if let Err(e) = f.writer.write_all(&line)
            && !f.failed
        {
            tracing::error!(error = %e, "cannot write the request log");
            f.failed = true;
        }
        f.total += 1;
        f.bytes += line.len() as u64;
    }

    /// Calls recorded so far.
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Where to start reading for line `offset`, and how many lines to skip
    /// from there; flushes the writer so the file holds every line up to `total`.
    fn seek_point(&self, offset: u64) -> std::io::Result<(u64, u64, u64)> {
        let mut f = self.lock();
        f.writer.flush()?;
        let offset = offset.min(f.total);
        let k = offset / STRIDE;
        let start = f.index.get(k as usize).copied().unwrap_or(f.bytes);
        Ok((f.total, start, offset - k * STRIDE))
    }
}

/// Records every call that passes (used on the `/api` routes).
pub async fn record_calls(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state
        .requests
        .record(req.method().as_str(), req.uri().path());
    next.run(req).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// Index of the first call to show (default 0).
    #[param(value_type = Option<u64>)]
    pub offset: Option<String>,
    /// Most calls to show (default: all).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
}

fn parse_count(field: &'static str, v: Option<&str>) -> ApiResult<Option<u64>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<u64>()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "must be a whole number, 0 or more")),
    }
}

/// The request log of this API instance: every API call since it started,
/// in arrival order, with the database statements it has sent.
#[utoipa::path(get, path = "/logs", tag = "operations",
    params(LogsQuery),
    responses((status = 200, description = "`{instance, started_at, total, db: {reads, writes}, offset, calls: [[METHOD, PATH], ...]}`")))]
pub async fn logs(
    State(state): State<AppState>,
    Query(q): Query<LogsQuery>,
) -> ApiResult<Response> {
    let offset = parse_count("offset", q.offset.as_deref())?.unwrap_or(0);
    let limit = parse_count("limit", q.limit.as_deref())?;
    let log = state.requests.clone();
    let (total, start, skip) = log
        .seek_point(offset)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let first = offset.min(total);
    let count = limit.map_or(total - first, |l| l.min(total - first));
    let db = state.store.db_counts();
    let head = head_json(&log, total, db, first);
    let path = log.inner.path.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || stream_lines(&path, start, skip, count, head, &tx));
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

fn head_json(log: &RequestLog, total: u64, db: DbCounts, offset: u64) -> String {
    let instance = serde_json::to_string(&log.inner.instance).unwrap_or_default();
    format!(
        "{{\"instance\":{instance},\"started_at\":\"{}\",\"total\":{total},\"db\":{{\"reads\":{},\"writes\":{}}},\"offset\":{offset},\"calls\":[",
        log.inner
            .started_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        db.reads,
        db.writes,
    )
}

/// Sends `head`, then `count` lines from byte `start` (after skipping
/// `skip` lines) joined by commas, then the closing brackets.
fn stream_lines(
    path: &Path,
    start: u64,
    skip: u64,
    count: u64,
    head: String,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    let send = |chunk: Vec<u8>| tx.blocking_send(Ok(Bytes::from(chunk))).is_ok();
    let result = (|| -> std::io::Result<()> {
        let mut chunk = head.into_bytes();
        if count > 0 {
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(start))?;
            let mut reader = BufReader::with_capacity(CHUNK, file);
            let mut line = Vec::new();
            for _ in 0..skip {
                line.clear();
                reader.read_until(b'\n', &mut line)?;
            }
            for i in 0..count {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                if i > 0 {
                    chunk.push(b',');
                }
                chunk.extend_from_slice(&line);
                if chunk.len() >= CHUNK && !send(std::mem::take(&mut chunk)) {
                    return Ok(()); // the client went away
                }
            }
        }
        chunk.extend_from_slice(b"]}");
        send(chunk);
        Ok(())
    })();
    if let Err(e) = result {
        tracing::error!(error = %e, "reading the request log");
        let _ = tx.blocking_send(Err(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(log: &RequestLog, offset: u64, count: u64) -> String {
        let (total, start, skip) = log.seek_point(offset).expect("seek");
        let count = count.min(total - offset.min(total));
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        stream_lines(&log.inner.path, start, skip, count, "[".into(), &tx);
        drop(tx);
        let mut out = Vec::new();
        while let Some(Ok(c)) = rx.blocking_recv() {
            out.extend_from_slice(&c);
        }
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn pages_through_calls_in_order_across_index_strides() {
        let dir = tempfile::tempdir().expect("dir");
        let log = RequestLog::create(&dir.path().join("r.log"), "t".into()).expect("log");
        for i in 0..3000 {
            log.record("GET", &format!("/api/tweets/{i}"));
        }
        assert_eq!(log.total(), 3000);
        let page = read_all(&log, 2047, 3);
        assert_eq!(
            page,
            r#"[["GET","/api/tweets/2047"],["GET","/api/tweets/2048"],["GET","/api/tweets/2049"]]}"#
        );
        assert_eq!(read_all(&log, 5000, 10), "[]}");
        let all: serde_json::Value =
            serde_json::from_str(&format!("{{\"x\":{}", read_all(&log, 0, u64::MAX)))
                .expect("json");
        assert_eq!(all["x"].as_array().map(Vec::len), Some(3000));
    }

    #[test]
    fn paths_are_json_escaped() {
        let dir = tempfile::tempdir().expect("dir");
        let log = RequestLog::create(&dir.path().join("r.log"), "t".into()).expect("log");
        log.record("GET", "/api/accounts/\"quoted\"");
        assert_eq!(
            read_all(&log, 0, 1),
            r#"[["GET","/api/accounts/\"quoted\""]]}"#
        );
    }
}
