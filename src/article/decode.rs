//! Bytes of an article file -> the text every other step reads.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use crate::xml_text::{has_forbidden, strip_forbidden};

/// UTF-8 with an optional BOM -> NFC text with LF line ends and no character
/// that XML 1.0 forbids. Err: the offset of the first invalid byte.
pub(super) fn decode(bytes: &[u8]) -> Result<String, usize> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let bom_len = bytes.len() - body.len();
    let text = std::str::from_utf8(body).map_err(|e| bom_len + e.valid_up_to())?;
    // Each step copies only text that it changes: most files need none.
    let mut text: Cow<'_, str> = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    if has_forbidden(&text) {
        text = Cow::Owned(strip_forbidden(&text).into_owned());
    }
    // Most text arrives in NFC already; the quick check skips the costly
    // decompose-recompose pass for it.
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        Ok(text.into_owned())
    } else {
        Ok(text.nfc().collect())
    }
}
