//! Article ids that depend on the file's path alone.

/// An id that depends on the relative path only, so it survives edits,
/// restarts and a change of `base_url`.
pub(super) fn id_from_path(relative: &str) -> String {
    stable_uuid(&format!("feedd:article:{relative}"))
}

/// A `urn:uuid:` derived from `name` alone: shaped as a UUID so every Atom
/// and RSS reader accepts it as a URI. A version 8 ("custom") UUID from the
/// first 16 bytes of the BLAKE3 hash of `name`: ids published since feedd's
/// first release are made this way, so it must never change.
pub fn stable_uuid(name: &str) -> String {
    let hash = blake3::hash(name.as_bytes());
    let first: [u8; 16] = std::array::from_fn(|i| hash.as_bytes()[i]);
    uuid::Uuid::new_v8(first).urn().to_string()
}

/// An article id as the catalog keeps it: the `urn:uuid:` ids feedd
/// derives (nearly all) as their 16 bytes, any other id as its text. Held
/// for every article, so the common case costs no allocation; ordered as
/// the text is, which is the feeds' tie-break order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArticleId {
    /// A `urn:uuid:` in the lowercase hyphenated form, as its bytes.
    Uuid([u8; 16]),
    /// Any other id (front matter `id`).
    Text(std::sync::Arc<str>),
}

const URN_UUID_LENGTH: usize = uuid::fmt::Urn::LENGTH;

impl ArticleId {
    /// The id whose text is `text`.
    pub fn new(text: &str) -> ArticleId {
        let compact = text
            .strip_prefix("urn:uuid:")
            .and_then(|rest| uuid::Uuid::try_parse(rest).ok())
            .filter(|uuid| uuid.urn().encode_lower(&mut [0; URN_UUID_LENGTH]) == text);
        match compact {
            Some(uuid) => ArticleId::Uuid(uuid.into_bytes()),
            None => ArticleId::Text(std::sync::Arc::from(text)),
        }
    }

    /// Calls `with` on the id's text (written on the stack for a uuid).
    pub fn with_text<T>(&self, with: impl FnOnce(&str) -> T) -> T {
        match self {
            ArticleId::Uuid(bytes) => {
                let mut buffer = [0; URN_UUID_LENGTH];
                with(
                    uuid::Uuid::from_bytes(*bytes)
                        .urn()
                        .encode_lower(&mut buffer),
                )
            }
            ArticleId::Text(text) => with(text),
        }
    }
}

impl std::fmt::Display for ArticleId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_text(|text| formatter.write_str(text))
    }
}

impl Ord for ArticleId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            // Fixed-width lowercase hex compares as the bytes it encodes.
            (ArticleId::Uuid(one), ArticleId::Uuid(other)) => one.cmp(other),
            _ => self.with_text(|one| other.with_text(|other| one.cmp(other))),
        }
    }
}

impl PartialOrd for ArticleId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn uuid_text() -> impl Strategy<Value = String> {
        any::<[u8; 16]>().prop_map(|bytes| uuid::Uuid::from_bytes(bytes).urn().to_string())
    }

    fn any_id_text() -> impl Strategy<Value = String> {
        prop_oneof![
            uuid_text(),
            uuid_text().prop_map(|text| text.to_uppercase()),
            "urn:uuid:[0-9a-f-]{0,40}",
            ".{0,50}",
        ]
    }

    proptest! {
        /// The compact form must be invisible: same text back, same order
        /// as the texts (feed order breaks ties by id).
        #[test]
        fn article_ids_keep_their_text_and_order(one in any_id_text(), other in any_id_text()) {
            let (id_one, id_other) = (ArticleId::new(&one), ArticleId::new(&other));
            prop_assert_eq!(id_one.to_string(), one.clone());
            prop_assert_eq!(id_one.cmp(&id_other), one.cmp(&other));
            prop_assert_eq!(id_one == id_other, one == other);
        }
    }

    #[test]
    fn derived_ids_are_held_as_bytes() {
        let derived = id_from_path("Thể thao/a.txt");
        assert!(matches!(ArticleId::new(&derived), ArticleId::Uuid(_)));
        assert!(matches!(
            ArticleId::new("tag:example.com,2026:1"),
            ArticleId::Text(_)
        ));
    }

    /// Ids already published by feedd (the bundled articles' feeds): a
    /// change of derivation would make every reader show every article again.
    #[test]
    fn ids_never_change() {
        assert_eq!(
            id_from_path("Chính trị/000_dcc753fbd64ee8d5.txt"),
            "urn:uuid:769c10d9-f639-89b8-a128-514344f7d711"
        );
        assert_eq!(
            id_from_path("Thể thao/2026-11-23-giai-bong-da-thieu-nien-khai-mac.txt"),
            "urn:uuid:fc1ad8f6-7071-8928-a38c-10a1c146baeb"
        );
    }
}
