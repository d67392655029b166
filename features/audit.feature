@needs-audit
Feature: Audit: the SUT logs what it sends, receives, refuses and acknowledges
  The SUT's audit source (sut.toml [audit]) is read after each step. An event belongs to a
  scenario when its Message-ID (or Original-Message-ID) is the scenario's message and its time
  falls inside the scenario, give or take the allowed clock skew.

  @AU-01 @req-AUD-01 @req-AUD-08
  Scenario: AU-01 an outgoing message is logged with its From and every recipient
    Given the audit case starts
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test and second@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the SUT's audit log records outgoing.sent for the submitted message with its From and every recipient

  @AU-02 @req-AUD-02 @req-AUD-08
  Scenario: AU-02 an accepted incoming message is logged
    Given the audit case starts
    And a Direct message from the harness to the SUT's primary recipient
    When the harness delivers it to the SUT's backbone
    Then the SUT's audit log records incoming.accepted for the message naming the primary recipient

  @AU-03 @negative @req-AUD-03
  Scenario Outline: AU-03 a refused incoming message is logged with the class of its reason
    Given the audit case starts
    And a Direct message from the harness to the SUT's primary recipient
    And <variation>
    When the harness delivers it to the SUT's backbone
    Then the SUT's audit log records the refusal of the message with a reason about <class>

    Examples:
      | case  | variation                                                          | class      |
      | RX-18 | the message is altered after it was signed                         | signature  |
      | RX-19 | the message is signed with the "sender_expired" certificate        | validity   |
      | RX-22 | the message is signed with the "sender_untrusted" certificate      | trust      |
      | RX-45 | the message is encrypted only for the harness certificate "hisp_good" | decryption |

  @AU-04 @req-AUD-04
  Scenario: AU-04 a recipient the SUT will not send to is logged
    Given the audit case starts
    When the SUT's edge user submits a message with a C-CDA attachment to user@untrusted.direct.test
    Then the SUT's audit log records outgoing.recipient_rejected naming user@untrusted.direct.test

  @AU-05 @req-AUD-05
  Scenario: AU-05 the processed and dispatched MDNs the SUT sends are logged
    Given the audit case starts
    And a Direct message from the harness to the SUT's primary recipient
    When the harness delivers it to the SUT's backbone
    Then the SUT's audit log records mdn.sent for the message with disposition processed, its Original-Message-ID and the primary recipient as Final-Recipient
    And the SUT's audit log records mdn.sent for the message with disposition dispatched, its Original-Message-ID and the primary recipient as Final-Recipient

  @AU-06 @req-AUD-06
  Scenario: AU-06 the MDNs the SUT receives are logged
    Given the audit case starts
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the harness answers it with processed and dispatched MDNs
    And the SUT's audit log records mdn.received for the harness's processed MDN
    And the SUT's audit log records mdn.received for the harness's dispatched MDN

  @AU-07 @req-AUD-07
  Scenario: AU-07 the failure DSN after a processed timeout is logged
    Given the audit case starts
    When the SUT's edge user submits a message with a C-CDA attachment to nomdn8@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the SUT's audit log records dsn.sent for the submitted message once its processed deadline passed

  @AU-08 @req-AUD-04
  Scenario: AU-08 a per-recipient refusal on receipt names that recipient only
    Given the audit case starts
    And a Direct message from the harness to the SUT's primary and untrusting recipients
    When the harness delivers it to the SUT's backbone
    Then the SUT's audit log records incoming.recipient_rejected for the untrusting recipient and not for the primary recipient

  @AU-09 @should @negative @req-AUD-09
  Scenario: AU-09 no clinical content reaches the audit log
    Given the audit case starts
    And a Direct message from the harness to the SUT's primary recipient
    And the message carries a random canary in its body and in an attachment
    When the harness delivers it to the SUT's backbone
    And the SUT's edge user submits a message with the canary in its body and attachment to good@hisp.direct.test
    Then the SUT's primary recipient receives the message with its attachment intact
    And the SUT sends the message on the backbone
    And no line of the SUT's audit log contains the canary

  @AU-10 @needs-audit-digest @req-AUD-10
  Scenario: AU-10 the digest of the signed content is logged
    Given the audit case starts
    And a Direct message from the harness to the SUT's primary recipient
    And the harness keeps the SHA-256 of the content it signs
    When the harness delivers it to the SUT's backbone
    Then the SUT's audit log records the digest of the signed content for the message

  @AU-11 @req-AUD-01 @req-AUD-02
  Scenario: AU-11 nothing is lost under load
    Given the audit case starts
    When the harness delivers 20 default messages to the SUT's primary recipient, 5 at a time
    Then the SUT's audit log records exactly one incoming.accepted for each of the 20 messages
