//! Compatibility levels and the check of a new schema against a subject's existing versions.
//!
//! Confluent semantics (registry-api.md §2.1): BACKWARD = the new schema can read data written
//! with the previous one; FORWARD = the previous one can read data written with the new one;
//! FULL = both. The `_TRANSITIVE` variants check every existing version, the others only the
//! latest. NONE checks nothing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of Confluent's seven compatibility levels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityLevel {
    None,
    #[default]
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl CompatibilityLevel {
    pub const ALL: [Self; 7] = [
        Self::None,
        Self::Backward,
        Self::BackwardTransitive,
        Self::Forward,
        Self::ForwardTransitive,
        Self::Full,
        Self::FullTransitive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }

    fn checks_backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    fn checks_forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of the seven level names (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid compatibility level {0:?}; valid levels are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE"
)]
pub struct InvalidLevel(pub String);

impl FromStr for CompatibilityLevel {
    type Err = InvalidLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| InvalidLevel(s.to_owned()))
    }
}

/// One reason two schemas are incompatible, precise enough for `verbose=true`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incompatibility {
    /// Machine-readable kind, e.g. `READER_FIELD_MISSING_DEFAULT_VALUE`, `TYPE_CHANGED`.
    pub kind: String,
    /// Where in the schema, as a JSON-pointer-like path (`/fields/2/type`).
    pub path: String,
    /// What a person needs to fix it.
    pub message: String,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{kind:{}, path:'{}', message:'{}'}}",
            self.kind, self.path, self.message
        )
    }
}

/// A format's answer to "can `reader` read data written with `writer`?".
pub trait CanRead {
    /// Every reason `reader` cannot read what `writer` wrote; empty = it can.
    fn can_read(reader: &Self, writer: &Self) -> Vec<Incompatibility>;
}

/// Checks `new` against `existing` (oldest first) at `level`. Returns every incompatibility
/// found, each message prefixed with the version it conflicts with when several are checked.
pub fn check<S: CanRead>(
    level: CompatibilityLevel,
    new: &S,
    existing: &[(i32, &S)],
) -> Vec<Incompatibility> {
    let against: &[(i32, &S)] = if level.is_transitive() {
        existing
    } else {
        existing.last().map(std::slice::from_ref).unwrap_or(&[])
    };
    let mut out = Vec::new();
    for (version, old) in against {
        if level.checks_backward() {
            out.extend(S::can_read(new, old).into_iter().map(|mut i| {
                i.message = format!(
                    "{} (new schema reading data of version {version})",
                    i.message
                );
                i
            }));
        }
        if level.checks_forward() {
            out.extend(S::can_read(old, new).into_iter().map(|mut i| {
                i.message = format!(
                    "{} (version {version} reading data of the new schema)",
                    i.message
                );
                i
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy format for the level logic: a schema is a set of required field names; a reader
    /// can read a writer if the writer has every field the reader requires.
    struct Fields(Vec<&'static str>);

    impl CanRead for Fields {
        fn can_read(reader: &Self, writer: &Self) -> Vec<Incompatibility> {
            reader
                .0
                .iter()
                .filter(|f| !writer.0.contains(f))
                .map(|f| Incompatibility {
                    kind: "MISSING".into(),
                    path: format!("/{f}"),
                    message: format!("{f} missing"),
                })
                .collect()
        }
    }

    #[test]
    fn levels_parse_case_insensitively_and_round_trip() {
        for l in CompatibilityLevel::ALL {
            assert_eq!(l.as_str().parse::<CompatibilityLevel>(), Ok(l));
            assert_eq!(
                l.as_str().to_lowercase().parse::<CompatibilityLevel>(),
                Ok(l)
            );
        }
        assert!("BACKWARDS".parse::<CompatibilityLevel>().is_err());
    }

    #[test]
    fn transitive_levels_check_every_version_others_only_the_latest() {
        let v1 = Fields(vec!["a"]);
        let v2 = Fields(vec!["a", "b"]);
        let new = Fields(vec!["a", "b"]); // requires b: cannot read v1's data
        let existing = [(1, &v1), (2, &v2)];
        assert!(check(CompatibilityLevel::Backward, &new, &existing).is_empty());
        let t = check(CompatibilityLevel::BackwardTransitive, &new, &existing);
        assert_eq!(t.len(), 1);
        assert!(t[0].message.contains("version 1"), "{}", t[0]);
        // Forward: v2 reading new's data is fine; NONE checks nothing.
        assert!(check(CompatibilityLevel::Forward, &new, &existing).is_empty());
        assert!(check(CompatibilityLevel::None, &Fields(vec!["z"]), &existing).is_empty());
        // Full = both directions.
        let dropped = Fields(vec![]);
        assert_eq!(
            check(CompatibilityLevel::Full, &dropped, &existing).len(),
            2
        );
        assert!(check(CompatibilityLevel::Backward, &dropped, &existing).is_empty());
    }
}
