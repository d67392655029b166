//! The SUT's audit source: a file of JSON lines in the catalogue's §e.1 vocabulary. Lines that
//! are not JSON objects are kept as text, so that the evidence shows them.

use std::path::Path;

/// One audit line, parsed where possible.
#[derive(Clone, Debug)]
pub struct AuditLine {
    pub text: String,
    pub value: Option<serde_json::Value>,
}

impl AuditLine {
    fn str_field(&self, name: &str) -> Option<&str> {
        self.value.as_ref()?.get(name)?.as_str()
    }

    pub fn event(&self) -> Option<&str> {
        self.str_field("event")
    }

    pub fn reason(&self) -> Option<&str> {
        self.str_field("reason")
    }

    /// Whether the line is about `message_id` (compared without angle brackets, any case).
    pub fn about(&self, message_id: &str) -> bool {
        let bare = |s: &str| s.trim().trim_matches(['<', '>']).to_ascii_lowercase();
        ["message_id", "original_message_id"]
            .iter()
            .filter_map(|f| self.str_field(f))
            .any(|v| bare(v) == bare(message_id))
    }

    /// The recipients the line names (`to` and `final_recipient`).
    pub fn recipients(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .value
            .as_ref()
            .and_then(|v| v.get("to"))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(r) = self.str_field("final_recipient") {
            out.push(r.to_string());
        }
        out
    }
}

/// Every line of the audit file (an unreadable or missing file is an empty log).
pub fn read(path: &Path) -> Vec<AuditLine> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| AuditLine {
            text: l.to_string(),
            value: serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .filter(|v| v.is_object()),
        })
        .collect()
}
