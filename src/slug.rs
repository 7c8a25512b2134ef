//! Vietnamese-aware URL slugs: lowercase ASCII words joined by `-`.
//!
//! Knows nothing of files or feeds; a pure function of its input.

use unicode_normalization::UnicodeNormalization;

/// Turns a name into a slug: marks are dropped (`ế` → `e`), `đ`/`Đ` become
/// `d`, everything that is not an ASCII letter or digit separates words.
/// NFC and NFD spellings of one name give the same slug.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    let mut pending_dash = false;
    // Decomposing first strips combining marks reliably whatever the input's
    // normal form; deunicode then transliterates what is left (đ, ß, ...).
    let mut push = |c: char| {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    };
    for ch in name.nfd().filter(|c| !is_combining_mark(*c)) {
        if ch.is_ascii() {
            push(ch);
        } else {
            deunicode::deunicode_char(ch)
                .unwrap_or("")
                .chars()
                .for_each(&mut push);
        }
    }
    slug
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// True when `s` is already a slug: non-empty lowercase ASCII words joined by single dashes.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_marks_are_dropped() {
        assert_eq!(slugify("Đời sống"), "doi-song");
        assert_eq!(slugify("Chính trị"), "chinh-tri");
        assert_eq!(slugify("Thế giới"), "the-gioi");
        assert_eq!(slugify("Kinh tế - Xã hội"), "kinh-te-xa-hoi");
    }

    #[test]
    fn d_with_stroke_becomes_d() {
        assert_eq!(slugify("đường Đê La Thành"), "duong-de-la-thanh");
    }

    #[test]
    fn nfc_and_nfd_spellings_give_one_slug() {
        let nfc: String = "Đời sống Việt".nfc().collect();
        let nfd: String = "Đời sống Việt".nfd().collect();
        assert_ne!(nfc, nfd);
        assert_eq!(slugify(&nfc), slugify(&nfd));
        assert_eq!(slugify(&nfd), "doi-song-viet");
    }

    #[test]
    fn punctuation_and_spaces_collapse_to_single_dashes() {
        assert_eq!(slugify("  Hello, World!  "), "hello-world");
        assert_eq!(slugify("a -- b__c"), "a-b-c");
        assert_eq!(
            slugify("2026-11-18 Giá lúa tăng"),
            "2026-11-18-gia-lua-tang"
        );
        assert_eq!(slugify("C++ & Rust"), "c-rust");
        assert_eq!(slugify("000_dcc753fbd64ee8d5"), "000-dcc753fbd64ee8d5");
    }

    #[test]
    fn nothing_sluggable_gives_empty() {
        assert_eq!(slugify("!!! ???"), "");
    }

    #[test]
    fn is_slug_accepts_only_clean_slugs() {
        assert!(is_slug("doi-song"));
        assert!(is_slug("a1"));
        assert!(!is_slug("Doi-song"));
        assert!(!is_slug("-a"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug(""));
        assert!(!is_slug("a/b"));
    }
}
