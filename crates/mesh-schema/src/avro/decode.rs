//! Strict Avro binary decoding into a borrowed [`Datum`] (for contract rules), or a JSON view.
//!
//! Strict means every byte is accounted for: a truncated datum, trailing bytes after the datum,
//! invalid UTF-8 in a string or map key, an out-of-range enum or union index, a non-canonical
//! boolean byte, a varint longer than its type allows, a negative length, or an `int` outside
//! 32 bits is an error naming the path where it happened (`$.items[2].price`). Some decoders
//! accept several of these silently; the gateway must not, or a corrupt record passes as valid.
//!
//! [`AvroSchema::decode_datum`] allocates one `Vec` per record, array and map and borrows
//! everything else; [`AvroSchema::decode`] turns that into the JSON view ([`Datum::to_json`]).

use serde_json::Value;

use super::datum::{Datum, Record};
use super::{AvroSchema, Kind, NodeId};

/// Nesting deeper than this is refused (recursive schemas must not overflow the stack).
const MAX_DEPTH: usize = 128;
/// Items of zero-byte types (null, empty records) allowed beyond the remaining input length.
const ZERO_SIZE_SLACK: i64 = 65_536;

/// Why a datum does not decode, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at {path}")]
pub struct DecodeError {
    /// JSONPath-like location (`$` = the datum itself).
    pub path: String,
    pub kind: DecodeErrorKind,
}

/// The kinds of decode failure (stable: the gateway reports them as violation codes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("datum truncated (needed {needed} more bytes)")]
    Truncated { needed: usize },
    #[error("{count} trailing bytes after the datum")]
    TrailingBytes { count: usize },
    #[error("invalid UTF-8 in string")]
    InvalidUtf8,
    #[error("enum index {index} out of range (0..{symbols})")]
    EnumIndex { index: i64, symbols: usize },
    #[error("union index {index} out of range (0..{branches})")]
    UnionIndex { index: i64, branches: usize },
    #[error("malformed varint")]
    BadVarint,
    #[error("int value {0} does not fit in 32 bits")]
    IntOverflow(i64),
    #[error("boolean byte {0} is neither 0 nor 1")]
    BadBoolean(u8),
    #[error("negative length {0}")]
    NegativeLength(i64),
    #[error("block count {0} exceeds the remaining input")]
    BlockTooLarge(i64),
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
}

impl DecodeErrorKind {
    /// A stable upper-case code for headers and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "TRUNCATED",
            Self::TrailingBytes { .. } => "TRAILING_BYTES",
            Self::InvalidUtf8 => "INVALID_UTF8",
            Self::EnumIndex { .. } => "ENUM_INDEX",
            Self::UnionIndex { .. } => "UNION_INDEX",
            Self::BadVarint => "BAD_VARINT",
            Self::IntOverflow(_) => "INT_OVERFLOW",
            Self::BadBoolean(_) => "BAD_BOOLEAN",
            Self::NegativeLength(_) => "NEGATIVE_LENGTH",
            Self::BlockTooLarge(_) => "BLOCK_TOO_LARGE",
            Self::TooDeep => "TOO_DEEP",
        }
    }
}

/// A path segment, collected while an error unwinds (no cost on the happy path).
enum Seg {
    Field(String),
    Index(usize),
    Key(String),
}

struct Failure {
    segs: Vec<Seg>,
    kind: DecodeErrorKind,
}

impl From<DecodeErrorKind> for Failure {
    fn from(kind: DecodeErrorKind) -> Self {
        Failure {
            segs: Vec::new(),
            kind,
        }
    }
}

type R<T> = Result<T, Failure>;

impl AvroSchema {
    /// Decodes one datum (the whole of `bytes`) strictly against this schema, as its JSON view.
    pub fn decode(&self, bytes: &[u8]) -> Result<Value, DecodeError> {
        self.decode_datum(bytes).map(|d| d.to_json())
    }

    /// Decodes one datum (the whole of `bytes`) strictly against this schema, borrowing strings
    /// from `bytes` and names from the schema.
    pub fn decode_datum<'a>(&'a self, bytes: &'a [u8]) -> Result<Datum<'a>, DecodeError> {
        let mut d = Decoder {
            schema: self,
            buf: bytes,
            pos: 0,
        };
        let result = d.value(self.root(), 0).and_then(|v| {
            let rest = bytes.len() - d.pos;
            if rest > 0 {
                Err(DecodeErrorKind::TrailingBytes { count: rest }.into())
            } else {
                Ok(v)
            }
        });
        result.map_err(|f| {
            let mut path = String::from("$");
            for seg in f.segs.iter().rev() {
                match seg {
                    Seg::Field(n) => {
                        path.push('.');
                        path.push_str(n);
                    }
                    Seg::Index(i) => path.push_str(&format!("[{i}]")),
                    Seg::Key(k) => path.push_str(&format!("[{k:?}]")),
                }
            }
            DecodeError { path, kind: f.kind }
        })
    }
}

