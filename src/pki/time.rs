//! Epoch handling: validity periods and CRL dates are offsets in days from one fixed time.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_cert::time::Time;

use super::error::PkiError;

/// Parses `now` or an RFC 3339 date-time.
pub fn parse_epoch(text: &str) -> Result<OffsetDateTime, PkiError> {
    if text.trim().eq_ignore_ascii_case("now") {
        // Whole seconds: X.509 times have no fraction.
        let now = OffsetDateTime::now_utc();
        return now
            .replace_nanosecond(0)
            .map_err(|_| PkiError::Epoch(text.into()));
    }
    OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| PkiError::Epoch(text.into()))
}

pub fn format_rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

pub fn plus_days(epoch: OffsetDateTime, days: i64) -> OffsetDateTime {
    epoch + time::Duration::days(days)
}

/// X.509 Time (UTCTime before 2050, GeneralizedTime after) of an instant.
pub fn x509_time(t: OffsetDateTime) -> Result<Time, PkiError> {
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| PkiError::Epoch(format!("{t} is before 1970")))?;
    let dt = der::DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(PkiError::der(format!("time {t}")))?;
    Ok(Time::from(dt))
}
