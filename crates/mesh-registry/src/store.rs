//! Where `_schemas` records live: the [`SchemaStore`] trait, an in-memory store (tests,
//! throwaway registries) and the on-disk append-only log used without Kafka.
//!
//! On-disk layout (`<data_dir>/schemas.log`): a sequence of frames
//! `[u32 LE payload length][u32 LE crc32 of payload][payload]`, where the payload is
//! `[u32 LE key length][key bytes][u8 has_value][value bytes]` — the same key/value bytes as the
//! Kafka topic, so the log exports to `_schemas` record for record. An append writes all frames
//! of a batch with one `write_all` and `fsync`s before returning, so an acknowledged write
//! survives `kill -9` and power loss. A crash mid-append leaves a torn tail (short frame or bad
//! CRC); `load` stops at the first bad frame, truncates the file there and fsyncs, so the next
//! append starts on a clean boundary. Nothing acknowledged can be in a torn tail, because the
//! acknowledgement only happens after the fsync of the whole batch.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::model::Record;

/// Failure of the storage layer (surfaced to clients as 50001).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Decode(#[from] crate::model::DecodeError),
    /// The Kafka log failed (not a timeout).
    #[error("Kafka: {0}")]
    Kafka(String),
    /// No acknowledgement, or the log was not read back, within the write timeout (50002).
    #[error("operation timed out: {0}")]
    Timeout(String),
    /// Another instance's write took what this one claimed (a version or an id) and the write
    /// is not retried automatically.
    #[error("a concurrent write on another instance conflicted; retry")]
    Conflict,
}

/// Durable storage of `_schemas` records, replayed in order at start.
pub trait SchemaStore: Send + Sync + std::fmt::Debug {
    /// Every record, oldest first.
    fn load(&self) -> Result<Vec<Record>, StoreError>;
    /// Every record, oldest first, handed to `f` one at a time (what `load` returns, without
    /// holding all of them at once: the registry's start replays this way).
    fn replay(&self, f: &mut dyn FnMut(Record)) -> Result<(), StoreError> {
        self.load()?.into_iter().for_each(f);
        Ok(())
    }
    /// Appends `records` in order; durable when this returns `Ok`. Callers serialize appends.
    fn append(&self, records: &[Record]) -> Result<(), StoreError>;
}

/// Records kept in a `Vec`: nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<Vec<Record>>,
}

impl SchemaStore for MemoryStore {
    fn load(&self) -> Result<Vec<Record>, StoreError> {
        Ok(self
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }

    fn append(&self, records: &[Record]) -> Result<(), StoreError> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(records);
        Ok(())
    }
}

/// The append-only, CRC-framed log file described in the module docs.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    file: Mutex<File>,
}

const HEADER: usize = 8;

impl FileStore {
    /// Opens (creating if needed) `dir/schemas.log`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("schemas.log");
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        // Make the file's directory entry durable too, or a fresh log could vanish on a crash.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(Self {
            path,
            file: Mutex::new(file),
        })
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// One frame for one record.
    pub fn frame(record: &Record) -> Vec<u8> {
        let (key, value) = record.encode();
        let mut payload = Vec::with_capacity(key.len() + value.as_ref().map_or(0, Vec::len) + 5);
        payload.extend_from_slice(&(key.len() as u32).to_le_bytes());
        payload.extend_from_slice(&key);
        match value {
            Some(v) => {
                payload.push(1);
                payload.extend_from_slice(&v);
            }
            None => payload.push(0),
        }
        let mut out = Vec::with_capacity(payload.len() + HEADER);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }
}

/// Splits a payload into key and value; `None` if its structure is inconsistent.
fn split_payload(payload: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let klen = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    let key = payload.get(4..4 + klen)?;
    match payload.get(4 + klen)? {
        0 => Some((key, None)),
        1 => Some((key, Some(&payload[5 + klen..]))),
        _ => None,
    }
}

impl SchemaStore for FileStore {
    fn load(&self) -> Result<Vec<Record>, StoreError> {
        let mut records = Vec::new();
        self.replay(&mut |r| records.push(r))?;
        Ok(records)
    }

