//! Dates an article states (front matter `date`/`updated`, a `YYYY-MM-DD`
//! file-name prefix), parsed with jiff's own Temporal parser so that no
//! input, whatever characters it holds, is ever cut at a byte offset.

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::TimeZone;

const HINT: &str = "write RFC 3339 (2026-11-20T08:30:00+07:00) or YYYY-MM-DD[ HH:MM[:SS]]";

/// Parses RFC 3339 (`T` or a space between date and time, `Z` or a numeric
/// offset), or `YYYY-MM-DD[ HH:MM[:SS]]` without an offset, in `tz`. The
/// date must lie in years 1..=9999 both as written and in `tz`, where the
/// feeds print it.
pub fn parse_date(text: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    let invalid = |why: String| format!("{text:?} is not a valid date ({why}); {HINT}");
    let pieces = Pieces::parse(text).map_err(|e| invalid(e.to_string()))?;
    if pieces.time_zone_annotation().is_some() {
        return Err(invalid(
            "a [time zone] annotation is not supported; write the offset instead".into(),
        ));
    }
    let date = pieces.date();
    check_year(text, date.year())?;
    let civil = date.to_datetime(pieces.time().unwrap_or(Time::midnight()));
    let timestamp = match pieces.offset() {
        Some(PiecesOffset::Zulu) => civil.to_zoned(TimeZone::UTC),
        Some(PiecesOffset::Numeric(offset)) => civil.to_zoned(offset.offset().to_time_zone()),
        None => civil.to_zoned(tz.clone()),
        Some(_) => return Err(invalid("unsupported offset".into())),
    }
    .map(|zoned| zoned.timestamp())
    .map_err(|e| invalid(e.to_string()))?;
    check_year(text, timestamp.to_zoned(tz.clone()).year())?;
    Ok(timestamp)
}

fn check_year(text: &str, year: i16) -> Result<(), String> {
    if (1..=9999).contains(&year) {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is outside years 1 to 9999 (in the site's time zone, where feeds print it); {HINT}"
        ))
    }
}

