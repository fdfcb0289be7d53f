//! Export and import of a registry store in the `_schemas` record format (registry-api.md
//! §3.2), so another store (the on-disk one of another node, or a Kafka `_schemas` topic) can
//! take over with identical ids, versions, configs, modes and deletions.
//!
//! # File format
//!
//! JSON Lines (UTF-8, one record per line, `\n`-terminated), in log order:
//!
//! ```text
//! {"key":{"keytype":"SCHEMA","subject":"s","version":1,"magic":1},"value":{"subject":"s","version":1,"id":1,"schema":"\"int\"","deleted":false}}
//! {"key":{"keytype":"CONFIG","subject":"s","magic":0},"value":{"subject":"s","compatibilityLevel":"FULL"}}
//! {"key":{"keytype":"SCHEMA","subject":"s","version":1,"magic":1},"value":null}
//! ```
//!
//! `key` is the record key and `value` the record value exactly as Confluent writes them to
//! `_schemas` (keys in Confluent's property order; export writes the store's bytes verbatim),
//! `value: null` is a tombstone. Producing each line's `key` and `value` as a Kafka record's
//! key and value bytes, in file order, to a one-partition compacted topic yields a `_schemas`
//! topic that Confluent Schema Registry, Karapace and mesh replay to the same state.
//!
//! Import validates every line before writing anything: a line that is not such an object, or
//! whose key/value does not decode as a record of its keytype, fails the import naming the line;
//! records of keytypes this registry does not handle (ASSOC, CONTEXT, ...) are skipped and
//! counted, as replay skips them. The target store must be empty, and the import is atomic:
//! the records are written and fsynced to a new log that then replaces the empty one.
//!
//! Both work offline, on a store directory no registry is serving: [`lock_store_dir`] takes an
//! advisory lock on `<dir>/registry.lock`, which `mesh registry` and `mesh up` hold while they
//! serve that store, so a running registry is refused rather than read mid-write.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::Record;
use crate::store::{FileStore, SchemaStore, StoreError};

/// The lock file a process serving or transferring a store holds, in the store's directory.
pub const LOCK_FILE: &str = "registry.lock";
const LOG_FILE: &str = "schemas.log";
const IMPORT_DIR: &str = "import.tmp";

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the registry store in {dir} is in use (lock held on {}): stop the registry serving it first",
        dir.join(LOCK_FILE).display()
    )]
    Locked { dir: PathBuf },
    #[error("no registry store in {dir} (no {LOG_FILE})")]
    NoStore { dir: PathBuf },
    #[error(
        "the registry store in {dir} is not empty ({records} records); import only into an empty store"
    )]
    NotEmpty { dir: PathBuf, records: usize },
    #[error("{path} line {line}: {reason}")]
    BadLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TransferError + '_ {
    move |source| TransferError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Records per keytype (`SCHEMA`, `CONFIG`, ...), for reports.
pub type Counts = BTreeMap<String, usize>;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records written, per keytype.
    pub imported: Counts,
    /// Records of keytypes this registry does not handle, per keytype (skipped, as on replay).
    pub skipped: Counts,
}

/// Renders counts as `3 records (CONFIG 1, SCHEMA 2)`.
pub fn describe(counts: &Counts) -> String {
    let total: usize = counts.values().sum();
    let noun = if total == 1 { "record" } else { "records" };
    if counts.is_empty() {
        return format!("{total} {noun}");
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("{total} {noun} ({})", parts.join(", "))
}

fn keytype(r: &Record) -> &'static str {
    match r {
        Record::Schema { .. } => "SCHEMA",
        Record::Config { .. } => "CONFIG",
        Record::Mode { .. } => "MODE",
        Record::DeleteSubject { .. } => "DELETE_SUBJECT",
        Record::Noop => "NOOP",
    }
}

