//! What the validator may know about the message a notification answers. The harness sets it
//! (it sent that message); the command line has no flag for it, so from there the checks that
//! need it (VC-709 matching, VC-711, VC-714's To) say they could not compare.

use crate::validate::checks::headers::requests_final_delivery;
use crate::validate::grammar::address::{mailbox_list, msg_id};
use crate::validate::grammar::fields::parse_header;

/// Facts about the original message(s).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Correlation {
    /// Message-IDs (with angle brackets) the notification may answer.
    pub message_ids: Vec<String>,
    /// Where notifications should go: the original's Disposition-Notification-To addresses,
    /// else its From (addr-specs).
    pub notify_to: Vec<String>,
    /// Whether the original carried a valid timely-and-reliable request (MDN-08); None when
    /// not known.
    pub final_delivery_requested: Option<bool>,
}

impl Correlation {
    /// Reads the facts from the original message as sent (its header is enough).
    pub fn from_original(raw: &[u8]) -> Self {
        let (head, _) = crate::smime::entity::split_header_body(raw);
        let h = parse_header(head);
        let addresses = |name: &str| -> Vec<String> {
            h.value(name)
                .and_then(|v| mailbox_list(v).ok())
                .map(|l| l.iter().map(|m| m.addr_spec()).collect())
                .unwrap_or_default()
        };
        let mut notify_to = addresses("Disposition-Notification-To");
        if notify_to.is_empty() {
            notify_to = addresses("From");
        }
        Correlation {
            message_ids: h
                .value("Message-ID")
                .and_then(|v| msg_id(v).ok())
                .into_iter()
                .collect(),
            notify_to,
            final_delivery_requested: Some(
                h.value("Disposition-Notification-Options")
                    .is_some_and(requests_final_delivery)
                    && h.get("Disposition-Notification-To").is_some(),
            ),
        }
    }

    /// Whether `id` (a parsed msg-id) is one of the known Message-IDs.
    pub fn knows(&self, id: &str) -> bool {
        self.message_ids.iter().any(|k| k == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_original() {
        let c = Correlation::from_original(
            b"From: Alice <alice@h.test>\r\nMessage-ID: <1@h.test>\r\nDisposition-Notification-To: track@h.test\r\nDisposition-Notification-Options: X-DIRECT-FINAL-DESTINATION-DELIVERY=optional,true\r\n\r\nbody",
        );
        assert!(c.knows("<1@h.test>"));
        assert_eq!(c.notify_to, vec!["track@h.test".to_string()]);
        assert_eq!(c.final_delivery_requested, Some(true));
        let c = Correlation::from_original(b"From: alice@h.test\r\nMessage-ID: <2@h.test>\r\n\r\n");
        assert_eq!(c.notify_to, vec!["alice@h.test".to_string()]);
        assert_eq!(c.final_delivery_requested, Some(false));
    }
}
