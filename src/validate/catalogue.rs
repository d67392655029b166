//! The check catalogue (TEST-CATALOGUE §f): every VC check declared once, with its requirement
//! ids, one line of description, the ETT row it replaces and its severity per profile. The
//! `--list-checks` output, the reports and the engine all read this one table.
//!
//! Severity follows the requirement keyword (REQUIREMENTS §1.2: SHALL → E, SHOULD → W, MAY → I)
//! as the catalogue's severity column states it; where the catalogue gives a profile split
//! (ds-1.3 / ats-1.2) the two columns differ. Checks whose severity depends on what they find
//! (for example 3DES versus AES) declare the highest severity here and say how it varies in
//! `varies`; the check function picks the lower one when it applies.

use serde::Serialize;

use crate::validate::finding::{Profile, Severity};

/// One catalogue entry.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckInfo {
    pub id: &'static str,
    pub requirements: &'static [&'static str],
    pub description: &'static str,
    /// The ETT/DTS row the check replaces or corrects ("—" when ETT has none).
    pub ett: &'static str,
    #[serde(rename = "ds-1.3")]
    pub ds13: Severity,
    #[serde(rename = "ats-1.2")]
    pub ats12: Severity,
    /// How the severity varies with what is found, when it does ("" otherwise).
    pub varies: &'static str,
}

impl CheckInfo {
    pub fn severity(&self, profile: Profile) -> Severity {
        match profile {
            Profile::Ds13 => self.ds13,
            Profile::Ats12 => self.ats12,
        }
    }

    /// The family: `1xx` … `8xx`.
    pub fn family(&self) -> char {
        self.id.as_bytes().get(3).map(|b| *b as char).unwrap_or('?')
    }
}

use Severity::{Error as E, Info as I, Warning as W};

const fn c(
    id: &'static str,
    requirements: &'static [&'static str],
    description: &'static str,
    ett: &'static str,
    ds13: Severity,
    ats12: Severity,
    varies: &'static str,
) -> CheckInfo {
    CheckInfo {
        id,
        requirements,
        description,
        ett,
        ds13,
        ats12,
        varies,
    }
}