/// An advisory lock on a store directory (released on drop).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// Locks `dir` (creating it) for exclusive use, or fails with [`TransferError::Locked`].
pub fn lock_store_dir(dir: &Path) -> Result<StoreLock, TransferError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join(LOCK_FILE);
    let file = File::create(&path).map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(StoreLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(TransferError::Locked {
            dir: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
    }
}

/// Writes `records` as JSON Lines (module docs) to `out`; returns the counts per keytype.
pub fn write_records(records: &[Record], out: &mut impl Write) -> std::io::Result<Counts> {
    let mut counts = Counts::new();
    for r in records {
        let (key, value) = r.encode();
        // The store's bytes are JSON already: splice them in verbatim (key order preserved).
        out.write_all(b"{\"key\":")?;
        out.write_all(&key)?;
        out.write_all(b",\"value\":")?;
        out.write_all(value.as_deref().unwrap_or(b"null"))?;
        out.write_all(b"}\n")?;
        *counts.entry(keytype(r).to_owned()).or_default() += 1;
    }
    Ok(counts)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    key: serde_json::Map<String, serde_json::Value>,
    value: serde_json::Value,
}

/// Reads and validates a whole export (module docs). `path` only names the source in errors.
pub fn read_records(
    input: impl BufRead,
    path: &Path,
) -> Result<(Vec<Record>, ImportReport), TransferError> {
    let mut records = Vec::new();
    let mut report = ImportReport::default();
    for (i, line) in input.lines().enumerate() {
        let bad = |reason: String| TransferError::BadLine {
            path: path.to_path_buf(),
            line: i + 1,
            reason,
        };
        let line = line.map_err(io_err(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&line).map_err(|e| {
            bad(format!(
                "not a {{\"key\": <object>, \"value\": <JSON or null>}} line: {e}"
            ))
        })?;
        let key = serde_json::to_vec(&parsed.key).map_err(|e| bad(e.to_string()))?;
        let value = match &parsed.value {
            serde_json::Value::Null => None,
            v => Some(serde_json::to_vec(v).map_err(|e| bad(e.to_string()))?),
        };
        match Record::decode(&key, value.as_deref()).map_err(|e| bad(e.to_string()))? {
            Some(r) => {
                *report.imported.entry(keytype(&r).to_owned()).or_default() += 1;
                records.push(r);
            }
            None => {
                let kt = parsed.key.get("keytype").and_then(|k| k.as_str());
                *report
                    .skipped
                    .entry(kt.unwrap_or("?").to_owned())
                    .or_default() += 1;
            }
        }
    }
    Ok((records, report))
}

/// Exports the store in `dir` to `output` (replaced atomically); returns the counts.
pub fn export_dir(dir: &Path, output: &Path) -> Result<Counts, TransferError> {
    if !dir.join(LOG_FILE).is_file() {
        return Err(TransferError::NoStore {
            dir: dir.to_path_buf(),
        });
    }
    let _lock = lock_store_dir(dir)?;
    let records = FileStore::open(dir)?.load()?;
    let tmp = tmp_sibling(output);
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut out = BufWriter::new(file);
    let counts = write_records(&records, &mut out).map_err(io_err(&tmp))?;
    let file = out.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, output).map_err(io_err(output))?;
    Ok(counts)
}

/// Imports the export `input` into the empty (or absent) store in `dir`.
pub fn import_dir(dir: &Path, input: &Path) -> Result<ImportReport, TransferError> {
    let _lock = lock_store_dir(dir)?;
    let file = File::open(input).map_err(io_err(input))?;
    let (records, report) = read_records(BufReader::new(file), input)?;
    if dir.join(LOG_FILE).exists() {
        let existing = FileStore::open(dir)?.load()?.len();
        if existing > 0 {
            return Err(TransferError::NotEmpty {
                dir: dir.to_path_buf(),
                records: existing,
            });
        }
    }
    // Write the new log beside the store, then move it into place: all or nothing.
    let staging = dir.join(IMPORT_DIR);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    }
    {
        let store = FileStore::open(&staging)?;
        for chunk in records.chunks(10_000) {
            store.append(chunk)?;
        }
    }
    let target = dir.join(LOG_FILE);
    std::fs::rename(staging.join(LOG_FILE), &target).map_err(io_err(&target))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    Ok(report)
}

