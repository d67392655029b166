//! RFC 5322 §3.3 date-time. The catalogue (VC-105) separates a value that does not parse (an
//! error) from one that parses only when spacing or comments are forgiven (a warning), so the
//! parser reads leniently and then compares with the canonical spacing.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::validate::grammar::lexer::Cursor;

/// A parsed date-time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub value: OffsetDateTime,
    /// Set when the value parses only with odd spacing (VC-105 makes that a warning).
    pub oddity: Option<String>,
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub fn date_time(value: &str) -> Result<DateTime, String> {
    // Comments are CFWS: remove them first (and note it).
    let mut had_comment = false;
    let mut stripped = Vec::new();
    let mut c = Cursor::new(value.as_bytes());
    while let Some(b) = c.peek() {
        if b == b'(' {
            let n = c.skip_cfws()?;
            had_comment |= n > 0;
            stripped.push(b' ');
        } else {
            stripped.push(b);
            c.pos += 1;
        }
    }
    let text = String::from_utf8(stripped).map_err(|_| "not ASCII".to_string())?;
    let spaced = text.replace(',', " , ");
    let mut tokens: Vec<&str> = spaced.split_ascii_whitespace().collect();

    let mut day_name = None;
    if tokens.get(1) == Some(&",") {
        let d = tokens[0];
        if !DAYS.contains(&d) {
            return Err(format!("unknown day name {d:?}"));
        }
        day_name = Some(d);
        tokens.drain(..2);
    }
    let [day, month, year, clock, zone] = tokens.as_slice() else {
        return Err(format!(
            "expected [day-name \",\"] day month year time zone, found {value:?}"
        ));
    };
    let day_n = digits(day, 1, 2).ok_or_else(|| format!("bad day {day:?}"))?;
    let month_i = MONTHS
        .iter()
        .position(|m| m == month)
        .ok_or_else(|| format!("bad month {month:?}"))?;
    let mut obsolete = Vec::new();
    let year_n = match year.len() {
        4.. => digits(year, 4, 9).ok_or_else(|| format!("bad year {year:?}"))?,
        2 | 3 => {
            obsolete.push("two- or three-digit year");
            let y = digits(year, 2, 3).ok_or_else(|| format!("bad year {year:?}"))?;
            if y < 50 { 2000 + y } else { 1900 + y }
        }
        _ => return Err(format!("bad year {year:?}")),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| digits(p, 2, 2).is_none()) {
        return Err(format!("bad time of day {clock:?}"));
    }
    let hms: Vec<u32> = parts.iter().filter_map(|p| digits(p, 2, 2)).collect();
    let offset_minutes: i32 = if let Some(sign) = zone.strip_prefix(['+', '-']) {
        let n = digits(sign, 4, 4).ok_or_else(|| format!("bad zone {zone:?}"))? as i32;
        let (h, m) = (n / 100, n % 100);
        if m > 59 {
            return Err(format!("bad zone {zone:?}"));
        }
        if zone.starts_with('-') {
            -(h * 60 + m)
        } else {
            h * 60 + m
        }
    } else {
        obsolete.push("obsolete zone name");
        match *zone {
            "UT" | "GMT" | "Z" | "z" => 0,
            "EDT" => -4 * 60,
            "EST" | "CDT" => -5 * 60,
            "CST" | "MDT" => -6 * 60,
            "MST" | "PDT" => -7 * 60,
            "PST" => -8 * 60,
            z if z.len() == 1 && z.chars().all(|c| c.is_ascii_alphabetic()) => 0,
            _ => return Err(format!("bad zone {zone:?}")),
        }
    };
    let month_t = Month::try_from(month_i as u8 + 1).map_err(|e| e.to_string())?;
    let date = Date::from_calendar_date(year_n as i32, month_t, day_n as u8)
        .map_err(|e| format!("no such date: {e}"))?;
    let second = hms.get(2).copied().unwrap_or(0);
    // RFC 5322 allows a leap second 60; time does not, so read it as 59.
    let tod = Time::from_hms(hms[0] as u8, hms[1] as u8, second.min(59) as u8)
        .map_err(|e| format!("bad time of day: {e}"))?;
    let offset =
        UtcOffset::from_whole_seconds(offset_minutes * 60).map_err(|e| format!("bad zone: {e}"))?;
    if let Some(d) = day_name
        && d != DAYS[date.weekday().number_days_from_monday() as usize]
    {
        return Err(format!("day name {d} does not match the date"));
    }
    let value_dt = PrimitiveDateTime::new(date, tod).assume_offset(offset);

    let canonical = match day_name {
        Some(d) => format!("{d}, {day} {month} {year} {clock} {zone}"),
        None => format!("{day} {month} {year} {clock} {zone}"),
    };
    // Obsolete forms (RFC 5322 §4.3) must be read but must not be generated: an error for
    // the sender, reported with the time they denote.
    if !obsolete.is_empty() {
        return Err(format!(
            "obsolete syntax ({}), which RFC 5322 §4 forbids generating; it reads as {value_dt}",
            obsolete.join(", ")
        ));
    }
    // Comments are legal CFWS; only the spacing of a comment-free value is compared.
    let oddity = (!had_comment && value.trim_matches([' ', '\t']) != canonical)
        .then(|| format!("odd spacing (canonical: {canonical:?})"));
    Ok(DateTime {
        value: value_dt,
        oddity,
    })
}

fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_dates_parse_cleanly() {
        let d = date_time("Wed, 25 Nov 2026 10:00:00 +0000").unwrap();
        assert_eq!(d.oddity, None);
        assert_eq!(d.value.unix_timestamp(), 1_795_600_800);
        assert!(
            date_time("1 Jan 2020 00:00 -0500")
                .unwrap()
                .oddity
                .is_none()
        );
    }

    #[test]
    fn odd_spacing_is_an_oddity_and_obsolete_forms_are_errors() {
        let odd = |v: &str| date_time(v).map(|d| d.oddity.is_some());
        assert_eq!(odd("Wed,25 Nov 2026  10:00:00 +0000"), Ok(true));
        assert_eq!(odd("Wed, 25 Nov 2026 10:00:00 +0000 (UTC)"), Ok(false));
        assert!(date_time("Wed, 25 Nov 2026 10:00:00 GMT").is_err());
        assert!(date_time("Wed, 25 Nov 26 10:00:00 +0000").is_err());
    }

    #[test]
    fn nonsense_is_an_error() {
        for bad in [
            "",
            "yesterday",
            "2026-11-25T10:00:00Z",
            "Thu, 25 Nov 2026 10:00:00 +0000",
            "31 Feb 2026 10:00:00 +0000",
            "25 Nov 2026 25:00:00 +0000",
            "25 Nov 2026 10:00:00 +00",
        ] {
            assert!(date_time(bad).is_err(), "{bad}");
        }
    }
}
