//! The request log behind `GET /logs` (SPEC §1.5): every API call since the
//! instance started, in arrival order, as `["METHOD", "/path"]`.
//!
//! Calls go to append-only files (one JSON array per line), not memory, so
//! the log can cover billions of calls. Memory holds only the byte offset
//! of every 1024th line, so `?offset=` can seek instead of scanning (8 bytes
//! per 1024 calls). `/logs` streams the files with async reads, so a client
//! that stops reading holds no thread, only its connection (which the
//! server's write timeout closes).
//!
//! Bounded on disk, whatever clients send:
//! * a path is recorded up to [`MAX_PATH`] bytes; a longer one is cut at a
//!   character boundary and ends in `…`;
//! * the log is kept in two segment files (`NAME.0`, `NAME.1`, ...), each
//!   up to half of [`RequestLog::with_limit`]'s `max_bytes`; when the newer
//!   one is full the older is deleted. The oldest calls are then gone:
//!   `total` still counts them, `dropped` says how many, and `?offset=`
//!   below `dropped` starts at the oldest call kept.
//!
//! Only method and path are kept: never the query string, a header, a
//! token or a body. The files are created readable by their owner only.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use chirp_app::DbCounts;
use chrono::{DateTime, SecondsFormat, Utc};
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, BufReader};

/// Lines between two entries of the offset index.
const STRIDE: u64 = 1024;
/// Bytes per chunk of a streamed `/logs` body.
const CHUNK: usize = 64 * 1024;
/// Longest path recorded, in bytes.
pub const MAX_PATH: usize = 512;
/// Default bound on the log's files together: 1 GiB, about 30 million calls.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// One file of the log.
#[derive(Debug)]
struct Segment {
    id: u64,
    /// Number (from 0 at start) of its first call.
    first: u64,
    lines: u64,
    bytes: u64,
    /// `index[k]` is the byte offset of its line `k * STRIDE`.
    index: Vec<u64>,
}

struct LogFile {
    writer: BufWriter<File>,
    /// Calls recorded since start, kept or not.
    total: u64,
    /// Oldest first; the last is being written.
    segments: VecDeque<Segment>,
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
    /// Segments are `{base}.{id}`.
    base: PathBuf,
    /// A segment is closed once it holds this many bytes.
    segment_bytes: u64,
    file: Mutex<LogFile>,
}

/// Where to read from for a page of calls: a segment, the byte to start
/// at, lines to skip from there, lines of it to send at most.
#[derive(Debug)]
struct Piece {
    path: PathBuf,
    start: u64,
    skip: u64,
    lines: u64,
}

/// A file for the owner alone (0600): paths tell what people read.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `path` cut to [`MAX_PATH`] bytes at a character boundary, marked `…`.
fn bounded(path: &str) -> std::borrow::Cow<'_, str> {
    if path.len() <= MAX_PATH {
        return path.into();
    }
    let mut end = MAX_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &path[..end]).into()
}

impl RequestLog {
    /// Starts an empty log at `base` (deleting the segments a previous run
    /// left), bounded to [`DEFAULT_MAX_BYTES`].
    pub fn create(base: &Path, instance: String) -> std::io::Result<Self> {
        Self::with_limit(base, instance, DEFAULT_MAX_BYTES)
    }

