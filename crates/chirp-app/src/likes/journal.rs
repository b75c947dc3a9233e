//! The like journal: an append-only file that makes a 202 a promise.
//!
//! A like is acknowledged only once its record is in this file (written, and
//! by default `fdatasync`ed, in groups: every like that arrives while one
//! group is being written goes out in the next). The file describes the
//! batcher's state, so replaying it after a crash rebuilds exactly what was
//! pending:
//!
//! | record | meaning |
//! | --- | --- |
//! | `Like(tweet, n)` | `n` more likes are pending for `tweet` |
//! | `Begin(batch, [(tweet, n)])` | these likes left "pending" for batch `batch`, about to be applied to the database |
//! | `Done(batch)` | batch `batch` is in the database |
//!
//! A `Begin` without its `Done` means "maybe applied": replay applies it
//! again under the same batch id, and the database's record of applied batch
//! ids makes the second application a no-op. So after any crash, every
//! acknowledged like is counted exactly once.
//!
//! The file is compacted by rewriting it as a snapshot of the current state
//! (one `Like` per pending tweet, one `Begin` per batch in flight) and
//! renaming it over the old one.
//!
//! Encoding: little-endian, a one-byte tag, then fixed fields. A record cut
//! short by a crash mid-write ends the replay at the last whole record.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const LIKE: u8 = 1;
const BEGIN: u8 = 2;
const DONE: u8 = 3;

/// Appends a `Like` record.
pub fn encode_like(buf: &mut Vec<u8>, tweet: i64, n: i64) {
    buf.push(LIKE);
    buf.extend_from_slice(&tweet.to_le_bytes());
    buf.extend_from_slice(&n.to_le_bytes());
}

/// Appends a `Begin` record.
pub fn encode_begin(buf: &mut Vec<u8>, batch: u64, likes: &[(i64, i64)]) {
    buf.push(BEGIN);
    buf.extend_from_slice(&batch.to_le_bytes());
    buf.extend_from_slice(&(likes.len() as u64).to_le_bytes());
    for (tweet, n) in likes {
        buf.extend_from_slice(&tweet.to_le_bytes());
        buf.extend_from_slice(&n.to_le_bytes());
    }
}

/// Appends a `Done` record.
pub fn encode_done(buf: &mut Vec<u8>, batch: u64) {
    buf.push(DONE);
    buf.extend_from_slice(&batch.to_le_bytes());
}

/// What a journal says, once replayed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Likes not yet in any batch, per tweet.
    pub pending: HashMap<i64, i64>,
    /// Batches begun but not known to be done, by batch number.
    pub in_doubt: Vec<(u64, Vec<(i64, i64)>)>,
    /// Highest batch number seen, so new batches get fresh numbers.
    pub last_batch: u64,
    /// Whole records read.
    pub records: u64,
    /// Bytes at the end that were not a whole record (a torn write).
    pub torn_bytes: usize,
}

fn take<const N: usize>(data: &[u8], at: &mut usize) -> Option<[u8; N]> {
    let bytes = data.get(*at..*at + N)?;
    *at += N;
    bytes.try_into().ok()
}

fn take_i64(data: &[u8], at: &mut usize) -> Option<i64> {
    take::<8>(data, at).map(i64::from_le_bytes)
}

fn take_u64(data: &[u8], at: &mut usize) -> Option<u64> {
    take::<8>(data, at).map(u64::from_le_bytes)
}

/// Replays journal bytes into the state they describe.
pub fn replay(data: &[u8]) -> Result<Replayed, io::Error> {
    let mut out = Replayed::default();
    let mut doubt: Vec<(u64, Vec<(i64, i64)>)> = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let start = at;
        let tag = data[at];
        at += 1;
        let whole = match tag {
            LIKE => take_i64(data, &mut at)
                .zip(take_i64(data, &mut at))
                .map(|(tweet, n)| {
                    *out.pending.entry(tweet).or_default() += n;
                }),
            BEGIN => (|| {
                let batch = take_u64(data, &mut at)?;
                let len = take_u64(data, &mut at)?;
                // A length that cannot fit in what is left is a torn record.
                if len > (data.len() as u64) / 16 + 1 {
                    return None;
                }
                let mut likes = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    likes.push((take_i64(data, &mut at)?, take_i64(data, &mut at)?));
                }
                Some((batch, likes))
            })()
            .map(|(batch, likes)| {
                for (tweet, n) in &likes {
                    *out.pending.entry(*tweet).or_default() -= n;
                }
                out.last_batch = out.last_batch.max(batch);
                doubt.push((batch, likes));
            }),
            DONE => take_u64(data, &mut at).map(|batch| {
                doubt.retain(|(b, _)| *b != batch);
            }),
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("like journal: unknown record tag {other} at byte {start}"),
                ));
            }
        };
        if whole.is_none() {
            out.torn_bytes = data.len() - start;
            break;
        }
        out.records += 1;
    }
    out.pending.retain(|_, n| *n != 0);
    out.in_doubt = doubt;
    Ok(out)
}

/// The open journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Whether each group is `fdatasync`ed (survives power loss) or only
    /// written (survives a process crash).
    sync: bool,
    /// Bytes in the file, to know when to compact.
    len: u64,
}

