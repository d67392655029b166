//! Notifications written by hand in the shapes other HISPs and MTAs send: compact and legacy
//! dispositions, folded and oddly cased fields, blank lines inside the report, LF line ends,
//! base64 report parts, wrapped reports, fields in the wrong place, and DSNs from MTAs. Each
//! must parse to the same typed notification, and feed the tracker as expected.

use direct_conformance::mdn::{
    DispositionKind, DsnAction, Event, MdnError, Notification, Outcome, StatusCode, Tracker,
    TrackerConfig, parse_notification,
};

const ID: &str = "<orig-42@hisp.direct.test>";

/// An MDN whose report part body is `fields` (CRLF), with the given outer Content-Type.
fn mdn_with(content_type: &str, part_type: &str, fields: &str) -> String {
    format!(
        "From: bob@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nSubject: Processed: x\r\n\
         Message-ID: <n1@sut.direct.test>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n\
         --B1\r\nContent-Type: text/plain\r\n\r\nNotification.\r\n\
         --B1\r\nContent-Type: {part_type}\r\n\r\n{fields}\r\n--B1--\r\n"
    )
}

fn standard(fields: &str) -> String {
    mdn_with(
        "multipart/report; report-type=disposition-notification; boundary=\"B1\"",
        "message/disposition-notification",
        fields,
    )
}

fn kind_of(raw: &str) -> (DispositionKind, String, String, bool) {
    match parse_notification(raw.as_bytes()) {
        Ok(Notification::Mdn(m)) => (
            m.disposition.kind,
            m.original_message_id,
            m.final_recipient,
            m.disposition.is_failure(),
        ),
        other => panic!("not an MDN: {other:?}\n{raw}"),
    }
}

#[test]
fn java_style_compact_fields() {
    let raw = standard(
        "Reporting-UA: sut.direct.test; NHINDSecurityAndTrustMailet\r\n\
         Final-Recipient: rfc822;bob@sut.direct.test\r\n\
         Original-Message-ID: <orig-42@hisp.direct.test>\r\n\
         Disposition: automatic-action/MDN-sent-automatically;dispatched\r\n\
         X-DIRECT-FINAL-DESTINATION-DELIVERY: \r\n",
    );
    let Ok(Notification::Mdn(m)) = parse_notification(raw.as_bytes()) else {
        panic!("parse");
    };
    assert_eq!(m.disposition.kind, DispositionKind::Dispatched);
    assert!(m.final_delivery);
    assert_eq!(m.final_recipient, "bob@sut.direct.test");
}

#[test]
fn odd_case_white_space_folding_and_blank_lines() {
    let shapes = [
        // Upper-case names, lower-case values.
        "REPORTING-UA: sut; x\r\nFINAL-RECIPIENT: RFC822; bob@sut.direct.test\r\nORIGINAL-MESSAGE-ID: <orig-42@hisp.direct.test>\r\nDISPOSITION: AUTOMATIC-ACTION/MDN-SENT-AUTOMATICALLY; PROCESSED\r\n",
        // Extra spaces everywhere, and before the colon.
        "Final-Recipient :   rfc822 ;   bob@sut.direct.test   \r\nOriginal-Message-ID:    <orig-42@hisp.direct.test>   \r\nDisposition :  automatic-action / MDN-sent-automatically ;   processed  \r\n",
        // Folded fields.
        "Final-Recipient:\r\n rfc822;\r\n\tbob@sut.direct.test\r\nOriginal-Message-ID:\r\n <orig-42@hisp.direct.test>\r\nDisposition: automatic-action/\r\n MDN-sent-automatically;\r\n processed\r\n",
        // Blank lines between the fields.
        "Final-Recipient: rfc822; bob@sut.direct.test\r\n\r\nOriginal-Message-ID: <orig-42@hisp.direct.test>\r\n\r\n\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n",
        // Angle brackets around the address, no brackets around the Message-ID, comments.
        "Final-Recipient: rfc822; <bob@sut.direct.test> (the user)\r\nOriginal-Message-ID: orig-42@hisp.direct.test\r\nDisposition: automatic-action/MDN-sent-automatically (auto); processed\r\n",
        // No "rfc822;" address type at all.
        "Final-Recipient: bob@sut.direct.test\r\nOriginal-Message-ID: <orig-42@hisp.direct.test>\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n",
    ];
    for (i, fields) in shapes.iter().enumerate() {
        let (kind, id, to, _) = kind_of(&standard(fields));
        assert_eq!(kind, DispositionKind::Processed, "shape {i}");
        assert_eq!(id, ID, "shape {i}");
        assert_eq!(to, "bob@sut.direct.test", "shape {i}");
    }
}