    /// Like [`RequestLog::create`], keeping at most about `max_bytes` on disk.
    pub fn with_limit(base: &Path, instance: String, max_bytes: u64) -> std::io::Result<Self> {
        if let Some(dir) = base.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
            remove_old_segments(dir, base)?;
        }
        let first = Segment {
            id: 0,
            first: 0,
            lines: 0,
            bytes: 0,
            index: Vec::new(),
        };
        let file = create_private(&segment_path(base, 0))?;
        Ok(Self {
            inner: Arc::new(Inner {
                instance,
                started_at: Utc::now(),
                base: base.to_owned(),
                segment_bytes: (max_bytes / 2).max(1),
                file: Mutex::new(LogFile {
                    writer: BufWriter::with_capacity(64 * 1024, file),
                    total: 0,
                    segments: VecDeque::from([first]),
                    failed: false,
                }),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, LogFile> {
        self.inner.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one call. Cheap: a buffered write under a short lock (and,
    /// once per segment, opening the next file and deleting the oldest).
    pub fn record(&self, method: &str, path: &str) {
        let mut line = serde_json::to_vec(&[method, &bounded(path)]).unwrap_or_default();
        line.push(b'\n');
        let mut f = self.lock();
        let full = f
            .segments
            .back()
            .is_some_and(|s| s.lines > 0 && s.bytes + line.len() as u64 > self.inner.segment_bytes);
        if full
            && let Err(e) = self.rotate(&mut f)
            && !f.failed
        {
            tracing::error!(error = %e, "cannot start the next request log segment");
            f.failed = true;
        }
        let write = f.writer.write_all(&line);
        if let Err(e) = write
            && !f.failed
        {
            tracing::error!(error = %e, "cannot write the request log");
            f.failed = true;
        }
        f.total += 1;
        if let Some(seg) = f.segments.back_mut() {
            if seg.lines.is_multiple_of(STRIDE) {
                seg.index.push(seg.bytes);
            }
            seg.lines += 1;
            seg.bytes += line.len() as u64;
        }
    }

    /// Starts the next segment and deletes all but the two newest.
    fn rotate(&self, f: &mut LogFile) -> std::io::Result<()> {
        f.writer.flush()?;
        let id = f.segments.back().map_or(0, |s| s.id + 1);
        let file = create_private(&segment_path(&self.inner.base, id))?;
        f.writer = BufWriter::with_capacity(64 * 1024, file);
        f.segments.push_back(Segment {
            id,
            first: f.total,
            lines: 0,
            bytes: 0,
            index: Vec::new(),
        });
        while f.segments.len() > 2 {
            if let Some(old) = f.segments.pop_front() {
                // A reader that has it open keeps reading; later readers
                // start at the next segment.
                std::fs::remove_file(segment_path(&self.inner.base, old.id))?;
            }
        }
        Ok(())
    }

    /// Calls recorded so far.
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Bytes the kept segments hold.
    pub fn kept_bytes(&self) -> u64 {
        self.lock().segments.iter().map(|s| s.bytes).sum()
    }

    /// Flushes the writer and plans a read from call `offset`: the total,
    /// the first call kept, and where to read.
    fn plan(&self, offset: u64) -> std::io::Result<(u64, u64, VecDeque<Piece>)> {
        let mut f = self.lock();
        f.writer.flush()?;
        let dropped = f.segments.front().map_or(f.total, |s| s.first);
        let mut at = offset.clamp(dropped, f.total);
        let mut pieces = VecDeque::new();
        for seg in &f.segments {
            let end = seg.first + seg.lines;
            if at >= end {
                continue;
            }
            let local = at - seg.first;
            let k = local / STRIDE;
            let start = seg.index.get(k as usize).copied().unwrap_or(seg.bytes);
            pieces.push_back(Piece {
                path: segment_path(&self.inner.base, seg.id),
                start,
                skip: local - k * STRIDE,
                lines: end - at,
            });
            at = end;
        }
        Ok((f.total, dropped, pieces))
    }
}

fn segment_path(base: &Path, id: u64) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(format!(".{id}"));
    PathBuf::from(name)
}

/// Deletes `{base}.{n}` files left by an earlier run.
fn remove_old_segments(dir: &Path, base: &Path) -> std::io::Result<()> {
    let Some(stem) = base.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let old = name
            .to_str()
            .and_then(|n| n.strip_prefix(stem)?.strip_prefix('.'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if old {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

impl RequestLog {
    /// The body of a `/logs` answer from call `offset` on (at most `limit`
    /// calls), read from the files a chunk at a time as the client takes it.
    pub fn answer(&self, offset: u64, limit: Option<u64>, db: DbCounts) -> std::io::Result<Body> {
        let (total, dropped, pieces) = self.plan(offset)?;
        let first = offset.clamp(dropped, total);
        let count = limit.map_or(total - first, |l| l.min(total - first));
        let head = head_json(self, total, dropped, db, first);
        let reader = Lines::new(head, pieces, count);
        Ok(Body::from_stream(futures_util::stream::unfold(
            reader,
            |mut r| async move { r.next_chunk().await.map(|chunk| (chunk, r)) },
        )))
    }
}

fn head_json(log: &RequestLog, total: u64, dropped: u64, db: DbCounts, offset: u64) -> String {
    let instance = serde_json::to_string(&log.inner.instance).unwrap_or_default();
    format!(
        "{{\"instance\":{instance},\"started_at\":\"{}\",\"total\":{total},\"dropped\":{dropped},\"db\":{{\"reads\":{},\"writes\":{}}},\"offset\":{offset},\"calls\":[",
        log.inner
            .started_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        db.reads,
        db.writes,
    )
}

/// The body of a `/logs` answer, read a chunk at a time as the client
/// takes it: `head`, then `remaining` lines from `pieces` joined by commas,
/// then the closing brackets.
struct Lines {
    head: Option<String>,
    pieces: VecDeque<Piece>,
    remaining: u64,
    /// The segment being read and how many of its lines may still be sent.
    current: Option<(BufReader<tokio::fs::File>, u64)>,
    first: bool,
    finished: bool,
}

impl Lines {
    fn new(head: String, pieces: VecDeque<Piece>, remaining: u64) -> Self {
        Self {
            head: Some(head),
            pieces,
            remaining,
            current: None,
            first: true,
            finished: false,
        }
    }

    async fn next_chunk(&mut self) -> Option<std::io::Result<Bytes>> {
        if self.finished {
            return None;
        }
        let mut chunk = self.head.take().map(String::into_bytes).unwrap_or_default();
        match self.fill(&mut chunk).await {
            Ok(true) => {
                chunk.extend_from_slice(b"]}");
                self.finished = true;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "reading the request log");
                self.finished = true;
                return Some(Err(e));
            }
        }
        Some(Ok(Bytes::from(chunk)))
    }

    /// Appends lines until the chunk is full (`false`) or all are sent (`true`).
    async fn fill(&mut self, chunk: &mut Vec<u8>) -> std::io::Result<bool> {
        let mut line = Vec::new();
        while self.remaining > 0 {
            let Some((reader, left)) = self.current.as_mut().filter(|(_, left)| *left > 0) else {
                let Some(piece) = self.pieces.pop_front() else {
                    return Ok(true);
                };
                self.current = open_piece(&piece).await?;
                continue;
            };
            line.clear();
            if reader.read_until(b'\n', &mut line).await? == 0 {
                self.current = None; // shorter than planned: go on with the next
                continue;
            }
            *left -= 1;
            self.remaining -= 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if !std::mem::replace(&mut self.first, false) {
                chunk.push(b',');
            }
            chunk.extend_from_slice(&line);
            if chunk.len() >= CHUNK {
                return Ok(self.remaining == 0);
            }
        }
        Ok(true)
    }
}

/// Opens a segment at its piece's start; `None` when it was deleted since
/// the read was planned (the calls in it are gone).
async fn open_piece(piece: &Piece) -> std::io::Result<Option<(BufReader<tokio::fs::File>, u64)>> {
    let mut file = match tokio::fs::File::open(&piece.path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(piece.start)).await?;
    let mut reader = BufReader::with_capacity(CHUNK, file);
    let mut line = Vec::new();
    for _ in 0..piece.skip {
        line.clear();
        reader.read_until(b'\n', &mut line).await?;
    }
    Ok(Some((reader, piece.lines)))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(log: &RequestLog, offset: u64, count: u64) -> String {
        let (total, dropped, pieces) = log.plan(offset).expect("plan");
        let count = count.min(total - offset.clamp(dropped, total));
        let mut lines = Lines::new("[".into(), pieces, count);
        let mut out = Vec::new();
        while let Some(chunk) = lines.next_chunk().await {
            out.extend_from_slice(&chunk.expect("chunk"));
        }
        String::from_utf8(out).expect("utf8")
    }

    fn log_in(dir: &tempfile::TempDir, max_bytes: u64) -> RequestLog {
        RequestLog::with_limit(&dir.path().join("r.log"), "t".into(), max_bytes).expect("log")
    }

    #[tokio::test]
    async fn pages_through_calls_in_order_across_index_strides() {
        let dir = tempfile::tempdir().expect("dir");
        let log = log_in(&dir, DEFAULT_MAX_BYTES);
        for i in 0..3000 {
            log.record("GET", &format!("/api/tweets/{i}"));
        }
        assert_eq!(log.total(), 3000);
        let page = read_all(&log, 2047, 3).await;
        assert_eq!(
            page,
            r#"[["GET","/api/tweets/2047"],["GET","/api/tweets/2048"],["GET","/api/tweets/2049"]]}"#
        );
        assert_eq!(read_all(&log, 5000, 10).await, "[]}");
        let all: serde_json::Value =
            serde_json::from_str(&format!("{{\"x\":{}", read_all(&log, 0, u64::MAX).await))
                .expect("json");
        assert_eq!(all["x"].as_array().map(Vec::len), Some(3000));
    }

    #[tokio::test]
    async fn paths_are_json_escaped() {
        let dir = tempfile::tempdir().expect("dir");
        let log = log_in(&dir, DEFAULT_MAX_BYTES);
        log.record("GET", "/api/accounts/\"quoted\"");
        assert_eq!(
            read_all(&log, 0, 1).await,
            r#"[["GET","/api/accounts/\"quoted\""]]}"#
        );
    }

    #[tokio::test]
    async fn long_paths_are_cut_at_a_character_boundary() {
        let dir = tempfile::tempdir().expect("dir");
        let log = log_in(&dir, DEFAULT_MAX_BYTES);
        let long = format!("/api/accounts/{}", "é".repeat(40_000));
        log.record("GET", &long);
        let page: serde_json::Value =
            serde_json::from_str(&read_all(&log, 0, 1).await.replace("]}", "]")).expect("json");
        let path = page[0][1].as_str().expect("path");
        assert!(
            path.len() <= MAX_PATH + '…'.len_utf8(),
            "{} bytes kept",
            path.len()
        );
        assert!(path.starts_with("/api/accounts/é") && path.ends_with('…'));
    }

    #[tokio::test]
    async fn the_log_is_bounded_on_disk_and_keeps_the_newest_calls() {
        let dir = tempfile::tempdir().expect("dir");
        let log = log_in(&dir, 64 * 1024);
        for i in 0..20_000 {
            log.record("GET", &format!("/api/tweets/{i}"));
        }
        assert_eq!(log.total(), 20_000);
        assert!(
            log.kept_bytes() <= 64 * 1024,
            "{} bytes kept",
            log.kept_bytes()
        );
        let on_disk: u64 = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").metadata().expect("meta").len())
            .sum();
        assert!(on_disk <= 64 * 1024, "{on_disk} bytes on disk");
        let (_, dropped, _) = log.plan(0).expect("plan");
        assert!(dropped > 0 && dropped < 20_000);
        // Reading from 0 starts at the oldest call kept and ends at the newest.
        let all: serde_json::Value =
            serde_json::from_str(&format!("{{\"x\":{}", read_all(&log, 0, u64::MAX).await))
                .expect("json");
        let calls = all["x"].as_array().expect("calls");
        assert_eq!(calls.len() as u64, 20_000 - dropped);
        assert_eq!(calls[0][1], format!("/api/tweets/{dropped}"));
        assert_eq!(calls[calls.len() - 1][1], "/api/tweets/19999");
    }

    #[cfg(unix)]
    #[test]
    fn log_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let _log = log_in(&dir, DEFAULT_MAX_BYTES);
        let mode = std::fs::metadata(dir.path().join("r.log.0"))
            .expect("segment")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
