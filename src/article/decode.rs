//! Bytes of an article file -> the text every other step reads.

use unicode_normalization::UnicodeNormalization;

use crate::xml_text::strip_forbidden;

/// Where an article's bytes stop being text, and in which encoding.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct NotText {
    /// Line and column (in characters) of the first undecodable byte.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// UTF-8 with an optional BOM -> NFC text with LF line ends and no
/// character that XML 1.0 forbids or HTML does not allow (`xml_text`).
pub(super) fn decode(bytes: &[u8]) -> Result<String, NotText> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    // Neither byte can start UTF-8, so these are the BOMs of what Windows
    // editors save as "Unicode": name it, where the generic hint would send
    // the editor to the wrong `iconv -f`.
    for (bom, encoding) in [(b"\xFF\xFE", "UTF-16LE"), (b"\xFE\xFF", "UTF-16BE")] {
        if bytes.starts_with(bom) {
            return Err(NotText {
                line: 1,
                column: 1,
                message: format!(
                    "not valid UTF-8: the file starts with the byte order mark of {encoding}, so it is \
                     UTF-16 text, and feedd reads UTF-8 only; re-save the file as UTF-8 (e.g. \
                     `iconv -f UTF-16 -t UTF-8`)"
                ),
            });
        }
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let bom_len = bytes.len() - body.len();
    // Every article is validated whole (an invalid byte anywhere is
    // reported), so the SIMD validator's speed on Vietnamese text counts.
    let text = simdutf8::compat::from_utf8(body).map_err(|error| {
        let valid = body.get(..error.valid_up_to()).unwrap_or_default();
        let (line, column) = position_after(&String::from_utf8_lossy(valid));
        let offset = bom_len + error.valid_up_to();
        NotText {
            line,
            column,
            message: format!(
                "not valid UTF-8 (byte {offset}); re-save the file as UTF-8 (e.g. `iconv -f WINDOWS-1258 -t UTF-8`)"
            ),
        }
    })?;
    Ok(normalize(text))
}

/// Line and column of the character after `text`.
fn position_after(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let last_line = text.rsplit('\n').next().unwrap_or_default();
    (line, last_line.chars().count() + 1)
}

fn normalize(text: &str) -> String {
    if !may_need_rewriting(text) {
        return text.to_owned();
    }
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = strip_forbidden(&text);
    // The quick check skips the costly decompose-recompose pass for text
    // that is NFC already.
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        text.into_owned()
    } else {
        text.nfc().collect()
    }
}

/// Whether `text` may hold a CR, a character `xml_text` drops, or a character
/// that may not be in NFC. False only when it holds none: every character
/// is below U+0300 (no combining marks there), or Latin Extended Additional
/// (U+1E00-U+1EFF, Vietnamese's precomposed letters), or the General
/// Punctuation that news text uses (U+2010-U+2027, U+2030-U+205E): all
/// starters that are NFC on their own and never compose with what precedes
/// them. It runs over every article twice per build, so it is a test of
/// each byte with the two after it ([`starts_a_rewrite`]), the same test at
/// every position (a continuation byte never passes for a lead byte in
/// valid UTF-8), made branch-free over 64 bytes at a time: SIMD, where
/// stepping from character to character was 7 instructions a byte.
fn may_need_rewriting(text: &str) -> bool {
    const CHUNK: usize = 64;
    let bytes = text.as_bytes();
    let next = bytes.get(1..).unwrap_or_default();
    let after_next = bytes.get(2..).unwrap_or_default();
    // Every position with two bytes after it, then the last two alone.
    let whole = after_next.len();
    let firsts = bytes.get(..whole).unwrap_or_default().chunks(CHUNK);
    let seconds = next.get(..whole).unwrap_or_default().chunks(CHUNK);
    let found =
        firsts
            .zip(seconds)
            .zip(after_next.chunks(CHUNK))
            .any(|((firsts, seconds), thirds)| {
                firsts.iter().zip(seconds).zip(thirds).fold(
                    false,
                    |found, ((&first, &second), &third)| {
                        found | starts_a_rewrite(first, second, third)
                    },
                )
            });
    found
        || (whole..bytes.len()).any(|i| {
            let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
            starts_a_rewrite(at(i), at(i + 1), at(i + 2))
        })
}

