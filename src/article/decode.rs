//! Bytes of an article file -> the text every other step reads.

use unicode_normalization::UnicodeNormalization;

use crate::xml_text::strip_forbidden;

/// UTF-8 with an optional BOM -> NFC text with LF line ends and no character
/// that XML 1.0 forbids or HTML does not allow (`xml_text`). Err: the offset of the first invalid byte.
pub(super) fn decode(bytes: &[u8]) -> Result<String, usize> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let bom_len = bytes.len() - body.len();
    // Every article is validated whole (an invalid byte anywhere is
    // reported), so the SIMD validator's speed on Vietnamese text counts.
    let text = simdutf8::compat::from_utf8(body).map_err(|e| bom_len + e.valid_up_to())?;
    if !may_need_rewriting(text) {
        return Ok(text.to_owned());
    }
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = strip_forbidden(&text);
    // The quick check skips the costly decompose-recompose pass for text
    // that is NFC already.
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        Ok(text.into_owned())
    } else {
        Ok(text.nfc().collect())
    }
}

/// Whether `text` may hold a CR, a character `xml_text` drops, or a character
/// that may not be in NFC. False only when it holds none: every character
/// is below U+0300 (no combining marks there), or Latin Extended Additional
/// (U+1E00-U+1EFF, Vietnamese's precomposed letters), or the General
/// Punctuation that news text uses (U+2010-U+2027, U+2030-U+205E): all
/// starters that are NFC on their own and never compose with what precedes
/// them. One pass over bytes, since it runs over every article.
fn may_need_rewriting(text: &str) -> bool {
    let bytes = text.as_bytes();
    let byte = |i: usize| u32::from(bytes.get(i).copied().unwrap_or(0));
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        match lead {
            b'\n' | b'\t' | 0x20..=0x7E => i += 1,
            // CR, the C0 controls XML forbids, and DEL.
            0x00..=0x1F | 0x7F => return true,
            // The C1 controls, U+0080-U+009F (C2 80 ..= C2 9F).
            0xC2 if matches!(bytes.get(i + 1), Some(0x80..=0x9F)) => return true,
            // U+00A0-U+02FF (lead bytes C2-CB); U+0300 and up from CC.
            0xC2..=0xCB => i += 2,
            0xE0..=0xEF => {
                let code = ((u32::from(lead) & 0x0F) << 12)
                    | ((byte(i + 1) & 0x3F) << 6)
                    | (byte(i + 2) & 0x3F);
                let plain = matches!(code, 0x1E00..=0x1EFF | 0x2010..=0x2027 | 0x2030..=0x205E);
                if !plain {
                    return true;
                }
                i += 3;
            }
            _ => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
