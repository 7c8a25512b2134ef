//! Text that may go into XML: the characters XML 1.0 forbids (C0 controls
//! but tab and newlines, U+FFFE, U+FFFF) make a feed unparseable, so every
//! string from a file (config or article) passes through here once, when it
//! is read. Pure; knows nothing else.

use std::borrow::Cow;

fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// `text` without the characters XML 1.0 forbids; borrowed when it has none.
pub fn strip_forbidden(text: &str) -> Cow<'_, str> {
    if text.contains(is_forbidden) {
        text.replace(is_forbidden, "").into()
    } else {
        text.into()
    }
}

/// [`strip_forbidden`] for an owned string, reusing it when it is clean.
pub fn clean(text: String) -> String {
    match strip_forbidden(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(cleaned) => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_go_and_allowed_ones_stay() {
        assert_eq!(
            clean("a\u{0}b\u{B}c\u{1F}d\u{FFFE}e\u{FFFF}".into()),
            "abcde"
        );
        let allowed = "tab\tnl\ncr\r Đời \u{85} \u{FFFD} 😀";
        assert!(matches!(strip_forbidden(allowed), Cow::Borrowed(_)));
    }
}