#[test]
fn legacy_failure_forms_are_failures() {
    for (disposition, kind) in [
        (
            "automatic-action/MDN-sent-automatically; failed",
            DispositionKind::Failed,
        ),
        (
            "automatic-action/MDN-sent-automatically;error",
            DispositionKind::Error,
        ),
        (
            "automatic-action/MDN-sent-automatically; denied",
            DispositionKind::Denied,
        ),
        (
            "automatic-action/MDN-sent-automatically; processed/error",
            DispositionKind::Processed,
        ),
        (
            "Automatic-Action/MDN-Sent-Automatically; Processed/Error",
            DispositionKind::Processed,
        ),
    ] {
        let raw = standard(&format!(
            "Final-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: {ID}\r\n\
             Disposition: {disposition}\r\nError: 550 mailbox unavailable\r\n"
        ));
        let (k, _, _, failure) = kind_of(&raw);
        assert_eq!(k, kind, "{disposition}");
        assert!(failure, "{disposition} is a failure");
    }
}

#[test]
fn container_and_part_spellings() {
    let fields = format!(
        "Final-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: {ID}\r\n\
         Disposition: automatic-action/MDN-sent-automatically; processed\r\n"
    );
    for (ct, part) in [
        (
            "Multipart/Report; Report-Type=Disposition-Notification; Boundary=B1",
            "Message/Disposition-Notification",
        ),
        (
            "multipart/report; boundary=B1",
            "message/disposition-notification",
        ),
        (
            "multipart/report;\r\n\treport-type=\"disposition-notification\";\r\n\tboundary=\"B1\"",
            "message/disposition-notification; charset=us-ascii",
        ),
        // Some senders put the report in a multipart/mixed.
        (
            "multipart/mixed; boundary=B1",
            "message/disposition-notification",
        ),
    ] {
        let (kind, ..) = kind_of(&mdn_with(ct, part, &fields));
        assert_eq!(kind, DispositionKind::Processed, "{ct} / {part}");
    }
    // LF-only line ends throughout.
    let lf = standard(&fields).replace("\r\n", "\n");
    assert_eq!(kind_of(&lf).0, DispositionKind::Processed);
    // The report part in base64 and quoted-printable.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&fields);
    let encoded = mdn_with(
        "multipart/report; report-type=disposition-notification; boundary=B1",
        "message/disposition-notification\r\nContent-Transfer-Encoding: base64",
        &b64,
    );
    assert_eq!(kind_of(&encoded).0, DispositionKind::Processed);
    let qp = mdn_with(
        "multipart/report; report-type=disposition-notification; boundary=B1",
        "message/disposition-notification\r\nContent-Transfer-Encoding: quoted-printable",
        &fields.replace("Disposition: ", "Disposition=3A =\r\n"),
    );
    assert_eq!(kind_of(&qp).0, DispositionKind::Processed);
}

