//! The built-in string formats (`email`, `uuid`, `date-time`, `date`, `uri`), checked by hand:
//! they run per event and a regex per check would be slower.

use super::event::Scalar;
use crate::model::Format;

pub(crate) fn format_name(f: Format) -> &'static str {
    match f {
        Format::Email => "email address",
        Format::Uuid => "UUID",
        Format::Timestamp => "RFC 3339 timestamp",
        Format::Date => "date (YYYY-MM-DD)",
        Format::Uri => "URI",
    }
}

/// Whether `v` is a valid `f`.
pub(crate) fn format_ok(f: Format, v: &Scalar<'_>) -> bool {
    let s = match v {
        // Avro timestamp-millis / date arrive as numbers: the type already guarantees the format.
        Scalar::Num(_) => return matches!(f, Format::Timestamp | Format::Date),
        Scalar::Str(s) => s.as_ref(),
        _ => return false,
    };
    match f {
        Format::Email => {
            let Some((local, domain)) = s.split_once('@') else {
                return false;
            };
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        Format::Uuid => {
            let b = s.as_bytes();
            b.len() == 36
                && b.iter().enumerate().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => *c == b'-',
                    _ => c.is_ascii_hexdigit(),
                })
        }
        Format::Date => date_ok(s.as_bytes()),
        Format::Timestamp => timestamp_ok(s.as_bytes()),
        Format::Uri => s.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }),
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn date_ok(b: &[u8]) -> bool {
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(&b[0..4]).is_some()
        && digits(&b[5..7]).is_some_and(|m| (1..=12).contains(&m))
        && digits(&b[8..10]).is_some_and(|d| (1..=31).contains(&d))
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn timestamp_ok(b: &[u8]) -> bool {
    if b.len() < 20 || !date_ok(&b[..10]) || !matches!(b[10], b'T' | b't' | b' ') {
        return false;
    }
    let t = &b[11..];
    let time_ok = t.len() >= 8
        && t[2] == b':'
        && t[5] == b':'
        && digits(&t[0..2]).is_some_and(|h| h < 24)
        && digits(&t[3..5]).is_some_and(|m| m < 60)
        && digits(&t[6..8]).is_some_and(|s| s <= 60);
    if !time_ok {
        return false;
    }
    let mut rest = &t[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            digits(&[*h1, *h2]).is_some_and(|h| h < 24)
                && digits(&[*m1, *m2]).is_some_and(|m| m < 60)
        }
        _ => false,
    }
}
