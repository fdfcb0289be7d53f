//! Confluent's `Difference.Type` names, which of them each compatibility policy accepts, and the
//! message a person reads for each.

use std::fmt;

macro_rules! diff_types {
    ($($name:ident),* $(,)?) => {
        /// One kind of difference between two JSON Schemas, named as Confluent names it.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DiffType { $($name),* }

        impl DiffType {
            /// Every type, in Confluent's declaration order.
            pub const ALL: &'static [DiffType] = &[$(DiffType::$name),*];

            /// Confluent's name, e.g. `TYPE_NARROWED`.
            pub fn name(self) -> &'static str {
                match self { $(DiffType::$name => stringify!($name)),* }
            }
        }
    };
}

diff_types! {
    ID_CHANGED, DESCRIPTION_CHANGED, TITLE_CHANGED, DEFAULT_CHANGED,
    SCHEMA_ADDED, SCHEMA_REMOVED, TYPE_EXTENDED, TYPE_NARROWED, TYPE_CHANGED,
    MAX_LENGTH_ADDED, MAX_LENGTH_REMOVED, MAX_LENGTH_INCREASED, MAX_LENGTH_DECREASED,
    MIN_LENGTH_ADDED, MIN_LENGTH_REMOVED, MIN_LENGTH_INCREASED, MIN_LENGTH_DECREASED,
    PATTERN_ADDED, PATTERN_REMOVED, PATTERN_CHANGED,
    MAXIMUM_ADDED, MAXIMUM_REMOVED, MAXIMUM_INCREASED, MAXIMUM_DECREASED,
    MINIMUM_ADDED, MINIMUM_REMOVED, MINIMUM_INCREASED, MINIMUM_DECREASED,
    EXCLUSIVE_MAXIMUM_ADDED, EXCLUSIVE_MAXIMUM_REMOVED, EXCLUSIVE_MAXIMUM_INCREASED,
    EXCLUSIVE_MAXIMUM_DECREASED, EXCLUSIVE_MINIMUM_ADDED, EXCLUSIVE_MINIMUM_REMOVED,
    EXCLUSIVE_MINIMUM_INCREASED, EXCLUSIVE_MINIMUM_DECREASED,
    MULTIPLE_OF_ADDED, MULTIPLE_OF_REMOVED, MULTIPLE_OF_EXPANDED, MULTIPLE_OF_REDUCED,
    MULTIPLE_OF_CHANGED,
    REQUIRED_ATTRIBUTE_ADDED, REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED, REQUIRED_ATTRIBUTE_REMOVED,
    MAX_PROPERTIES_ADDED, MAX_PROPERTIES_REMOVED, MAX_PROPERTIES_INCREASED, MAX_PROPERTIES_DECREASED,
    MIN_PROPERTIES_ADDED, MIN_PROPERTIES_REMOVED, MIN_PROPERTIES_INCREASED, MIN_PROPERTIES_DECREASED,
    ADDITIONAL_PROPERTIES_ADDED, ADDITIONAL_PROPERTIES_REMOVED, ADDITIONAL_PROPERTIES_EXTENDED,
    ADDITIONAL_PROPERTIES_NARROWED,
    DEPENDENCY_ARRAY_ADDED, DEPENDENCY_ARRAY_REMOVED, DEPENDENCY_ARRAY_EXTENDED,
    DEPENDENCY_ARRAY_NARROWED, DEPENDENCY_ARRAY_CHANGED, DEPENDENCY_SCHEMA_ADDED,
    DEPENDENCY_SCHEMA_REMOVED,
    PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL,
    REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL,
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL,
    OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL,
    PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL,
    REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL,
    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL,
    PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL,
    PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL,
    PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    RESERVED_PROPERTY_REMOVED, RESERVED_PROPERTY_CONFLICTS_WITH_PROPERTY,
    UNEVALUATED_PROPERTIES_ADDED, UNEVALUATED_PROPERTIES_REMOVED,
    UNEVALUATED_PROPERTIES_EXTENDED, UNEVALUATED_PROPERTIES_NARROWED,
    MAX_ITEMS_ADDED, MAX_ITEMS_REMOVED, MAX_ITEMS_INCREASED, MAX_ITEMS_DECREASED,
    MIN_ITEMS_ADDED, MIN_ITEMS_REMOVED, MIN_ITEMS_INCREASED, MIN_ITEMS_DECREASED,
    MAX_CONTAINS_ADDED, MAX_CONTAINS_REMOVED, MAX_CONTAINS_INCREASED, MAX_CONTAINS_DECREASED,
    MIN_CONTAINS_ADDED, MIN_CONTAINS_REMOVED, MIN_CONTAINS_INCREASED, MIN_CONTAINS_DECREASED,
    UNIQUE_ITEMS_ADDED, UNIQUE_ITEMS_REMOVED, ADDITIONAL_ITEMS_ADDED, ADDITIONAL_ITEMS_REMOVED,
    ADDITIONAL_ITEMS_EXTENDED, ADDITIONAL_ITEMS_NARROWED,
    UNEVALUATED_ITEMS_ADDED, UNEVALUATED_ITEMS_REMOVED,
    UNEVALUATED_ITEMS_EXTENDED, UNEVALUATED_ITEMS_NARROWED,
    ITEM_ADDED_TO_OPEN_CONTENT_MODEL, ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL,
    ITEM_ADDED_TO_CLOSED_CONTENT_MODEL, ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL,
    ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL,
    ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
    ENUM_ARRAY_EXTENDED, ENUM_ARRAY_NARROWED, ENUM_ARRAY_CHANGED,
    COMBINED_TYPE_EXTENDED, COMBINED_TYPE_CHANGED,
    PRODUCT_TYPE_EXTENDED, PRODUCT_TYPE_NARROWED, SUM_TYPE_EXTENDED,
    SUM_TYPE_NARROWED, COMBINED_TYPE_SUBSCHEMAS_CHANGED,
    NOT_TYPE_EXTENDED, NOT_TYPE_NARROWED,
}