#[test]
fn wrapped_and_misplaced_reports() {
    let inner = standard(&format!(
        "Final-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: {ID}\r\n\
         Disposition: automatic-action/MDN-sent-automatically; dispatched\r\n"
    ));
    // Wrapped, with an outer Message-ID that differs from the inner one (MDN-24).
    let wrapped = format!(
        "Message-ID: <outer@sut.direct.test>\r\nContent-Type: message/rfc822\r\n\r\n{inner}"
    );
    assert_eq!(kind_of(&wrapped).0, DispositionKind::Dispatched);
    // nhin-d #109: fields as MIME headers of the report part, body empty.
    let misplaced = mdn_with(
        "multipart/report; report-type=disposition-notification; boundary=B1",
        &format!(
            "message/disposition-notification\r\nFinal-Recipient: rfc822; bob@sut.direct.test\r\n\
             Original-Message-ID: {ID}\r\nDisposition: automatic-action/MDN-sent-automatically; processed"
        ),
        "",
    );
    assert_eq!(kind_of(&misplaced).0, DispositionKind::Processed);
}

#[test]
fn malformed_mdns_fail_with_a_reason() {
    let missing = standard(&format!(
        "Final-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: {ID}\r\n"
    ));
    assert_eq!(
        parse_notification(missing.as_bytes()),
        Err(MdnError::MissingField("Disposition"))
    );
    let garbled = standard(&format!(
        "Final-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: {ID}\r\n\
         Disposition: automatic-action/MDN-sent-automatically; ;processed\r\n"
    ));
    assert!(matches!(
        parse_notification(garbled.as_bytes()),
        Err(MdnError::BadField {
            field: "Disposition",
            ..
        })
    ));
}

fn dsn(body_parts: &str) -> String {
    format!(
        "From: MAILER-DAEMON@sut.direct.test\r\nTo: alice@hisp.direct.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"D1\"\r\n\r\n\
         This is a MIME-encapsulated message.\r\n\r\n--D1\r\nContent-Type: text/plain\r\n\r\nI'm sorry.\r\n\r\n{body_parts}--D1--\r\n"
    )
}

#[test]
fn postfix_style_dsn_with_the_returned_message() {
    let raw = dsn(&format!(
        "--D1\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.sut.direct.test\r\nX-Postfix-Queue-ID: 4F2A1\r\nArrival-Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n\r\n\
         Final-Recipient: rfc822; nobody@sut.direct.test\r\nOriginal-Recipient: rfc822;nobody@sut.direct.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Remote-MTA: dns; store.sut.direct.test\r\nDiagnostic-Code: smtp; 550 5.1.1 <nobody@sut.direct.test>:\r\n    Recipient address rejected\r\n\r\n\
         --D1\r\nContent-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n\
         From: alice@hisp.direct.test\r\nMessage-ID: {ID}\r\nSubject: hi\r\n\r\nbody\r\n\r\n"
    ));
    let Ok(Notification::Dsn(d)) = parse_notification(raw.as_bytes()) else {
        panic!("not a DSN");
    };
    assert_eq!(d.original_message_id.as_deref(), Some(ID));
    assert_eq!(d.reporting_mta.as_deref(), Some("dns; mx.sut.direct.test"));
    assert_eq!(d.per_recipient.len(), 1);
    let r = &d.per_recipient[0];
    assert_eq!(r.final_recipient, "nobody@sut.direct.test");
    assert_eq!(r.action, DsnAction::Failed);
    assert_eq!(r.status, Some(StatusCode::new(5, 1, 1)));
    assert!(
        r.diagnostic
            .as_deref()
            .is_some_and(|d| d.contains("Recipient address rejected"))
    );
}