/// The date of a `YYYY-MM-DD` file-name prefix (not followed by another
/// digit), at midnight in `tz`; `None` when the name has no such prefix.
pub fn file_name_date(stem: &str, tz: &TimeZone) -> Result<Option<Timestamp>, String> {
    let Some(prefix) = stem.get(..10) else {
        return Ok(None);
    };
    let looks_dated = prefix.bytes().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    }) && !stem
        .chars()
        .nth(prefix.len())
        .is_some_and(|c| c.is_ascii_digit());
    if !looks_dated {
        return Ok(None);
    }
    parse_date(prefix, tz).map(Some).map_err(|_| {
        format!("the file name starts with {prefix}, which is not a real date (or is outside years 1 to 9999); rename the file")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hcm() -> TimeZone {
        TimeZone::get("Asia/Ho_Chi_Minh").unwrap()
    }

    #[test]
    fn valid_dates() {
        let cases: &[(&str, &str)] = &[
            // RFC 3339 and its variants.
            ("2026-11-20T08:30:00+07:00", "2026-11-20T01:30:00Z"),
            ("2026-11-20T08:30:00Z", "2026-11-20T08:30:00Z"),
            ("2026-11-20t08:30:00z", "2026-11-20T08:30:00Z"),
            ("2026-11-20 08:30:00+07:00", "2026-11-20T01:30:00Z"),
            (
                "2026-11-20T08:30:00.123456789-05:30",
                "2026-11-20T14:00:00.123456789Z",
            ),
            ("2026-11-20T08:30:00-00:00", "2026-11-20T08:30:00Z"),
            ("2026-11-20T08:30Z", "2026-11-20T08:30:00Z"),
            // Naive dates and times, in the site's zone (UTC+7).
            ("2026-11-20", "2026-11-19T17:00:00Z"),
            ("2026-11-20 08:30", "2026-11-20T01:30:00Z"),
            ("2026-11-20 08:30:15", "2026-11-20T01:30:15Z"),
            ("2026-11-20T08:30", "2026-11-20T01:30:00Z"),
            ("  2026-11-20 08:30  ", "2026-11-20T01:30:00Z"),
            ("2028-02-29", "2028-02-28T17:00:00Z"),
            ("2026-11-20 23:59:59", "2026-11-20T16:59:59Z"),
            // The ends of the range.
            ("0001-01-01T07:00:00+07:00", "0001-01-01T00:00:00Z"),
            // Before 1906 the zone's rules are local mean time, UTC+7:06:30.
            ("0001-01-01", "0000-12-31T16:53:30Z"),
            ("9999-12-31", "9999-12-30T17:00:00Z"),
            ("9999-12-30T12:00:00Z", "9999-12-30T12:00:00Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_date(text, &hcm()),
                Ok(expected.parse::<Timestamp>().unwrap()),
                "{text}"
            );
        }
    }

    #[test]
    fn invalid_dates_are_errors_never_panics() {
        let cases: &[&str] = &[
            "",
            " ",
            "\t\n",
            "2026-11-2Đx",
            "2026-11-20Đ",
            "Đ2026-11-20",
            "2026-02-30",
            "2026-13-01",
            "2026-11-31",
            "2027-02-29",
            "2026-11-20 24:00",
            "2026-11-20 25:00",
            "2026-11-20 08:60",
            "2026-11-20T08:30:00+26:00",
            "0000-01-01",
            "0000-06-01T00:00:00Z",
            "-0001-01-01",
            "10000-01-01",
            "+010000-01-01",
            "9999-12-31T23:00:00-05:00",
            // 0001-01-01 at 06:00 in UTC+7 is year 0 in UTC, but the site's
            // zone is UTC+7 too, so only an offset west of it goes below.
            "0001-01-01T00:00:00+08:00",
            "20 tháng 11 năm 2026",
            "Thứ Sáu, 20/11/2026",
            "20/11/2026",
            "2026/11/20",
            "tomorrow",
            "2026-11-20[Asia/Ho_Chi_Minh]",
            "08:30",
            "2026-11-20 08:30 +07:00 extra",
        ];
        for text in cases {
            let error = parse_date(text, &hcm()).expect_err(text);
            assert!(error.contains(&format!("{:?}", text.trim())), "{error}");
            assert!(error.contains("RFC 3339"), "{error}");
        }
    }

    #[test]
    fn a_vietnamese_letter_at_every_position_is_an_error() {
        for base in ["2026-11-20 08:30:00+07:00", "2026-11-20"] {
            for letter in ["Đ", "ế", "ữ", "\u{301}"] {
                for at in 0..=base.len() {
                    let text = format!("{}{letter}{}", &base[..at], &base[at..]);
                    assert!(parse_date(&text, &hcm()).is_err(), "{text}");
                    let replaced = format!(
                        "{}{letter}{}",
                        &base[..at],
                        base.get(at + 1..).unwrap_or("")
                    );
                    assert!(parse_date(&replaced, &hcm()).is_err(), "{replaced}");
                }
            }
        }
    }

    #[test]
    fn file_name_prefixes() {
        let cases: &[(&str, Option<&str>)] = &[
            ("2026-11-18-gia-lua", Some("2026-11-17T17:00:00Z")),
            ("2026-11-18", Some("2026-11-17T17:00:00Z")),
            ("2026-11-18 Giá lúa", Some("2026-11-17T17:00:00Z")),
            ("2026-11-180", None),
            ("2026-11-1", None),
            ("gia-lua", None),
            ("2026-11-1Đ", None),
            ("Đ026-11-18", None),
            ("", None),
            ("2026_11_18", None),
        ];
        for (stem, expected) in cases {
            let expected = expected.map(|t| t.parse::<Timestamp>().unwrap());
            assert_eq!(file_name_date(stem, &hcm()), Ok(expected), "{stem}");
        }
        for stem in ["2026-13-45-x", "2026-02-30", "0000-01-01-x"] {
            let error = file_name_date(stem, &hcm()).expect_err(stem);
            assert!(error.contains("rename the file"), "{error}");
        }
    }
}