/// Whether a character that [`may_need_rewriting`] looks for starts with
/// `first`, followed by `second` and `third` (0 past the end). Bitwise `&`
/// and `|` rather than `&&` and `||`, so that it compiles without branches.
#[inline(always)]
fn starts_a_rewrite(first: u8, second: u8, third: u8) -> bool {
    // CR, the C0 controls XML forbids, and DEL.
    let control = ((first < 0x20) & (first != b'\n') & (first != b'\t')) | (first == 0x7F);
    // The C1 controls, U+0080-U+009F (C2 80 ..= C2 9F).
    let c1 = (first == 0xC2) & (second & 0xE0 == 0x80);
    // U+0300-U+07FF (CC-DF), U+0800-U+0FFF (E0), U+3000 and up (E3-FF).
    let other_lead = ((0xCC..=0xDF).contains(&first)) | (first == 0xE0) | (first >= 0xE3);
    // U+1000-U+1FFF but for U+1E00-U+1EFF (E1 B8 ..= E1 BB).
    let e1 = (first == 0xE1) & !(0xB8..=0xBB).contains(&second);
    // U+2000-U+2FFF but for U+2010-U+2027 (E2 80 90 ..= E2 80 A7),
    // U+2030-U+203F (E2 80 B0 ..= E2 80 BF) and U+2040-U+205E (E2 81 80 ..= E2 81 9E).
    let punctuation = ((second == 0x80)
        & ((0x90..=0xA7).contains(&third) | (0xB0..=0xBF).contains(&third)))
        | ((second == 0x81) & (0x80..=0x9E).contains(&third));
    let e2 = (first == 0xE2) & !punctuation;
    control | c1 | other_lead | e1 | e2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_is_named_as_such() {
        for (bom, encoding) in [([0xFF, 0xFE], "UTF-16LE"), ([0xFE, 0xFF], "UTF-16BE")] {
            let mut bytes = bom.to_vec();
            bytes.extend("Tiêu đề".encode_utf16().flat_map(u16::to_le_bytes));
            let error = decode(&bytes).unwrap_err();
            assert_eq!((error.line, error.column), (1, 1));
            assert!(error.message.contains(encoding), "{}", error.message);
            assert!(
                error.message.contains("iconv -f UTF-16 "),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn invalid_utf8_is_reported_by_line_and_character() {
        let error = decode(b"\xEF\xBB\xBFd\xc3\xb2ng 1\nd\xc3\xb2ng \xff").unwrap_err();
        assert_eq!((error.line, error.column), (2, 6));
        assert!(error.message.contains("byte 17"), "{}", error.message);
    }

    #[test]
    fn plain_news_text_needs_no_rewriting() {
        assert!(!may_need_rewriting(
            "Đời sống – “Chợ phiên” vùng cao…\n\tGiá lúa tăng 300–500 đồng/kg ‰"
        ));
    }

    #[test]
    fn anything_that_may_change_is_caught() {
        for text in [
            "a\rb",
            "a\u{0}b",
            "a\u{B}b",
            "a\u{7F}b",
            "a\u{85}b",
            "a\u{9F}b",
            "e\u{301}",
            "\u{FFFE}",
            "\u{FFFF}",
            "\u{2000}",
            "Ω\u{2126}",
            "한",
            "😀",
            "\u{1F71}",
        ] {
            assert!(may_need_rewriting(text), "{text:?}");
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_full_rewrite() {
        for c in (0u32..0x3_0000).filter_map(char::from_u32) {
            let text = format!("a{c}b\nc{c}");
            if !may_need_rewriting(&text) {
                let full: String = strip_forbidden(&text).nfc().collect();
                assert_eq!(full, text, "U+{:04X}", u32::from(c));
            }
        }
    }

    /// The check as it was first written: a step per character.
    fn may_need_rewriting_stepwise(text: &str) -> bool {
        let bytes = text.as_bytes();
        let byte = |i: usize| u32::from(bytes.get(i).copied().unwrap_or(0));
        let mut i = 0;
        while let Some(&lead) = bytes.get(i) {
            match lead {
                b'\n' | b'\t' | 0x20..=0x7E => i += 1,
                0x00..=0x1F | 0x7F => return true,
                0xC2 if matches!(bytes.get(i + 1), Some(0x80..=0x9F)) => return true,
                0xC2..=0xCB => i += 2,
                0xE0..=0xEF => {
                    let code = ((u32::from(lead) & 0x0F) << 12)
                        | ((byte(i + 1) & 0x3F) << 6)
                        | (byte(i + 2) & 0x3F);
                    if !matches!(code, 0x1E00..=0x1EFF | 0x2010..=0x2027 | 0x2030..=0x205E) {
                        return true;
                    }
                    i += 3;
                }
                _ => return true,
            }
        }
        false
    }

    #[test]
    fn every_character_at_every_offset_is_judged_as_stepping_would() {
        for c in (0u32..0x3_0000).filter_map(char::from_u32) {
            for before in [0, 1, 62, 63, 64, 65, 70] {
                let text = format!("{}{c}ộ", "a".repeat(before));
                assert_eq!(
                    may_need_rewriting(&text),
                    may_need_rewriting_stepwise(&text),
                    "U+{:04X} after {before}",
                    u32::from(c)
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_chunked_check_agrees_with_stepping(
            text in "[a-zộ“…\r\n\u{0}-\u{1F}\u{7F}-\u{A0}\u{300}\u{1E00}-\u{1EFF}\u{2000}-\u{2060}]{0,150}|\\PC{0,150}"
        ) {
            proptest::prop_assert_eq!(may_need_rewriting(&text), may_need_rewriting_stepwise(&text));
        }
    }
}