impl fmt::Display for DiffType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which differences a compatibility check accepts (Confluent's `CompatibilityPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CompatibilityPolicy {
    /// `COMPATIBLE_CHANGES_STRICT`, what the registry uses unless told otherwise.
    #[default]
    Strict,
    /// `COMPATIBLE_CHANGES_LENIENT`: strict plus the changes that only matter to readers relying
    /// on an open content model (properties added to or removed from it, `additionalProperties`
    /// narrowed or removed).
    Lenient,
}

impl CompatibilityPolicy {
    /// Whether a difference of type `t` is compatible under this policy.
    pub fn accepts(self, t: DiffType) -> bool {
        use DiffType::*;
        let strict = matches!(
            t,
            ID_CHANGED
                | DESCRIPTION_CHANGED
                | TITLE_CHANGED
                | DEFAULT_CHANGED
                | SCHEMA_REMOVED
                | TYPE_EXTENDED
                | MAX_LENGTH_INCREASED
                | MAX_LENGTH_REMOVED
                | MIN_LENGTH_DECREASED
                | MIN_LENGTH_REMOVED
                | PATTERN_REMOVED
                | MAXIMUM_INCREASED
                | MAXIMUM_REMOVED
                | MINIMUM_DECREASED
                | MINIMUM_REMOVED
                | EXCLUSIVE_MAXIMUM_INCREASED
                | EXCLUSIVE_MAXIMUM_REMOVED
                | EXCLUSIVE_MINIMUM_DECREASED
                | EXCLUSIVE_MINIMUM_REMOVED
                | MULTIPLE_OF_REDUCED
                | MULTIPLE_OF_REMOVED
                | REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                | REQUIRED_ATTRIBUTE_REMOVED
                | DEPENDENCY_ARRAY_NARROWED
                | DEPENDENCY_ARRAY_REMOVED
                | DEPENDENCY_SCHEMA_REMOVED
                | MAX_PROPERTIES_INCREASED
                | MAX_PROPERTIES_REMOVED
                | MIN_PROPERTIES_DECREASED
                | MIN_PROPERTIES_REMOVED
                | ADDITIONAL_PROPERTIES_ADDED
                | ADDITIONAL_PROPERTIES_EXTENDED
                | PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                | REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
                | OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
                | PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                | PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL
                | PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                | PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                | UNEVALUATED_PROPERTIES_ADDED
                | UNEVALUATED_PROPERTIES_EXTENDED
                | MAX_ITEMS_INCREASED
                | MAX_ITEMS_REMOVED
                | MIN_ITEMS_DECREASED
                | MIN_ITEMS_REMOVED
                | MAX_CONTAINS_INCREASED
                | MAX_CONTAINS_REMOVED
                | MIN_CONTAINS_DECREASED
                | MIN_CONTAINS_REMOVED
                | UNIQUE_ITEMS_REMOVED
                | ADDITIONAL_ITEMS_ADDED
                | ADDITIONAL_ITEMS_EXTENDED
                | UNEVALUATED_ITEMS_ADDED
                | UNEVALUATED_ITEMS_EXTENDED
                | ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                | ITEM_ADDED_TO_CLOSED_CONTENT_MODEL
                | ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                | ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL
                | ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                | ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                | ENUM_ARRAY_EXTENDED
                | COMBINED_TYPE_EXTENDED
                | PRODUCT_TYPE_NARROWED
                | SUM_TYPE_EXTENDED
                | NOT_TYPE_NARROWED
        );
        strict
            || (self == Self::Lenient
                && matches!(
                    t,
                    ADDITIONAL_PROPERTIES_NARROWED
                        | ADDITIONAL_PROPERTIES_REMOVED
                        | PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
                        | OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
                        | REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
                        | PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                        | PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                ))
    }
}

