//! Text that may go into XML and HTML: the characters XML 1.0 forbids (C0
//! controls but tab and newlines, U+FFFE, U+FFFF) make a feed unparseable,
//! and those it discourages (DEL and the C1 controls, U+007F-U+009F) are
//! parse errors in HTML and draw the feed validator's "bad characters", so
//! every string from a file (config or article) passes through here once,
//! when it is read. NEL (U+0085), the one C1 control with a meaning in text,
//! becomes the line break it stands for. Pure; knows nothing else.

use std::borrow::Cow;

fn is_forbidden(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{B}'
            | '\u{C}'
            | '\u{E}'..='\u{1F}'
            | '\u{7F}'..='\u{9F}'
            | '\u{FFFE}'
            | '\u{FFFF}'
    )
}

/// Whether `text` holds a character XML 1.0 forbids. A scan of bytes
/// rather than characters: it runs over every article's whole text, and
/// over the HTML made from it. Most 32-byte chunks hold no byte that such
/// a character can start with (a C0 control but tab and newlines, DEL,
/// C2 or EF), which a branchless test of the whole chunk tells, in SIMD;
/// only the other chunks are looked at byte by byte.
pub fn has_forbidden(text: &str) -> bool {
    const CHUNK: usize = 32;
    let bytes = text.as_bytes();
    bytes.chunks(CHUNK).enumerate().any(|(index, chunk)| {
        let suspect = chunk.iter().fold(false, |suspect, &byte| {
            suspect
                | ((byte < 0x20) & (byte != b'\t') & (byte != b'\n') & (byte != b'\r'))
                | (byte == 0x7F)
                | (byte == 0xC2)
                | (byte == 0xEF)
        });
        suspect && (index * CHUNK..index * CHUNK + chunk.len()).any(|i| forbidden_at(bytes, i))
    })
}

/// Where the first byte of `bytes` is for which `special` is 1 (it must be
/// 0 or 1, as `u8::from` of a comparison is). Most 32-byte chunks of text
/// hold none of the bytes an escape looks for, which a reduction over the
/// whole chunk tells: as bytes rather than `bool`s, LLVM makes it SIMD
/// compares (a fold over `bool`s stayed a byte at a time). Only a chunk
/// that holds one is searched byte by byte.
#[inline(always)]
pub fn first_of(bytes: &[u8], special: impl Fn(u8) -> u8 + Copy) -> Option<usize> {
    const CHUNK: usize = 32;
    bytes.chunks(CHUNK).enumerate().find_map(|(index, chunk)| {
        if chunk.iter().fold(0, |any, &byte| any | special(byte)) == 0 {
            return None;
        }
        chunk
            .iter()
            .position(|&byte| special(byte) != 0)
            .map(|at| index * CHUNK + at)
    })
}

/// `text` handed to `emit` a run at a time: the runs between the bytes
/// `escapes` lists as they are, each such byte as its replacement there.
/// Every escape feedd writes (HTML, XML, OPML, its own journal) replaces
/// ASCII bytes only, so a run never splits a character. The table is an
/// array, so that the test of a byte against it unrolls into the compares
/// [`first_of`] makes SIMD: inlined, so that the bytes are constants there.
#[inline(always)]
pub fn escape_runs<const N: usize>(
    text: &str,
    escapes: &[(u8, &'static str); N],
    mut emit: impl FnMut(&str),
) {
    let special = |byte: u8| {
        escapes
            .iter()
            .fold(0, |any, &(escaped, _)| any | u8::from(byte == escaped))
    };
    let mut rest = text;
    while let Some(at) = first_of(rest.as_bytes(), special)
        && let Some((run, marked)) = rest.split_at_checked(at)
    {
        emit(run);
        let mut chars = marked.chars();
        let replacement = chars
            .next()
            .and_then(|c| u8::try_from(c).ok())
            .and_then(|byte| escapes.iter().find(|(escaped, _)| *escaped == byte));
        if let Some((_, replacement)) = replacement {
            emit(replacement);
        }
        rest = chars.as_str();
    }
    emit(rest);
}

/// Whether a character XML 1.0 forbids starts at `bytes[i]`.
fn forbidden_at(bytes: &[u8], i: usize) -> bool {
    let at = |offset: usize| bytes.get(i + offset).copied();
    match at(0) {
        Some(byte) if byte < 0x20 => !matches!(byte, b'\t' | b'\n' | b'\r'),
        Some(0x7F) => true,
        // U+0080..U+009F: C2 80 ..= C2 9F.
        Some(0xC2) => matches!(at(1), Some(0x80..=0x9F)),
        // U+FFFE and U+FFFF: EF BF BE and EF BF BF.
        Some(0xEF) => at(1) == Some(0xBF) && matches!(at(2), Some(0xBE | 0xBF)),
        _ => false,
    }
}

/// `text` without the characters XML 1.0 forbids; borrowed when it has none.
pub fn strip_forbidden(text: &str) -> Cow<'_, str> {
    if has_forbidden(text) {
        text.chars()
            .filter_map(|c| match c {
                '\u{85}' => Some('\n'),
                c if is_forbidden(c) => None,
                c => Some(c),
            })
            .collect::<String>()
            .into()
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
            clean("a\u{0}b\u{B}c\u{1F}d\u{FFFE}e\u{FFFF}f\u{7F}g\u{80}h\u{9F}i".into()),
            "abcdefghi"
        );
        assert_eq!(clean("dòng một\u{85}dòng hai".into()), "dòng một\ndòng hai");
        let allowed = "tab\tnl\ncr\r Đời \u{A0} \u{7E} \u{FFFD} \u{FFEF} \u{EFBF} 😀";
        assert!(matches!(strip_forbidden(allowed), Cow::Borrowed(_)));
    }

    #[test]
    fn the_byte_scan_agrees_with_the_character_rule() {
        let samples = (0u32..0x1_0000)
            .chain(0x1_0000..0x1_0100)
            .filter_map(char::from_u32);
        for c in samples {
            let text = format!("a{c}b");
            assert_eq!(has_forbidden(&text), is_forbidden(c), "{:?}", c);
        }
    }

    #[test]
    fn a_forbidden_character_is_found_at_every_offset_across_chunks() {
        for forbidden in [
            '\u{1}', '\u{7F}', '\u{85}', '\u{9F}', '\u{FFFE}', '\u{FFFF}',
        ] {
            for before in 0..70 {
                let text = format!("{}{forbidden}ộ", "a".repeat(before));
                assert!(has_forbidden(&text), "{forbidden:?} after {before} bytes");
            }
        }
        // Allowed characters whose bytes look like a forbidden one's start.
        for before in 0..70 {
            let text = format!("{}\u{A0}\u{FFFD}\u{FEFF}\t\r\n", "a".repeat(before));
            assert!(!has_forbidden(&text), "after {before} bytes");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_chunked_scan_agrees_with_a_scan_of_characters(
            text in "[a-zộ\u{0}-\u{1F}\u{7F}-\u{A0}\u{FFFD}-\u{FFFF}]{0,80}|\\PC{0,80}"
        ) {
            proptest::prop_assert_eq!(has_forbidden(&text), text.chars().any(is_forbidden));
        }
    }
}
