//! The local cache that keeps restarts fast: the graph plus the `_mesh.lineage` offsets it
//! reflects, written as one JSON file (temp file, fsync, rename). On start, a snapshot for the
//! same topic, partition count and cluster aliases is loaded and the replay resumes at its
//! offsets; anything else (missing, damaged, other config) falls back to a full replay, so the
//! topic stays the only source of truth and the cache can always be deleted.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::graph::{Graph, State, StateRef};
use crate::identity::Namespaces;

const FORMAT: u32 = 1;
const FILE: &str = "lineage-snapshot.json";

/// Where and for what the snapshot is kept.
#[derive(Clone, Debug)]
pub struct Cache {
    pub dir: PathBuf,
    /// The cluster-alias config the graph's namespaces were normalised with.
    pub clusters: String,
    pub interval: std::time::Duration,
}

impl Cache {
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }
}

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    topic: &'a str,
    clusters: &'a str,
    offsets: &'a [i64],
    graph: StateRef<'a>,
}

#[derive(Deserialize)]
struct Snapshot {
    format: u32,
    topic: String,
    clusters: String,
    offsets: Vec<i64>,
    graph: State,
}

/// Writes the graph and the offsets it reflects. Serialization holds the read lock (readers go
/// on; only the apply thread, which calls this, waits).
pub fn write(
    cache: &Cache,
    topic: &str,
    offsets: &[i64],
    graph: &RwLock<Graph>,
) -> std::io::Result<usize> {
    let bytes = {
        let g = graph
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        serde_json::to_vec(&SnapshotRef {
            format: FORMAT,
            topic,
            clusters: &cache.clusters,
            offsets,
            graph: g.state(),
        })
        .map_err(std::io::Error::other)?
    };
    std::fs::create_dir_all(&cache.dir)?;
    let tmp = cache.dir.join(format!("{FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, cache.path())?;
    Ok(bytes.len())
}

/// The snapshot's graph and offsets, if it matches `topic`, `partitions` and the aliases.
pub fn load(
    cache: &Cache,
    topic: &str,
    partitions: usize,
    namespaces: &Namespaces,
) -> Option<(Graph, Vec<i64>)> {
    let path = cache.path();
    let bytes = read(&path)?;
    let s: Snapshot = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable lineage snapshot");
            return None;
        }
    };
    if s.format != FORMAT
        || s.topic != topic
        || s.clusters != cache.clusters
        || s.offsets.len() != partitions
    {
        tracing::info!(path = %path.display(), "lineage snapshot is for another topic or config; replaying");
        return None;
    }
    let g = Graph::from_state(namespaces.clone(), s.graph)?;
    Some((g, s.offsets))
}

fn read(path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read lineage snapshot");
            None
        }
    }
}