/// Files the journal creates are its owner's alone (0600).
fn private(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

impl Journal {
    /// Opens (creating if needed) and locks the journal, returning it with
    /// its current contents. The lock stops two processes sharing one file.
    pub fn open(path: &Path, sync: bool) -> io::Result<(Self, Vec<u8>)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file =
            private(OpenOptions::new().read(true).append(true).create(true)).open(path)?;
        file.try_lock().map_err(|_| {
            io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "{} is in use by another chirp process; give each instance its own CHIRP_LIKES_JOURNAL",
                    path.display()
                ),
            )
        })?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let len = data.len() as u64;
        Ok((
            Self {
                path: path.to_owned(),
                file,
                sync,
                len,
            },
            data,
        ))
    }

    /// Appends a group of records; durable when this returns. On failure
    /// the file is cut back to where it was, so a retry cannot leave half a
    /// group in the middle of the journal.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let written = self.file.write_all(bytes).and_then(|()| {
            if self.sync {
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::Start(self.len));
            return Err(e);
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Bytes in the journal.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// Replaces the journal with `snapshot` atomically: written to a side
    /// file, synced, renamed over the journal, directory synced.
    pub fn compact(&mut self, snapshot: &[u8]) -> io::Result<()> {
        let tmp = self.path.with_extension("compacting");
        let mut file =
            private(OpenOptions::new().write(true).create(true).truncate(true)).open(&tmp)?;
        file.write_all(snapshot)?;
        file.sync_all()?;
        // Take the lock on the new file before it becomes the journal.
        file.try_lock()
            .map_err(|e| io::Error::other(format!("locking the compacted journal: {e}")))?;
        std::fs::rename(&tmp, &self.path)?;
        // The new file is the journal now; its offset is already at the end,
        // and we are its only writer, so appends simply continue.
        self.file = file;
        self.len = snapshot.len() as u64;
        // Make the rename itself durable. If this fails the rename has still
        // happened for every process, so it is not an error of compaction.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = File::open(dir).and_then(|d| d.sync_all())
        {
            tracing::warn!(error = %e, "cannot sync the journal's directory");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likes_add_up_per_tweet() {
        let mut b = Vec::new();
        encode_like(&mut b, 7, 1);
        encode_like(&mut b, 7, 1);
        encode_like(&mut b, 9, 5);
        let r = replay(&b).expect("replay");
        assert_eq!(r.pending, HashMap::from([(7, 2), (9, 5)]));
        assert_eq!(r.records, 3);
        assert!(r.in_doubt.is_empty());
    }

    #[test]
    fn a_begun_batch_leaves_pending_and_stays_in_doubt_until_done() {
        let mut b = Vec::new();
        encode_like(&mut b, 7, 12);
        encode_like(&mut b, 8, 3);
        encode_begin(&mut b, 4, &[(7, 12)]);
        encode_like(&mut b, 7, 1);
        let r = replay(&b).expect("replay");
        assert_eq!(r.pending, HashMap::from([(7, 1), (8, 3)]));
        assert_eq!(r.in_doubt, vec![(4, vec![(7, 12)])]);
        assert_eq!(r.last_batch, 4);

        encode_done(&mut b, 4);
        let r = replay(&b).expect("replay");
        assert!(r.in_doubt.is_empty());
        assert_eq!(r.pending, HashMap::from([(7, 1), (8, 3)]));
    }

    #[test]
    fn a_torn_tail_is_ignored() {
        let mut b = Vec::new();
        encode_like(&mut b, 7, 1);
        encode_begin(&mut b, 1, &[(7, 1), (8, 2)]);
        let whole = b.len();
        encode_like(&mut b, 9, 1);
        for cut in whole + 1..b.len() {
            let r = replay(&b[..cut]).expect("replay");
            assert_eq!(r.records, 2, "cut at {cut}");
            assert_eq!(r.torn_bytes, cut - whole);
        }
        // A Begin cut in its middle is torn too, not a shorter batch.
        let r = replay(&b[..whole - 3]).expect("replay");
        assert_eq!(r.records, 1);
        assert_eq!(r.pending, HashMap::from([(7, 1)]));
    }

    #[test]
    fn garbage_is_an_error_not_a_guess() {
        assert!(replay(&[42, 0, 0]).is_err());
    }

    #[test]
    fn compaction_replaces_the_file_and_appends_continue() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("likes.journal");
        let (mut j, data) = Journal::open(&path, true)?;
        assert!(data.is_empty());
        let mut b = Vec::new();
        for _ in 0..100 {
            encode_like(&mut b, 1, 1);
        }
        j.append(&b)?;
        let mut snap = Vec::new();
        encode_like(&mut snap, 1, 100);
        j.compact(&snap)?;
        let mut more = Vec::new();
        encode_like(&mut more, 2, 1);
        j.append(&more)?;
        assert_eq!(j.size(), (snap.len() + more.len()) as u64);
        drop(j);
        let (_, data) = Journal::open(&path, true)?;
        let r = replay(&data).expect("replay");
        assert_eq!(r.pending, HashMap::from([(1, 100), (2, 1)]));
        Ok(())
    }

    #[test]
    fn a_second_process_cannot_open_the_same_journal() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("likes.journal");
        let _first = Journal::open(&path, false)?;
        assert!(Journal::open(&path, false).is_err());
        Ok(())
    }
}