#[test]
fn dotnet_style_dsn_split_per_recipient_with_headers_part() {
    let raw = dsn(&format!(
        "--D1\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns;sut.direct.test\r\nX-Original-Message-ID: {ID}\r\n\r\n\
         Final-Recipient: RFC822; <a@sut.direct.test>\r\nAction: Failed\r\nStatus: 5.7.31\r\n\r\n\
         final-recipient: rfc822;b@sut.direct.test\r\naction: failed\r\nstatus: 5.4.72 (timeout)\r\n\r\n\
         --D1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: alice@hisp.direct.test\r\nMessage-Id: {ID}\r\n\r\n"
    ));
    let Ok(Notification::Dsn(d)) = parse_notification(raw.as_bytes()) else {
        panic!("not a DSN");
    };
    assert_eq!(d.original_message_id.as_deref(), Some(ID));
    let got: Vec<_> = d
        .per_recipient
        .iter()
        .map(|r| (r.final_recipient.as_str(), r.action.clone(), r.status))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "a@sut.direct.test",
                DsnAction::Failed,
                Some(StatusCode::new(5, 7, 31))
            ),
            (
                "b@sut.direct.test",
                DsnAction::Failed,
                Some(StatusCode::new(5, 4, 72))
            ),
        ]
    );
}

#[test]
fn dsn_blank_lines_in_odd_places() {
    // The per-message block split in two, a recipient block split by a blank line, and no
    // blank line between two recipients.
    let raw = dsn(&format!(
        "--D1\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; sut.direct.test\r\n\r\nArrival-Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n\r\n\
         Final-Recipient: rfc822; a@sut.direct.test\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Final-Recipient: rfc822; b@sut.direct.test\r\nAction: delayed\r\nStatus: 4.4.7\r\n\r\n\
         --D1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ID}\r\n\r\n"
    ));
    let Ok(Notification::Dsn(d)) = parse_notification(raw.as_bytes()) else {
        panic!("not a DSN");
    };
    assert_eq!(d.reporting_mta.as_deref(), Some("dns; sut.direct.test"));
    let got: Vec<_> = d
        .per_recipient
        .iter()
        .map(|r| (r.final_recipient.as_str(), r.action.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a@sut.direct.test", DsnAction::Failed),
            ("b@sut.direct.test", DsnAction::Delayed)
        ]
    );
    let no_action = raw.replace("Action: failed\r\n", "");
    assert_eq!(
        parse_notification(no_action.as_bytes()),
        Err(MdnError::MissingField("Action"))
    );
}

#[test]
fn hand_written_notices_drive_the_tracker() {
    let t0 = time::macros::datetime!(2026-11-25 10:00 UTC);
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker
        .send(
            ID,
            &["bob@sut.direct.test".into(), "a@sut.direct.test".into()],
            true,
            t0,
        )
        .unwrap();
    let processed = standard(&format!(
        "final-recipient: rfc822; BOB@sut.direct.test\r\noriginal-message-id: {ID}\r\n\
         disposition: automatic-action/mdn-sent-automatically; processed\r\n"
    ));
    let dispatched = standard(&format!(
        "Final-Recipient: rfc822; bob@sut.direct.test\r\nOriginal-Message-ID: {ID}\r\n\
         Disposition: automatic-action/MDN-sent-automatically; dispatched\r\nX-DIRECT-FINAL-DESTINATION-DELIVERY:\r\n"
    ));
    let failure = dsn(&format!(
        "--D1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; sut.direct.test\r\n\r\n\
         Final-Recipient: rfc822; a@sut.direct.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --D1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ID}\r\n\r\n"
    ));
    let mut events = Vec::new();
    for raw in [&dispatched, &processed, &failure, &dispatched] {
        let n = parse_notification(raw.as_bytes()).expect("parses");
        events.extend(tracker.on_notification(&n, t0 + time::Duration::seconds(1)));
    }
    let settled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Settled {
                recipient, outcome, ..
            } => Some((recipient.as_str(), outcome.is_success())),
            _ => None,
        })
        .collect();
    assert_eq!(
        settled,
        vec![("bob@sut.direct.test", true), ("a@sut.direct.test", false)]
    );
    assert!(
        matches!(events.last(), Some(Event::Ignored { .. })),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Settled {
            outcome: Outcome::Failed { .. },
            ..
        }
    )));
    assert_eq!(tracker.open_recipients(), 0);
}