/// Every check, in catalogue order (kept one line per check so that it reads as a table).
#[rustfmt::skip]
pub static CATALOGUE: &[CheckInfo] = &[
    // VC-1xx: RFC 5322 headers
    c("VC-101", &["MSG-14"], "every header field is US-ASCII (RFC 2047 encoded-words allowed)", "DTS 196", E, E, ""),
    c("VC-102", &["MSG-12", "MSG-13"], "MIME-Version present, 1*DIGIT \".\" 1*DIGIT", "DTS 102b", E, E, ""),
    c("VC-103", &["MSG-12", "MSG-13"], "From present, valid mailbox-list", "DTS 115", E, E, ""),
    c("VC-104", &["MSG-12", "MSG-13"], "To present, valid address-list", "DTS 118", E, E, ""),
    c("VC-105", &["MSG-12", "MSG-13"], "Date present, valid date-time", "DTS 114", E, E, "W when only the spacing is odd"),
    c("VC-106", &["MSG-12", "MSG-13", "EDGE-11"], "Message-ID present, valid msg-id", "DTS 121", E, E, ""),
    c("VC-107", &["MSG-13"], "Bcc absent", "DTS 120", W, W, ""),
    c("VC-108", &["MSG-14"], "Resent-* fields valid and grouped", "DTS 107-113, 197", E, E, ""),
    c("VC-109", &["MSG-13"], "Sender, when present, differs from From", "DTS 116", I, I, ""),
    c("VC-110", &["MSG-13"], "Reply-To, Cc, In-Reply-To, References well-formed", "DTS 117, 119, 122, 123", E, E, ""),
    c("VC-111", &["MSG-13"], "Received and Return-Path well-formed", "DTS 103-106", W, W, ""),
    c("VC-112", &["MSG-17", "MSG-18"], "an attached XDM ZIP is recognised (IHE_XDM layout) and Subject carries XDM/1.0/DDM", "DTS 124", W, W, ""),
    c("VC-113", &["MDN-08"], "Disposition-Notification-To holds a valid address", "DTS 128", E, E, ""),
    c("VC-114", &["MDN-08", "MDN-09"], "Disposition-Notification-Options parses per RFC 3798 and requests X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true", "DTS 453 (information only)", E, E, ""),
    c("VC-115", &["MSG-12"], "wrapped message: outer From, To, Date, Message-ID agree with the inner ones", "—", W, W, ""),
    c("VC-116", &[], "Comments, Keywords, other optional fields", "DTS 125-127", I, I, ""),
    // VC-2xx: MIME entities
    c("VC-201", &["MSG-15"], "Content-Type has type and subtype and valid parameters", "DTS 133-145-146, 191", E, E, ""),
    c("VC-202", &["MSG-15"], "boundary 1-70 characters from the RFC 2046 set, quoted when it holds specials", "DTS 137-140 (wrongly forbids ':')", E, E, ""),
    c("VC-203", &["MSG-15"], "transfer encoding allowed for the part kind", "DTS 136-148-157, 206", E, E, ""),
    c("VC-204", &["MSG-07", "MSG-15"], "CRLF line ends only, no bare CR/LF, no control characters but TAB, lines <= 998 octets", "DTS 195", E, E, ""),
    c("VC-205", &["MSG-15"], "Content-Disposition well-formed, no comments", "DTS 190, 161-194", E, E, ""),
    c("VC-206", &["MSG-15"], "Content-ID is a msg-id", "DTS 134-143", E, E, ""),
    c("VC-207", &["MSG-15"], "non-MIME headers in parts begin with Content- only when they are MIME fields", "DTS 138-149", I, I, ""),
    c("VC-208", &["MSG-15"], "multipart structure closes, every part parses", "—", E, E, ""),
    c("VC-209", &["MSG-06"], "base64 bodies decode cleanly, lines <= 76 characters", "—", E, E, ""),
    // VC-3xx: S/MIME structure
    c("VC-301", &["MSG-01", "MSG-03"], "outer type application/pkcs7-mime (x-pkcs7-mime accepted with a note)", "DTS 133a, 129", E, E, ""),
    c("VC-302", &["MSG-02"], "smime-type=enveloped-data (or authEnveloped-data for GCM)", "DTS 202, 193", W, W, ""),
    c("VC-303", &["MSG-02"], "name=smime.p7m", "DTS 201, 192", W, W, ""),
    c("VC-304", &["MSG-02"], "Content-Disposition filename smime.p7m", "DTS 203, 156, 161-194", W, W, ""),
    c("VC-305", &["MSG-06"], "enveloped entity base64", "—", E, E, ""),
    c("VC-306", &["MSG-04", "ENC-11"], "decrypted content is multipart/signed", "DTS 133b", E, E, ""),
    c("VC-307", &["MSG-04"], "protocol=\"application/pkcs7-signature\"", "DTS 205", E, E, ""),
    c("VC-308", &["SIG-06", "SIG-07"], "micalg present, normalised, equal to the SignerInfo digest; older spelling noted", "DTS 160, 165", E, E, "I for the older spelling (sha256)"),
    c("VC-309", &["MSG-04"], "exactly two parts", "DTS 207, 152", E, E, ""),
    c("VC-310", &["MSG-05", "MSG-06"], "second part application/pkcs7-signature, base64", "DTS 155, 158", E, E, ""),
    c("VC-311", &["MSG-08", "MSG-09", "MSG-11"], "first part is a wrapped message/rfc822 (parameters tolerated)", "DTS 139, 151", W, E, ""),
    c("VC-312", &["MSG-13"], "the wrapped message has From, To, Date, Message-ID, MIME-Version", "—", E, E, ""),
    c("VC-313", &["MSG-04"], "nesting: no further encryption or signing layers inside", "—", I, I, ""),
    // VC-4xx: CMS
    c("VC-401", &["MSG-01", "ENC-04"], "ContentInfo parses; EnvelopedData or AuthEnvelopedData well-formed", "—", E, E, ""),
    c("VC-402", &["ENC-01", "ENC-02", "ENC-03", "ENC-04"], "content cipher AES-128/192/256-CBC (AES-GCM under ds-1.3); 3DES/RC2/DES rejected", "\"Encryption Algorithm used\" (information, never enforced)", E, E, "3DES W under ats-1.2; AES-GCM W under ats-1.2"),
    c("VC-403", &["ENC-05", "ENC-06"], "key transport rsaEncryption, or RSAES-OAEP with consistent parameters", "—", E, E, ""),
    c("VC-404", &["ENC-07", "ENC-09"], "a RecipientInfo matches the given recipient certificate and decrypts", "—", E, E, "not evaluated without a key"),
    c("VC-405", &["ENC-07", "ENC-08"], "inventory of every RecipientInfo (who else it was encrypted to)", "—", I, I, ""),
    c("VC-406", &["MSG-05"], "SignedData present, version valid", "DTS 164", E, E, ""),
    c("VC-407", &["MSG-05"], "detached: no eContent", "DTS 182", E, E, ""),
    c("VC-408", &["SIG-02"], "at least one certificate, signer certificate included", "DTS 167", E, E, ""),
    c("VC-409", &["SIG-03", "SIG-04", "SIG-05"], "digest SHA-256/384/512; SHA-1 rejected under ds-1.3; MD5 rejected", "DTS 165 (sha1/sha256 only)", E, E, "SHA-1 W under ats-1.2"),
    c("VC-410", &["SIG-13"], "signed attributes hold contentType and a matching messageDigest", "DTS 178-180 (stubs)", E, E, ""),
    c("VC-411", &["SIG-01", "MSG-07"], "signature verifies", "DTS C1", E, E, ""),
    c("VC-412", &["SIG-10"], "signature algorithm fits the key (RSA PKCS#1 v1.5, ECDSA with SHA-256/384)", "—", E, E, ""),
    c("VC-413", &["CERT-06"], "signingTime, if present, inside the signer's validity and not in the future beyond skew", "—", W, W, ""),
    c("VC-414", &["SIG-14"], "SMIMECapabilities listed", "—", I, I, ""),
    c("VC-415", &["SIG-02"], "every SignerInfo's sid resolves to an included certificate", "DTS 173-176 (stubs)", E, E, ""),
    // VC-5xx: certificates
    c("VC-501", &["CERT-03"], "subject DN present", "DTS 225", E, E, ""),
    c("VC-502", &["SIG-11", "CERT-01", "CERT-02", "CERT-04", "MSG-19"], "SAN present and bound to the From address (rfc822Name) or its domain (dNSName), case-insensitive", "DTS 240 (presence only)", E, E, ""),
    c("VC-503", &["CERT-01", "CERT-02"], "SAN values well-formed: rfc822Name an addr-spec, dNSName an LDH name", "DTS C4, C5, C7 (never called)", E, E, ""),
    c("VC-504", &["CERT-03"], "subject emailAddress, if present, equals the SAN rfc822Name", "—", E, E, ""),
    c("VC-505", &["CERT-06", "CERT-07"], "validity present and current at validation time", "\"SVAP 2022\" validity row", E, E, ""),
    c("VC-506", &["SIG-08", "SIG-09", "ENC-10", "CERT-13"], "key RSA >= 2048 (larger fine), EC P-256/P-384 under ds-1.3, DSA rejected", "\"SVAP 2022\" key-length row (casts EC keys to RSA)", E, E, "RSA < 2048 W under ats-1.2"),
    c("VC-507", &["SIG-15"], "certificate signature algorithm SHA-256 or stronger (RSA or ECDSA)", "\"SVAP 2022\" row (SHA-256 only)", E, W, ""),
    c("VC-508", &["CERT-05"], "keyUsage fits the role (digitalSignature; keyEncipherment)", "—", E, E, ""),
    c("VC-509", &["CERT-10"], "extendedKeyUsage, when present, allows emailProtection", "—", W, W, ""),
    c("VC-510", &["CERT-08"], "no wildcard in CN or dNSName", "\"SVAP 2022\" CN row", E, W, ""),
    c("VC-511", &["CERT-09"], "SAN multiplicity: several values, or both kinds", "DTS 240 (warning)", W, W, ""),
    c("VC-512", &["CERT-05"], "end-entity basicConstraints not cA", "—", W, W, ""),
    c("VC-513", &["CERT-12"], "DirectTrust policy OIDs listed", "—", I, I, ""),
    c("VC-514", &["CERT-11"], "CRL DP and AIA present, http scheme", "—", I, I, "W for a non-http CRL DP"),
    // VC-6xx: trust
    c("VC-601", &["TRUST-01", "TRUST-03"], "a path reaches a supplied anchor (anchors need not be self-signed)", "—", E, E, ""),
    c("VC-602", &["TRUST-04", "SIG-02"], "intermediates from SignedData, then AIA (DER or .p7c); every fetch logged", "—", E, E, "E when no path"),
    c("VC-603", &["TRUST-06"], "every path certificate inside its validity", "—", E, E, ""),
    c("VC-604", &["TRUST-01"], "CA certificates: cA true, keyCertSign", "—", E, E, ""),
    c("VC-605", &["TRUST-07", "TRUST-08", "TRUST-09"], "revocation by CRL for each certificate with a DP: issuer, signature, nextUpdate; revoked E", "—", E, E, "unreachable CRL W (E in strict mode)"),
    c("VC-606", &["TRUST-01"], "path length and name constraints respected", "—", E, E, ""),
    c("VC-607", &["TRUST-05"], "offline mode: checks that need the network report not evaluated", "—", I, I, ""),
    // VC-7xx: MDN
    c("VC-701", &["MDN-02"], "the MDN is signed and encrypted", "DTS 450", E, E, ""),
    c("VC-702", &["MDN-05"], "multipart/report; report-type=disposition-notification with a message/disposition-notification part", "DTS 455, 456", E, E, ""),
    c("VC-703", &["MDN-05"], "report fields in the part body, not in its MIME header", "—", E, E, ""),
    c("VC-704", &["MDN-07"], "no Disposition-Notification-To or -Options in the MDN", "DTS 452, 453", E, E, ""),
    c("VC-705", &["MDN-06"], "Reporting-UA present and well-formed", "DTS 457", W, W, ""),
    c("VC-706", &["MDN-06"], "MDN-Gateway well-formed when present", "DTS 458", E, E, ""),
    c("VC-707", &["MDN-06"], "Original-Recipient well-formed when present", "DTS 454, 459", E, E, ""),
    c("VC-708", &["MDN-06"], "Final-Recipient present as rfc822; <address>", "DTS 460 (warning only)", E, E, ""),
    c("VC-709", &["MDN-06", "MDN-22"], "Original-Message-ID present, valid, and matching a known message when correlation data is given", "DTS 461 (warning only)", E, E, ""),
    c("VC-710", &["MDN-06", "MDN-12", "MDN-13"], "Disposition parses: action and sending mode, type processed/dispatched/failed; legacy error reported", "DTS 462", E, E, ""),
    c("VC-711", &["MDN-10", "MDN-11"], "X-DIRECT-FINAL-DESTINATION-DELIVERY is in the body of a dispatched MDN exactly when the request was valid", "—", E, E, ""),
    c("VC-712", &["MDN-12"], "a failed MDN carries a Failure field", "DTS 463", W, W, ""),
    c("VC-713", &["MDN-06"], "Error, Warning and extension fields well-formed", "DTS 464-466", E, E, ""),
    c("VC-714", &["MDN-05"], "MDN From is the final recipient (or its HISP), To is the original Disposition-Notification-To or From", "—", W, W, ""),
    c("VC-715", &["MDN-05"], "Subject present", "—", W, W, ""),
    // VC-8xx: DSN
    c("VC-801", &["MDN-23"], "multipart/report; report-type=delivery-status with a message/delivery-status part", "—", E, E, ""),
    c("VC-802", &["MDN-23"], "per-message fields (Reporting-MTA) present", "—", E, E, ""),
    c("VC-803", &["MDN-23"], "per-recipient Final-Recipient, Action: failed, Status 5.x.x", "—", E, E, ""),
    c("VC-804", &["MDN-22", "MDN-23"], "the original Message-ID is carried (headers part, message part, or X-Original-Message-ID)", "ETT MT rule (string search)", E, E, ""),
    c("VC-805", &["MDN-17"], "only failed recipients are listed", "—", W, W, ""),
];