/// What a person needs to know about a difference found reading `old` data with the `new` schema
/// (`path` is Confluent's, e.g. `#/properties/foo`).
pub(crate) fn message(t: DiffType, path: &str) -> String {
    use DiffType::*;
    let name = t.name();
    let restrictive = |what: &str| {
        format!(
            "{what} at '{path}' makes the new schema stricter than the old one, so data the old \
             schema accepted may be rejected; keep the old constraint or relax it"
        )
    };
    match t {
        TYPE_CHANGED
        | TYPE_NARROWED
        | COMBINED_TYPE_CHANGED
        | COMBINED_TYPE_SUBSCHEMAS_CHANGED
        | ENUM_ARRAY_CHANGED => format!(
            "the type at '{path}' differs between the new and the old schema ({name}); data \
             written with the old schema does not match the new one, so keep the old type or \
             widen the new one to include it"
        ),
        SCHEMA_ADDED => format!(
            "the new schema adds a schema at '{path}' that the old one did not have; old data was \
             never checked against it, so remove it or make it accept anything"
        ),
        ENUM_ARRAY_NARROWED
        | SUM_TYPE_NARROWED
        | ADDITIONAL_PROPERTIES_NARROWED
        | ADDITIONAL_ITEMS_NARROWED
        | UNEVALUATED_PROPERTIES_NARROWED
        | UNEVALUATED_ITEMS_NARROWED => {
            format!(
                "the enum, combined type or additional schema at '{path}' allows fewer values in the \
                 new schema than in the old one ({name}); restore the values the old schema allowed"
            )
        }
        PRODUCT_TYPE_EXTENDED | DEPENDENCY_ARRAY_EXTENDED | NOT_TYPE_EXTENDED => format!(
            "the array or combined type at '{path}' has more elements in the new schema than in \
             the old one ({name}), which adds constraints old data may not meet"
        ),
        PATTERN_ADDED | PATTERN_CHANGED | MULTIPLE_OF_CHANGED | DEPENDENCY_ARRAY_CHANGED => {
            format!(
                "the value at '{path}' differs between the new and the old schema ({name}); old data \
             may not satisfy the new value"
            )
        }
        REQUIRED_ATTRIBUTE_ADDED => format!(
            "the property at '{path}' is required in the new schema but optional in the old one; \
             give it a default or leave it optional"
        ),
        PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
        | REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
        | REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
        | OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
        | ITEM_ADDED_TO_OPEN_CONTENT_MODEL => format!(
            "the new schema adds the property or item at '{path}', but the old schema has an open \
             content model, so old data may already hold any value there; close the old schema \
             (additionalProperties: false) before adding it, or give it an empty schema"
        ),
        REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL => format!(
            "the new schema adds the required property at '{path}', which old data does not have; \
             make it optional or give it a default"
        ),
        PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL | ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL => {
            format!(
                "the new schema has a closed content model and no longer declares the property or item \
             at '{path}' that old data may hold; keep it, or open the content model"
            )
        }
        PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        | ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL => format!(
            "the property or item at '{path}' is removed in the new schema and its additional or \
             pattern schema does not accept what the old schema allowed there; keep it or widen \
             that schema"
        ),
        PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        | ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL => format!(
            "the new schema adds the property or item at '{path}' with a schema that does not \
             accept what the old schema's additional or pattern schema allowed there"
        ),
        RESERVED_PROPERTY_REMOVED | RESERVED_PROPERTY_CONFLICTS_WITH_PROPERTY => {
            format!("the reserved property '{path}' is removed or used by the new schema ({name})")
        }
        ADDITIONAL_PROPERTIES_REMOVED
        | ADDITIONAL_ITEMS_REMOVED
        | UNEVALUATED_PROPERTIES_REMOVED
        | UNEVALUATED_ITEMS_REMOVED => restrictive("forbidding additional properties or items"),
        MAX_LENGTH_ADDED
        | MIN_LENGTH_ADDED
        | MAXIMUM_ADDED
        | MINIMUM_ADDED
        | EXCLUSIVE_MAXIMUM_ADDED
        | EXCLUSIVE_MINIMUM_ADDED
        | MULTIPLE_OF_ADDED
        | MAX_PROPERTIES_ADDED
        | MIN_PROPERTIES_ADDED
        | DEPENDENCY_ARRAY_ADDED
        | DEPENDENCY_SCHEMA_ADDED
        | MAX_ITEMS_ADDED
        | MIN_ITEMS_ADDED
        | MAX_CONTAINS_ADDED
        | MIN_CONTAINS_ADDED
        | UNIQUE_ITEMS_ADDED => {
            restrictive(&format!("a keyword the old schema did not have ({name})"))
        }
        MIN_LENGTH_INCREASED
        | MINIMUM_INCREASED
        | EXCLUSIVE_MINIMUM_INCREASED
        | MIN_PROPERTIES_INCREASED
        | MULTIPLE_OF_EXPANDED
        | MIN_ITEMS_INCREASED
        | MIN_CONTAINS_INCREASED => restrictive(&format!("a larger lower bound ({name})")),
        MAX_LENGTH_DECREASED
        | MAXIMUM_DECREASED
        | MAX_ITEMS_DECREASED
        | MAX_CONTAINS_DECREASED
        | EXCLUSIVE_MAXIMUM_DECREASED
        | MAX_PROPERTIES_DECREASED => restrictive(&format!("a smaller upper bound ({name})")),
        _ => format!("{name} at '{path}'"),
    }
}