    fn replay(&self, f: &mut dyn FnMut(Record)) -> Result<(), StoreError> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
        file.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
        let mut pos = 0usize;
        // Walk frames; the first incomplete or corrupt one marks the torn tail.
        while pos < bytes.len() {
            let Some(header) = bytes.get(pos..pos + HEADER) else {
                break;
            };
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let Some(payload) = bytes.get(pos + HEADER..pos + HEADER + len) else {
                break;
            };
            if crc32fast::hash(payload) != crc {
                break;
            }
            let Some((key, value)) = split_payload(payload) else {
                break;
            };
            // A frame with a valid CRC that does not decode was written by an incompatible
            // program: refuse to start rather than silently drop acknowledged state.
            if let Some(r) = Record::decode(key, value)? {
                f(r);
            }
            pos += HEADER + len;
        }
        if pos < bytes.len() {
            tracing::warn!(
                path = %self.path.display(),
                valid_bytes = pos,
                torn_bytes = bytes.len() - pos,
                "truncating torn tail of the registry log (crash during an unacknowledged write)"
            );
            file.set_len(pos as u64).map_err(|e| self.io(e))?;
            file.sync_all().map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    fn append(&self, records: &[Record]) -> Result<(), StoreError> {
        let buf: Vec<u8> = records.iter().flat_map(Self::frame).collect();
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(&buf).map_err(|e| self.io(e))?;
        // fdatasync is enough: the length change is data-relevant metadata and is included.
        file.sync_data().map_err(|e| self.io(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Mode, ModeValue};

    fn mode(subject: &str) -> Record {
        Record::Mode {
            subject: Some(subject.into()),
            value: Some(ModeValue {
                subject: Some(subject.into()),
                mode: Mode::Readonly,
            }),
        }
    }

    #[test]
    fn memory_store_keeps_order() {
        let s = MemoryStore::default();
        s.append(&[mode("a"), mode("b")]).unwrap();
        s.append(&[Record::Noop]).unwrap();
        assert_eq!(s.load().unwrap(), vec![mode("a"), mode("b"), Record::Noop]);
    }

    #[test]
    fn file_store_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = FileStore::open(dir.path()).unwrap();
            assert!(s.load().unwrap().is_empty());
            s.append(&[mode("a")]).unwrap();
            s.append(&[mode("b"), Record::Noop]).unwrap();
        }
        let s = FileStore::open(dir.path()).unwrap();
        assert_eq!(s.load().unwrap(), vec![mode("a"), mode("b"), Record::Noop]);
    }

    #[test]
    fn torn_tail_is_detected_and_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemas.log");
        {
            let s = FileStore::open(dir.path()).unwrap();
            s.append(&[mode("a"), mode("b")]).unwrap();
        }
        let good_len = std::fs::metadata(&path).unwrap().len();
        // A crash mid-append: half of the next frame reached the disk.
        let frame = FileStore::frame(&mode("c"));
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&frame[..frame.len() / 2]).unwrap();
        drop(f);
        let s = FileStore::open(dir.path()).unwrap();
        assert_eq!(s.load().unwrap(), vec![mode("a"), mode("b")]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
        // The next append lands on a clean boundary and is readable.
        s.append(&[mode("d")]).unwrap();
        drop(s);
        let s = FileStore::open(dir.path()).unwrap();
        assert_eq!(s.load().unwrap(), vec![mode("a"), mode("b"), mode("d")]);
    }

    #[test]
    fn corrupted_tail_frame_fails_its_crc_and_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemas.log");
        {
            let s = FileStore::open(dir.path()).unwrap();
            s.append(&[mode("a"), mode("b")]).unwrap();
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xff; // flip a byte in the last frame's payload
        std::fs::write(&path, &bytes).unwrap();
        let s = FileStore::open(dir.path()).unwrap();
        assert_eq!(s.load().unwrap(), vec![mode("a")]);
    }
}
