Feature: MDN: the SUT as receiving HISP acknowledges what it accepts
  The harness HISP hisp.direct.test sends the SUT's primary test recipient a default Direct
  message. The SUT must answer with MDNs that are themselves Direct messages (signed and
  encrypted: the harness HISP refuses anything else), processed at once, dispatched after
  delivery when timely and reliable delivery was requested, and never an MDN for an MDN.

  @MT39 @req-MDN-01 @req-MDN-02 @req-MDN-05 @req-MDN-06 @req-MDN-10
  Scenario: MT39 processed and dispatched MDNs answer a timely-and-reliable request
    Given a Direct message from the harness to the SUT's primary recipient
    When the harness delivers it to the SUT's backbone
    Then a processed MDN for the message reaches the harness
    And a dispatched MDN for the message reaches the harness
    And the dispatched MDN carries the final-delivery extension field

  @MN1 @req-MDN-01
  Scenario: MN1 a processed MDN is sent even without a request
    Given a Direct message from the harness to the SUT's primary recipient
    And the message asks for no notifications
    When the harness delivers it to the SUT's backbone
    Then a processed MDN for the message reaches the harness

  @MN1 @negative @req-MDN-10 @req-MDN-11
  Scenario: MN1 no dispatched MDN with the extension field when none was requested
    Given a Direct message from the harness to the SUT's primary recipient
    And the message asks for no notifications
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And no dispatched MDN with the final-delivery extension field reaches the harness

  @MN2 @negative @req-MDN-04
  Scenario: MN2 an MDN is never answered with an MDN
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is a processed MDN for a message the SUT never sent
    When the harness delivers it to the SUT's backbone
    Then no MDN for the message reaches the harness

  @RX-22 @negative @req-MDN-03
  Scenario: RX-22 a message that fails trust gets no MDN at all
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_untrusted" certificate
    When the harness delivers it to the SUT's backbone
    Then no MDN for the message reaches the harness

  @MN4 @req-MDN-09 @req-MDN-10
  Scenario: MN4 a request written in another case is honoured
    Given a Direct message from the harness to the SUT's primary recipient
    And the message's Disposition-Notification-Options header reads x-direct-final-destination-delivery=Optional,True
    When the harness delivers it to the SUT's backbone
    Then a processed MDN for the message reaches the harness
    And a dispatched MDN for the message reaches the harness
    And the dispatched MDN carries the final-delivery extension field

  @MT40 @req-MDN-11
  Scenario: MT40 a malformed request gets a processed MDN and no extension field
    Given a Direct message from the harness to the SUT's primary recipient
    And the message's Disposition-Notification-Options header reads X-XXXX-FINAL-X-DELXXXX=optioXXX,tXX
    When the harness delivers it to the SUT's backbone
    Then a processed MDN for the message reaches the harness
    And no dispatched MDN with the final-delivery extension field reaches the harness

  @MT1 @req-MDN-16 @req-MDN-23
  Scenario: MT1 a message to a non-existent address brings a failure notice to the edge user
    When the SUT's edge user submits a message to badaddress@hisp.direct.test
    Then a failure notice for the message reaches the edge user

  @MT2 @negative @req-TRUST-02 @req-SEC-05 @req-MDN-16
  Scenario: MT2 nothing goes to a receiving HISP that is not trusted, and the edge user is told
    When the SUT's edge user submits a message to user@untrusted.direct.test
    Then the SUT sends nothing toward untrusted.direct.test within the silence window
    And a failure notice for the message reaches the edge user

  @MT3 @negative @req-DISC-17 @req-MDN-16
  Scenario: MT3 nothing goes to a recipient whose certificate is not published, and the edge user is told
    When the SUT's edge user submits a message to user@nocert.direct.test
    Then the SUT sends nothing toward nocert.direct.test within the silence window
    And a failure notice for the message reaches the edge user

  @MT4 @req-MDN-15 @req-MDN-19
  Scenario: MT4 no processed MDN arrives, and the edge user is told at the processed deadline
    When the SUT's edge user submits a message to nomdn8@hisp.direct.test
    Then a failure notice for the message reaches the edge user at the processed deadline

  @MT21 @req-MDN-08 @req-MDN-14
  Scenario: MT21 the timely-and-reliable request travels with the message, and one positive notice comes back
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to processeddispatched6@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message on the backbone carries Disposition-Notification-To and Disposition-Notification-Options as submitted
    And exactly one positive final notice for the message reaches the edge user

  @MT22 @req-MDN-11
  Scenario: MT22 a malformed request from the edge does not stop the message (information)
    When the SUT's edge user submits a message whose Disposition-Notification-Options reads X-XXXX-FINAL-X-DELXXXX=optioXXX,tXX to processeddispatched6@hisp.direct.test
    Then the message reaches processeddispatched6@hisp.direct.test
    And the notices the edge user receives for the message are recorded

  @MT23 @req-MDN-16
  Scenario: MT23 a timely-and-reliable message to a non-existent address brings a failure notice
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to badaddress@hisp.direct.test
    Then a failure notice for the message reaches the edge user

  @MT26 @req-MDN-14 @req-MDN-19
  Scenario: MT26 a timely-and-reliable message gets no processed MDN, and the edge user is told at a deadline
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to nomdn8@hisp.direct.test
    Then a failure notice for the message reaches the edge user at the processed or dispatched deadline

  @MT24 @negative @req-TRUST-02 @req-MDN-16
  Scenario: MT24 a timely-and-reliable message to an untrusted HISP is not sent, and the edge user is told
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to user@untrusted.direct.test
    Then the SUT sends nothing toward untrusted.direct.test within the silence window
    And a failure notice for the message reaches the edge user

  @MT25 @negative @req-DISC-17 @req-MDN-16
  Scenario: MT25 a timely-and-reliable message to a recipient without a published certificate is not sent, and the edge user is told
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to user@nocert.direct.test
    Then the SUT sends nothing toward nocert.direct.test within the silence window
    And a failure notice for the message reaches the edge user

  @MT27 @req-MDN-14 @req-MDN-19
  Scenario: MT27 processed but never dispatched: a failure notice at the dispatched deadline, never a positive one
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to processedonly5@hisp.direct.test
    Then a failure notice for the message reaches the edge user at the dispatched deadline
    And no positive final notice for the message reaches the edge user

  @MT28 @req-MDN-18 @req-MDN-19
  Scenario: MT28 a dispatched MDN after the deadline: the failure notice stands and the late MDN is not passed on
    When the SUT's edge user submits a timely-and-reliable message to the mailbox that dispatches after the SUT's dispatched deadline
    Then a failure notice for the message reaches the edge user at the dispatched deadline
    And the late dispatched MDN from the harness does not reach the edge user

  @MT29 @req-MDN-14 @req-MDN-18
  Scenario: MT29 processed and dispatched: exactly one positive notice and no failure
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to processeddispatched6@hisp.direct.test
    Then exactly one positive final notice for the message reaches the edge user
    And no failure notice for the message reaches the edge user, even after the dispatched deadline

  @MT41 @req-MDN-12 @req-MDN-13 @req-MDN-23
  Scenario: MT41 a message that cannot be delivered gets processed, then a failure
    Given a Direct message from the harness to the SUT's undeliverable recipient
    When the harness delivers it to the SUT's backbone
    Then a processed MDN for the message reaches the harness
    And a failed MDN with a Failure field, or a failure DSN, for the message reaches the harness

  @MN3 @negative @req-MDN-04
  Scenario: MN3 a DSN is never answered with an MDN
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is a failure DSN for a message the SUT never sent
    When the harness delivers it to the SUT's backbone
    Then the SUT takes the message
    And no MDN for the message reaches the harness

  @MN5 @req-MDN-05 @req-MDN-06 @req-MDN-07 @req-MDN-10
  Scenario: MN5 the processed and dispatched MDNs are well-formed reports
    Given a Direct message from the harness to the SUT's primary recipient
    When the harness delivers it to the SUT's backbone
    Then a processed MDN for the message reaches the harness
    And a dispatched MDN for the message reaches the harness
    And every MDN the SUT sent for the message passes the validator's VC-701 to VC-715 checks

  @MN5 @req-MDN-05 @req-MDN-06 @req-MDN-07 @req-MDN-12
  Scenario: MN5 the processed and failed MDNs for an undeliverable message are well-formed reports
    Given a Direct message from the harness to the SUT's undeliverable recipient
    When the harness delivers it to the SUT's backbone
    Then a processed MDN for the message reaches the harness
    And a failed MDN with a Failure field, or a failure DSN, for the message reaches the harness
    And every MDN the SUT sent for the message passes the validator's VC-701 to VC-715 checks

  @MN6 @req-MDN-21
  Scenario: MN6 a failed MDN settles the recipient at once
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to noaddressfailure9@hisp.direct.test
    Then a failure notice for the message reaches the edge user long before the dispatched deadline
    And no further notice for the message reaches the edge user, even after the dispatched deadline

  @MN7 @req-MDN-13
  Scenario: MN7 the legacy error disposition is taken as a failure
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to errordisposition@hisp.direct.test
    Then a failure notice for the message reaches the edge user long before the dispatched deadline
    And no further notice for the message reaches the edge user, even after the dispatched deadline

  @MN8 @req-MDN-18
  Scenario: MN8 a duplicated dispatched MDN gives one positive notice
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to dupdispatched@hisp.direct.test
    Then exactly one positive final notice for the message reaches the edge user

  @MN9 @req-MDN-17 @req-MDN-23
  Scenario: MN9 mixed recipients are told apart: one delivered, one failed, once each
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to processeddispatched6@hisp.direct.test and nomdn8@hisp.direct.test
    Then exactly one positive final notice for the message to processeddispatched6@hisp.direct.test reaches the edge user
    And a failure notice for the message reaches the edge user at the processed or dispatched deadline
    And no failure notice for the message to processeddispatched6@hisp.direct.test reaches the edge user, even after the dispatched deadline
    And no further notice for the message to nomdn8@hisp.direct.test reaches the edge user, even after the dispatched deadline
    And every failure DSN the edge user received for the message passes the validator's VC-801 to VC-805 checks

  @MN10 @req-MDN-22 @req-MDN-24
  Scenario Outline: MN10 a notice written in the <style> style is read for what it says
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to <style>@hisp.direct.test
    Then the edge user is told of <outcome>

    Examples:
      | style                   | outcome                                 |
      | white_space_mdn         | one delivery                            |
      | extra_line_break_mdn    | one delivery                            |
      | extra_space_disposition | one delivery                            |
      | missing_disposition     | a failure at a deadline                 |
      | null_sender             | one delivery                            |
      | different_sender        | one delivery                            |
      | different_msgid         | one delivery                            |
      | white_space_822         | one delivery                            |
      | different_cases_822     | one delivery                            |

  @MN11 @req-MDN-20
  Scenario: MN11 the processed MDN may be passed on or kept; the final notice comes once (information)
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to processeddispatched6@hisp.direct.test
    Then exactly one positive final notice for the message reaches the edge user
    And no failure notice for the message reaches the edge user, even after the dispatched deadline
    And the notices the edge user receives for the message are recorded

  @MN12 @req-MDN-12 @req-MDN-18
  Scenario: MN12 processed, then failed: one failure notice and nothing after it
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to processedfailure@hisp.direct.test
    Then a failure notice for the message reaches the edge user
    And no further notice for the message reaches the edge user, even after the dispatched deadline

  @MN13 @req-MDN-18 @req-MDN-19
  Scenario: MN13 a remote failure after the SUT's own deadline adds nothing to the timeout notice
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to processedtimeoutfailure@hisp.direct.test
    Then a failure notice for the message reaches the edge user at the dispatched deadline
    And the late failed MDN from the harness does not reach the edge user

  @MN14 @req-MDN-23
  Scenario Outline: MN14 the failure DSN for <case> is an RFC 3464 report
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to <address>
    Then a failure notice for the message reaches the edge user <when>
    And every failure DSN the edge user received for the message passes the validator's VC-801 to VC-805 checks

    Examples:
      | case                     | address                     | when                                      |
      | a non-existent address   | badaddress@hisp.direct.test | within the acceptance window              |
      | an unpublished certificate | user@nocert.direct.test   | within the acceptance window              |
      | a missing processed MDN  | nomdn8@hisp.direct.test     | at the processed or dispatched deadline   |
      | a missing dispatched MDN | processedonly5@hisp.direct.test | at the dispatched deadline            |

  @MN15 @req-MDN-02
  Scenario: MN15 a read receipt from the SUT's edge user reaches the sender signed and encrypted
    Given a Direct message from the harness to the SUT's primary recipient
    When the harness delivers it to the SUT's backbone
    And the SUT's edge user answers it with a displayed MDN
    Then the displayed MDN reaches the harness signed and encrypted, answering the message

  @MN16 @req-MDN-18
  Scenario: MN16 a read receipt for a settled message still reaches the SUT's edge user
    When the SUT's edge user submits a message to good@hisp.direct.test
    And a processed MDN for the message reaches the edge user
    And the harness answers it with a displayed MDN from good@hisp.direct.test, signed with the "hisp_good" certificate
    Then the displayed MDN reaches the edge user

  # The SUT as edge client (TEST-CATALOGUE §c.5): the harness runs the edge server
  # edge.direct.test and makes the SUT's mail client send through it (sut.toml [edge_client]).

  @MT17 @needs-edge-client @req-EDGE-11
  Scenario: MT17 the SUT's edge client gives every message a Message-ID of its own
    Given the harness edge server offers STARTTLS with a good certificate and AUTH PLAIN only
    When the SUT's edge client sends 2 messages to wellformed14@edge.direct.test through it
    And the SUT's edge client sends 1 message to wellformed14@edge.direct.test through it
    Then the harness edge server received 3 messages for wellformed14@edge.direct.test in 2 sessions
    And their Message-IDs are well-formed and distinct

  @MT45 @needs-edge-client @req-EDGE-11 @req-MDN-08
  Scenario: MT45 unique Message-IDs on messages that ask for timely and reliable delivery
    Given the harness edge server offers STARTTLS with a good certificate and AUTH PLAIN only
    When the SUT's edge client sends 2 messages asking for timely and reliable delivery to wellformed14@edge.direct.test through it
    And the SUT's edge client sends 1 message asking for timely and reliable delivery to wellformed14@edge.direct.test through it
    Then the harness edge server received 3 messages for wellformed14@edge.direct.test in 2 sessions
    And their Message-IDs are well-formed and distinct
    And each message asks for timely and reliable delivery correctly

  @MT46 @needs-edge-client @req-MDN-08
  Scenario: MT46 the request header is written as the Implementation Guide gives it
    Given the harness edge server offers STARTTLS with a good certificate and AUTH PLAIN only
    When the SUT's edge client sends 1 message asking for timely and reliable delivery to wellformed14@edge.direct.test through it
    Then the harness edge server received 1 message for wellformed14@edge.direct.test
    And each message asks for timely and reliable delivery correctly

  @MT47 @needs-edge-client @req-MDN-17
  Scenario: MT47 the SUT's edge client takes a failure notice for one of two recipients
    Given the harness edge server offers STARTTLS with a good certificate and AUTH PLAIN only
    When the SUT's edge client sends 1 message asking for timely and reliable delivery to dispatchedonly-plain@edge.direct.test and noaddressfailure9-plain@edge.direct.test through it
    And the harness puts a dispatched notice for the first recipient and a failure notice for the second into the edge user's mailbox
    And the SUT's edge client retrieves its mail over POP3
    Then the edge client retrieved both notices
