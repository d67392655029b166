//! Reading the validator's JSON findings in tests.

use serde_json::Value;

/// (status, severity) of every finding with `id`.
pub fn outcome(findings: &[Value], id: &str) -> Vec<(String, String)> {
    findings
        .iter()
        .filter(|f| f["id"] == id)
        .map(|f| {
            (
                f["status"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
