//! Rules for strings (`minLength`, `maxLength`, `pattern`), numbers (bounds, `multipleOf`,
//! integer vs number) and enums, after Confluent's `StringSchemaDiff`, `NumberSchemaDiff` and
//! `EnumSchemaDiff`.

use serde_json::Value;

use super::Ctx;
use super::types::DiffType::{self, *};
use crate::json::model::{NumberSchema, StringSchema};

/// Which of added / removed / increased / decreased a bound went through, if any.
pub(super) fn bound<T: PartialOrd>(
    ctx: &mut Ctx,
    attribute: &str,
    original: Option<T>,
    update: Option<T>,
    [added, removed, increased, decreased]: [DiffType; 4],
) {
    match (original, update) {
        (None, Some(_)) => ctx.add_at(attribute, added),
        (Some(_), None) => ctx.add_at(attribute, removed),
        (Some(a), Some(b)) if a < b => ctx.add_at(attribute, increased),
        (Some(a), Some(b)) if a > b => ctx.add_at(attribute, decreased),
        _ => {}
    }
}

pub(super) fn strings(ctx: &mut Ctx, o: &StringSchema, u: &StringSchema) {
    bound(
        ctx,
        "maxLength",
        o.max_length,
        u.max_length,
        [
            MAX_LENGTH_ADDED,
            MAX_LENGTH_REMOVED,
            MAX_LENGTH_INCREASED,
            MAX_LENGTH_DECREASED,
        ],
    );
    bound(
        ctx,
        "minLength",
        o.min_length,
        u.min_length,
        [
            MIN_LENGTH_ADDED,
            MIN_LENGTH_REMOVED,
            MIN_LENGTH_INCREASED,
            MIN_LENGTH_DECREASED,
        ],
    );
    match (&o.pattern, &u.pattern) {
        (None, Some(_)) => ctx.add_at("pattern", PATTERN_ADDED),
        (Some(_), None) => ctx.add_at("pattern", PATTERN_REMOVED),
        (Some(a), Some(b)) if a != b => ctx.add_at("pattern", PATTERN_CHANGED),
        _ => {}
    }
}

pub(super) fn numbers(ctx: &mut Ctx, o: &NumberSchema, u: &NumberSchema) {
    bound(
        ctx,
        "maximum",
        o.maximum,
        u.maximum,
        [
            MAXIMUM_ADDED,
            MAXIMUM_REMOVED,
            MAXIMUM_INCREASED,
            MAXIMUM_DECREASED,
        ],
    );
    bound(
        ctx,
        "minimum",
        o.minimum,
        u.minimum,
        [
            MINIMUM_ADDED,
            MINIMUM_REMOVED,
            MINIMUM_INCREASED,
            MINIMUM_DECREASED,
        ],
    );
    bound(
        ctx,
        "exclusiveMaximum",
        o.exclusive_maximum,
        u.exclusive_maximum,
        [
            EXCLUSIVE_MAXIMUM_ADDED,
            EXCLUSIVE_MAXIMUM_REMOVED,
            EXCLUSIVE_MAXIMUM_INCREASED,
            EXCLUSIVE_MAXIMUM_DECREASED,
        ],
    );
    bound(
        ctx,
        "exclusiveMinimum",
        o.exclusive_minimum,
        u.exclusive_minimum,
        [
            EXCLUSIVE_MINIMUM_ADDED,
            EXCLUSIVE_MINIMUM_REMOVED,
            EXCLUSIVE_MINIMUM_INCREASED,
            EXCLUSIVE_MINIMUM_DECREASED,
        ],
    );
    match (o.multiple_of, u.multiple_of) {
        (None, Some(_)) => ctx.add_at("multipleOf", MULTIPLE_OF_ADDED),
        (Some(_), None) => ctx.add_at("multipleOf", MULTIPLE_OF_REMOVED),
        (Some(a), Some(b)) if a != b => {
            // A multiple of the new divisor is a multiple of the old one: EXPANDED (stricter).
            let kind = if divides(a, b) {
                MULTIPLE_OF_EXPANDED
            } else if divides(b, a) {
                MULTIPLE_OF_REDUCED
            } else {
                MULTIPLE_OF_CHANGED
            };
            ctx.add_at("multipleOf", kind);
        }
        _ => {}
    }
    if o.integer != u.integer {
        ctx.add(if o.integer {
            TYPE_EXTENDED
        } else {
            TYPE_NARROWED
        });
    }
}

/// Whether `n` is a whole multiple of `d` (exactly for integers, within rounding otherwise).
fn divides(d: f64, n: f64) -> bool {
    if d == 0.0 {
        return false;
    }
    let q = n / d;
    q.is_finite() && (q - q.round()).abs() < 1e-9
}

pub(super) fn enums(ctx: &mut Ctx, o: &[Value], u: &[Value]) {
    let o_in_u = o.iter().all(|v| u.contains(v));
    let u_in_o = u.iter().all(|v| o.contains(v));
    let kind = match (o_in_u, u_in_o) {
        (true, true) => return,
        (true, false) => ENUM_ARRAY_EXTENDED,
        (false, true) => ENUM_ARRAY_NARROWED,
        (false, false) => ENUM_ARRAY_CHANGED,
    };
    ctx.add_at("enum", kind);
}