/// The catalogue entry of `id`.
pub fn lookup(id: &str) -> Option<&'static CheckInfo> {
    CATALOGUE.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_complete() {
        let ids: Vec<&str> = CATALOGUE.iter().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted, "catalogue ids must be unique and in order");
        // §f: 16 + 9 + 13 + 15 + 14 + 7 + 15 + 5
        assert_eq!(ids.len(), 94);
        for family in ['1', '2', '3', '4', '5', '6', '7', '8'] {
            assert!(CATALOGUE.iter().any(|c| c.family() == family));
        }
    }

    #[test]
    fn profile_splits_follow_requirements_1_4() {
        // wrapping: SHOULD under ds-1.3, SHALL under ats-1.2
        assert_eq!(lookup("VC-311").map(|c| c.severity(Profile::Ds13)), Some(W));
        assert_eq!(
            lookup("VC-311").map(|c| c.severity(Profile::Ats12)),
            Some(E)
        );
        // certificate signature algorithm and wildcards soften under ats-1.2
        for id in ["VC-507", "VC-510"] {
            let c = lookup(id).expect("present");
            assert_eq!((c.ds13, c.ats12), (E, W), "{id}");
        }
    }

    #[test]
    fn every_requirement_id_is_well_formed() {
        for c in CATALOGUE {
            for r in c.requirements {
                let (area, n) = r.split_once('-').expect("AREA-NN");
                assert!(area.chars().all(|ch| ch.is_ascii_uppercase()), "{r}");
                assert!(n.chars().all(|ch| ch.is_ascii_digit()), "{r}");
            }
        }
    }
}