fn tmp_sibling(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, ConfigValue, SchemaValue};

    fn schema(subject: &str, version: i32, id: i32, deleted: bool) -> Record {
        Record::Schema {
            subject: subject.into(),
            version,
            value: Some(SchemaValue {
                subject: subject.into(),
                version,
                id,
                schema: "\"int\"".into(),
                deleted,
                schema_type: None,
                references: vec![],
                metadata: None,
                rule_set: None,
            }),
        }
    }

    fn sample() -> Vec<Record> {
        vec![
            schema("s", 1, 1, false),
            Record::Config {
                subject: None,
                value: Some(ConfigValue {
                    subject: None,
                    config: Config::default(),
                }),
            },
            schema("s", 1, 1, true),
            Record::Schema {
                subject: "s".into(),
                version: 1,
                value: None,
            },
            Record::DeleteSubject {
                subject: "t".into(),
                version: 3,
            },
            Record::Noop,
        ]
    }

    #[test]
    fn lines_are_confluent_keys_and_values() {
        let mut out = Vec::new();
        let counts = write_records(&sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"key":{"keytype":"SCHEMA","subject":"s","version":1,"magic":1},"value":{"subject":"s","version":1,"id":1,"schema":"\"int\"","deleted":false}}"#
        );
        assert_eq!(
            lines[1],
            r#"{"key":{"keytype":"CONFIG","magic":0},"value":{}}"#
        );
        assert_eq!(
            lines[3],
            r#"{"key":{"keytype":"SCHEMA","subject":"s","version":1,"magic":1},"value":null}"#
        );
        assert_eq!(
            describe(&counts),
            "6 records (CONFIG 1, DELETE_SUBJECT 1, NOOP 1, SCHEMA 3)"
        );
        let (back, report) = read_records(text.as_bytes(), Path::new("x")).unwrap();
        assert_eq!(back, sample());
        assert_eq!(report.imported, counts);
        assert!(report.skipped.is_empty());
    }

    #[test]
    fn import_validates_every_line_and_skips_unknown_keytypes() {
        let path = Path::new("in.jsonl");
        let good =
            r#"{"key":{"magic":0,"keytype":"MODE","subject":"s"},"value":{"mode":"READONLY"}}"#;
        let assoc = r#"{"key":{"keytype":"ASSOC","magic":0},"value":{"x":1}}"#;
        let input = format!("{good}\n\n{assoc}\n");
        let (records, report) = read_records(input.as_bytes(), path).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(describe(&report.skipped), "1 record (ASSOC 1)");
        for (bad, why) in [
            ("not json", "not a {\"key\""),
            (r#"{"key":{"keytype":"NOOP"}}"#, "missing field `value`"),
            (r#"{"key":"SCHEMA","value":null}"#, "not a {\"key\""),
            (
                r#"{"key":{"keytype":"NOOP"},"value":null,"x":1}"#,
                "unknown field",
            ),
            (
                r#"{"key":{"keytype":"SCHEMA","subject":"s"},"value":null}"#,
                "without version",
            ),
            (
                r#"{"key":{"keytype":"SCHEMA","subject":"s","version":1},"value":{"id":"x"}}"#,
                "undecodable",
            ),
        ] {
            let e = read_records(format!("{good}\n{bad}\n").as_bytes(), path).unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with("in.jsonl line 2: "), "{msg}");
            assert!(msg.contains(why), "{bad}: {msg}");
        }
    }

    #[test]
    fn export_then_import_reproduces_the_log_and_refuses_non_empty_or_locked_stores() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dst, file) = (
            tmp.path().join("src"),
            tmp.path().join("dst"),
            tmp.path().join("export.jsonl"),
        );
        assert!(matches!(
            export_dir(&src, &file),
            Err(TransferError::NoStore { .. })
        ));
        FileStore::open(&src).unwrap().append(&sample()).unwrap();
        let counts = export_dir(&src, &file).unwrap();
        assert_eq!(counts.values().sum::<usize>(), 6);
        let report = import_dir(&dst, &file).unwrap();
        assert_eq!(report.imported, counts);
        assert_eq!(FileStore::open(&dst).unwrap().load().unwrap(), sample());
        assert!(!dst.join(IMPORT_DIR).exists());

        let e = import_dir(&dst, &file).unwrap_err();
        assert!(e.to_string().contains("not empty (6 records)"), "{e}");
        let lock = lock_store_dir(&src).unwrap();
        let e = export_dir(&src, &file).unwrap_err();
        assert!(e.to_string().contains("is in use"), "{e}");
        drop(lock);
        export_dir(&src, &file).unwrap();
    }
}
