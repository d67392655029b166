//! The Disposition field of an MDN (RFC 3798 §3.2.6, RFC 8098 §3.2.6) as a typed value:
//! `action-mode "/" sending-mode ";" disposition-type ["/" modifier *("," modifier)]`.

use std::fmt;

use crate::mdn::error::MdnError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionMode {
    Automatic,
    Manual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendingMode {
    Automatic,
    Manual,
}

/// The disposition type. `Error` is the legacy failure type (RFC 2298; the Java RI before
/// agent 2.2.3), kept so that readers can treat it as a failure (MDN-13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DispositionKind {
    Processed,
    Dispatched,
    Displayed,
    Failed,
    Deleted,
    Denied,
    Error,
}

impl DispositionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DispositionKind::Processed => "processed",
            DispositionKind::Dispatched => "dispatched",
            DispositionKind::Displayed => "displayed",
            DispositionKind::Failed => "failed",
            DispositionKind::Deleted => "deleted",
            DispositionKind::Denied => "denied",
            DispositionKind::Error => "error",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "processed" => DispositionKind::Processed,
            "dispatched" => DispositionKind::Dispatched,
            "displayed" => DispositionKind::Displayed,
            "failed" => DispositionKind::Failed,
            "deleted" => DispositionKind::Deleted,
            "denied" => DispositionKind::Denied,
            "error" => DispositionKind::Error,
            _ => return None,
        })
    }
}

/// A parsed Disposition field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Disposition {
    pub action_mode: ActionMode,
    pub sending_mode: SendingMode,
    pub kind: DispositionKind,
    /// Lower-cased modifiers (`error`, and RFC 3798's `warning`, `superseded` …).
    pub modifiers: Vec<String>,
}

impl Disposition {
    /// What a HISP writes: `automatic-action/MDN-sent-automatically; <kind>`.
    pub fn automatic(kind: DispositionKind) -> Self {
        Disposition {
            action_mode: ActionMode::Automatic,
            sending_mode: SendingMode::Automatic,
            kind,
            modifiers: Vec::new(),
        }
    }

    /// Whether a reader must treat this as a failure notice: `failed`, the legacy `error` and
    /// `denied` types, or an `error`/`failed` modifier (MDN-13, REQUIREMENTS §12.4).
    pub fn is_failure(&self) -> bool {
        matches!(
            self.kind,
            DispositionKind::Failed | DispositionKind::Error | DispositionKind::Denied
        ) || self.modifiers.iter().any(|m| m == "error" || m == "failed")
    }

    /// Parses a Disposition value, tolerating case, comments and any white space (MDN-22).
    pub fn parse(value: &str) -> Result<Self, MdnError> {
        let bad = |reason: String| MdnError::BadField {
            field: "Disposition",
            reason,
        };
        let clean = strip_comments(value);
        let (modes, rest) = clean.split_once(';').ok_or_else(|| {
            bad(format!(
                "{value:?}: \"action-mode/sending-mode; type\" expected"
            ))
        })?;
        let (action, sending) = modes.split_once('/').ok_or_else(|| {
            bad(format!(
                "{:?}: action-mode/sending-mode expected",
                modes.trim()
            ))
        })?;
        let action_mode = match action.trim().to_ascii_lowercase().as_str() {
            "automatic-action" => ActionMode::Automatic,
            "manual-action" => ActionMode::Manual,
            other => return Err(bad(format!("unknown action mode {other:?}"))),
        };
        let sending_mode = match sending.trim().to_ascii_lowercase().as_str() {
            "mdn-sent-automatically" => SendingMode::Automatic,
            "mdn-sent-manually" => SendingMode::Manual,
            other => return Err(bad(format!("unknown sending mode {other:?}"))),
        };
        let (kind, modifiers) = match rest.split_once('/') {
            Some((k, m)) => (
                k,
                m.split(',')
                    .map(|x| x.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>(),
            ),
            None => (rest, Vec::new()),
        };
        let kind = DispositionKind::parse(kind.trim())
            .ok_or_else(|| bad(format!("unknown disposition type {:?}", kind.trim())))?;
        if modifiers.iter().any(|m| m.is_empty()) {
            return Err(bad("empty disposition modifier".into()));
        }
        Ok(Disposition {
            action_mode,
            sending_mode,
            kind,
            modifiers,
        })
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action_mode {
            ActionMode::Automatic => "automatic-action",
            ActionMode::Manual => "manual-action",
        };
        let sending = match self.sending_mode {
            SendingMode::Automatic => "MDN-sent-automatically",
            SendingMode::Manual => "MDN-sent-manually",
        };
        write!(f, "{action}/{sending}; {}", self.kind.as_str())?;
        if !self.modifiers.is_empty() {
            write!(f, "/{}", self.modifiers.join(","))?;
        }
        Ok(())
    }
}

/// Removes RFC 5322 comments (nested, with quoted-pairs); an unclosed one runs to the end.
pub(crate) fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut escaped = false;
    for ch in value.chars() {
        if depth > 0 {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
        } else if ch == '(' {
            depth = 1;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_in_any_case_and_spacing() {
        for (text, kind) in [
            (
                "automatic-action/MDN-sent-automatically; processed",
                DispositionKind::Processed,
            ),
            (
                "Automatic-Action/MDN-Sent-Automatically;Dispatched",
                DispositionKind::Dispatched,
            ),
            (
                "manual-action/MDN-sent-manually; displayed",
                DispositionKind::Displayed,
            ),
            (
                "automatic-action / mdn-sent-automatically ;  FAILED ",
                DispositionKind::Failed,
            ),
            (
                "automatic-action/MDN-sent-automatically; deleted",
                DispositionKind::Deleted,
            ),
            (
                "automatic-action/MDN-sent-automatically; denied",
                DispositionKind::Denied,
            ),
            (
                "automatic-action/MDN-sent-automatically; error",
                DispositionKind::Error,
            ),
            (
                "automatic-action (why) /MDN-sent-automatically; processed (ok)",
                DispositionKind::Processed,
            ),
        ] {
            assert_eq!(Disposition::parse(text).map(|d| d.kind), Ok(kind), "{text}");
        }
    }

    #[test]
    fn failures_and_modifiers() {
        let d =
            Disposition::parse("automatic-action/MDN-sent-automatically; processed/Error").unwrap();
        assert_eq!(d.modifiers, vec!["error".to_string()]);
        assert!(d.is_failure());
        for k in ["failed", "error", "denied"] {
            let text = format!("automatic-action/MDN-sent-automatically; {k}");
            assert!(Disposition::parse(&text).unwrap().is_failure(), "{k}");
        }
        assert!(!Disposition::automatic(DispositionKind::Dispatched).is_failure());
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        for text in [
            "",
            "processed",
            "automatic-action; processed",
            "automatic-action/MDN-sent-automatically; eaten",
            "robot-action/MDN-sent-automatically; processed",
            "automatic-action/MDN-sent-by-pigeon; processed",
            "automatic-action/MDN-sent-automatically; processed/",
            "(unclosed",
        ] {
            assert!(
                matches!(Disposition::parse(text), Err(MdnError::BadField { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        let d = Disposition::automatic(DispositionKind::Processed);
        assert_eq!(
            d.to_string(),
            "automatic-action/MDN-sent-automatically; processed"
        );
        let mut e = Disposition::automatic(DispositionKind::Failed);
        e.modifiers.push("error".into());
        assert_eq!(Disposition::parse(&e.to_string()), Ok(e));
    }
}
