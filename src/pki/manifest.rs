//! `manifest.json`: every file of the generated set with its purpose and hash, and every
//! credential with what a test author needs to know without opening the certificate.

use serde::{Deserialize, Serialize};

use super::spec::{Binding, ExtKeyUsageName, KeyUsageName, RevocationReason, SignatureHash};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// SHA-256 of the `pki.toml` text the set was generated from.
    pub spec_sha256: String,
    pub epoch: String,
    pub anchor: String,
    /// Password of every `bundle.p12`.
    pub pkcs12_password: String,
    pub pkcs12_format: String,
    pub files: Vec<FileEntry>,
    pub credentials: Vec<CredentialEntry>,
    pub crls: Vec<CrlEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the set's folder, `/`-separated.
    pub path: String,
    pub purpose: String,
    /// The credential (or CA) the file belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// Absent only for `manifest.json` itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CredentialEntry {
    pub name: String,
    pub ca: bool,
    pub purpose: String,
    pub subject: String,
    pub binding: Binding,
    pub san: Vec<String>,
    pub validity_class: String,
    pub not_before: String,
    pub not_after: String,
    pub issuer: String,
    pub serial: u64,
    pub key: String,
    /// `None`: no keyUsage extension.
    pub key_usage: Option<Vec<KeyUsageName>>,
    pub extended_key_usage: Vec<ExtKeyUsageName>,
    pub signature: SignatureHash,
    pub crl_url: Option<String>,
    pub aia_url: Option<String>,
    pub revoked: Option<RevokedInfo>,
    pub files: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevokedInfo {
    pub reason: RevocationReason,
    pub date: String,
    pub crl: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CrlEntry {
    pub ca: String,
    pub path: String,
    pub crl_number: u64,
    pub this_update: String,
    pub next_update: String,
    pub revoked: Vec<String>,
}