struct Decoder<'a> {
    schema: &'a AvroSchema,
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.remaining() {
            return Err(DecodeErrorKind::Truncated {
                needed: n - self.remaining(),
            }
            .into());
        }
        let buf = self.buf;
        let s = &buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A zig-zag varint of at most `max_bytes` bytes (5 for int, 10 for long).
    fn varint(&mut self, max_bytes: usize) -> R<i64> {
        let mut raw: u64 = 0;
        for i in 0..max_bytes {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(DecodeErrorKind::Truncated { needed: 1 }.into());
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                // The 10th byte of a 64-bit varint may only carry the top bit.
                return Err(DecodeErrorKind::BadVarint.into());
            }
            raw |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64));
            }
        }
        Err(DecodeErrorKind::BadVarint.into())
    }

    fn long(&mut self) -> R<i64> {
        self.varint(10)
    }

    fn int(&mut self) -> R<i64> {
        let v = self.varint(5)?;
        if v < i64::from(i32::MIN) || v > i64::from(i32::MAX) {
            return Err(DecodeErrorKind::IntOverflow(v).into());
        }
        Ok(v)
    }

    fn length(&mut self) -> R<usize> {
        let n = self.long()?;
        if n < 0 {
            return Err(DecodeErrorKind::NegativeLength(n).into());
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> R<&'a str> {
        let n = self.length()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeErrorKind::InvalidUtf8.into())
    }

    /// Block count of an array or map: negative counts are followed by the block's byte size.
    fn block_count(&mut self) -> R<usize> {
        let mut n = self.long()?;
        if n < 0 {
            n = n.checked_neg().ok_or(DecodeErrorKind::BadVarint)?;
            self.length()?; // the block's size in bytes; only useful for skipping
        }
        if n > self.remaining() as i64 + ZERO_SIZE_SLACK {
            return Err(DecodeErrorKind::BlockTooLarge(n).into());
        }
        Ok(n as usize)
    }

    fn value(&mut self, id: NodeId, depth: usize) -> R<Datum<'a>> {
        if depth > MAX_DEPTH {
            return Err(DecodeErrorKind::TooDeep.into());
        }
        let schema = self.schema;
        Ok(match &schema.node(id).kind {
            Kind::Null => Datum::Null,
            Kind::Boolean => match self.take(1)?[0] {
                0 => Datum::Boolean(false),
                1 => Datum::Boolean(true),
                b => return Err(DecodeErrorKind::BadBoolean(b).into()),
            },
            // `int` already checked the 32-bit range.
            Kind::Int => Datum::Int(self.int()? as i32),
            Kind::Long => Datum::Long(self.long()?),
            Kind::Float => {
                let b = self.take(4)?;
                Datum::Float(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            Kind::Double => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Datum::Double(f64::from_le_bytes(a))
            }
            Kind::Bytes => {
                let n = self.length()?;
                Datum::Bytes(self.take(n)?)
            }
            Kind::Fixed { size, .. } => Datum::Bytes(self.take(*size as usize)?),
            Kind::String => Datum::String(self.string()?),
            Kind::Enum { symbols, .. } => {
                let i = self.int()?;
                match usize::try_from(i).ok().and_then(|i| symbols.get(i)) {
                    Some(s) => Datum::Enum(s),
                    None => {
                        return Err(DecodeErrorKind::EnumIndex {
                            index: i,
                            symbols: symbols.len(),
                        }
                        .into());
                    }
                }
            }
            Kind::Union(branches) => {
                let i = self.long()?;
                match usize::try_from(i).ok().and_then(|i| branches.get(i)) {
                    Some(&b) => self.value(b, depth + 1)?,
                    None => {
                        return Err(DecodeErrorKind::UnionIndex {
                            index: i,
                            branches: branches.len(),
                        }
                        .into());
                    }
                }
            }
            Kind::Array(item) => {
                let mut out = Vec::new();
                loop {
                    let n = self.block_count()?;
                    if n == 0 {
                        break;
                    }
                    out.reserve(n.min(self.remaining()));
                    for _ in 0..n {
                        let idx = out.len();
                        let v = self.value(*item, depth + 1).map_err(|mut f| {
                            f.segs.push(Seg::Index(idx));
                            f
                        })?;
                        out.push(v);
                    }
                }
                Datum::Array(out)
            }
            Kind::Map(item) => {
                let mut out = Vec::new();
                loop {
                    let n = self.block_count()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        let k = self.string()?;
                        let v = match self.value(*item, depth + 1) {
                            Ok(v) => v,
                            Err(mut f) => {
                                f.segs.push(Seg::Key(k.to_owned()));
                                return Err(f);
                            }
                        };
                        out.push((k, v));
                    }
                }
                Datum::Map(out)
            }
            Kind::Record { fields, .. } => {
                let mut values = Vec::with_capacity(fields.len());
                for field in fields {
                    let v = self.value(field.schema, depth + 1).map_err(|mut f| {
                        f.segs.push(Seg::Field(field.name.clone()));
                        f
                    })?;
                    values.push(v);
                }
                Datum::Record(Record { fields, values })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zz(v: i64) -> Vec<u8> {
        let mut n = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            if n < 0x80 {
                out.push(n as u8);
                return out;
            }
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
    }

    fn schema() -> AvroSchema {
        AvroSchema::parse(
            r#"{"type":"record","name":"Order","fields":[
                {"name":"id","type":"string"},
                {"name":"qty","type":"int"},
                {"name":"status","type":{"type":"enum","name":"S","symbols":["NEW","PAID"]}},
                {"name":"note","type":["null","string"]},
                {"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"price","type":"double"}]}}},
                {"name":"ok","type":"boolean"}
            ]}"#,
        )
        .unwrap()
    }

    fn good() -> Vec<u8> {
        let mut b = zz(2);
        b.extend(b"o1");
        b.extend(zz(3)); // qty
        b.extend(zz(1)); // PAID
        b.extend(zz(1)); // union: string
        b.extend(zz(1));
        b.push(b'x');
        b.extend(zz(1)); // one item
        b.extend(2.5f64.to_le_bytes());
        b.extend(zz(0)); // end of array
        b.push(1); // ok
        b
    }

    #[test]
    fn decodes_a_valid_datum() {
        let v = schema().decode(&good()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id":"o1","qty":3,"status":"PAID","note":"x","items":[{"price":2.5}],"ok":true})
        );
    }

    #[test]
    fn every_corruption_is_an_error_with_its_path() {
        let s = schema();
        let err = |b: &[u8]| s.decode(b).unwrap_err();
        // Truncated at every length.
        let g = good();
        for n in 0..g.len() {
            assert_eq!(err(&g[..n]).kind.code(), "TRUNCATED", "prefix of {n} bytes");
        }
        // Trailing bytes.
        let mut t = g.clone();
        t.push(0);
        assert_eq!(err(&t).kind, DecodeErrorKind::TrailingBytes { count: 1 });
        // Invalid UTF-8 in the id.
        let mut u = g.clone();
        u[1] = 0xff;
        let e = err(&u);
        assert_eq!((e.kind.code(), e.path.as_str()), ("INVALID_UTF8", "$.id"));
        // Enum index 2 of 2 symbols.
        let mut en = g.clone();
        en[4] = zz(2)[0];
        let e = err(&en);
        assert_eq!((e.kind.code(), e.path.as_str()), ("ENUM_INDEX", "$.status"));
        // Union index 2 of 2 branches.
        let mut un = g.clone();
        un[5] = zz(2)[0];
        let e = err(&un);
        assert_eq!((e.kind.code(), e.path.as_str()), ("UNION_INDEX", "$.note"));
        // Negative union index.
        un[5] = zz(-1)[0];
        assert_eq!(err(&un).kind.code(), "UNION_INDEX");
        // Boolean byte 2.
        let mut bo = g.clone();
        *bo.last_mut().unwrap() = 2;
        let e = err(&bo);
        assert_eq!((e.kind.code(), e.path.as_str()), ("BAD_BOOLEAN", "$.ok"));
        // An 11-byte varint for qty.
        let mut bad = zz(2);
        bad.extend(b"o1");
        bad.extend([0xff; 11]);
        let e = err(&bad);
        assert_eq!((e.kind.code(), e.path.as_str()), ("BAD_VARINT", "$.qty"));
        // An int beyond 32 bits.
        let mut big = zz(2);
        big.extend(b"o1");
        big.extend(zz(1 << 40));
        assert_eq!(err(&big).kind.code(), "BAD_VARINT");
        let mut big = zz(2);
        big.extend(b"o1");
        big.extend(zz(i64::from(i32::MAX) + 1));
        assert_eq!(err(&big).kind.code(), "INT_OVERFLOW");
        // Negative string length.
        assert_eq!(err(&zz(-3)).kind.code(), "NEGATIVE_LENGTH");
    }

    #[test]
    fn huge_block_counts_and_deep_nesting_are_refused() {
        let s = AvroSchema::parse(r#"{"type":"array","items":"null"}"#).unwrap();
        assert_eq!(
            s.decode(&zz(1 << 40)).unwrap_err().kind.code(),
            "BLOCK_TOO_LARGE"
        );
        let mut b = zz(3);
        b.extend(zz(0));
        assert_eq!(s.decode(&b).unwrap(), serde_json::json!([null, null, null]));
        let rec = AvroSchema::parse(
            r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}"#,
        )
        .unwrap();
        let deep: Vec<u8> = std::iter::repeat_n(zz(1)[0], 1000).collect();
        assert_eq!(rec.decode(&deep).unwrap_err().kind.code(), "TOO_DEEP");
    }
}
