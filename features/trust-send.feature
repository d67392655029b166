Feature: Trust and encryption: the SUT sends
  The harness, as the SUT's edge user, submits through the SUT's submission door. The SUT finds
  the harness recipient's certificate, signs, encrypts and delivers to the harness backbone
  (hisp.direct.test, and domain1.direct.test for a second domain), where the harness keeps the
  message byte for byte, opens it with its own recipient key and runs the reference validator
  on it with the SUT's declared anchor. A case passes when the check families it names report
  no error-level finding.

  @TX-01 @req-MSG-01 @req-MSG-04 @req-MSG-05 @req-MSG-06 @req-MSG-07 @req-SIG-01 @req-SIG-02 @req-SIG-06 @req-ENC-01 @req-ENC-07
  Scenario: TX-01 a message to good@hisp.direct.test goes out as a conforming Direct message
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent passes the validator's VC-1xx to VC-6xx checks
    And the harness answers it with processed and dispatched MDNs

  @TX-02 @ds-1.3 @should @req-MSG-09 @req-MSG-12
  Scenario: TX-02 the message is wrapped, with a complete inner message (SHOULD under ds-1.3)
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent is wrapped, with a complete inner message

  @TX-02 @ats-1.2 @req-MSG-08 @req-MSG-12
  Scenario: TX-02 the message is wrapped, with a complete inner message (SHALL under ats-1.2)
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent passes the validator's VC-311 and VC-312 checks

  @TX-03 @req-SIG-03 @req-SIG-04 @req-SIG-08 @req-SIG-15 @req-ENC-01 @req-ENC-02
  Scenario: TX-03 digest, cipher, key sizes and certificate signatures follow the policy
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent passes the validator's VC-402, VC-403, VC-409, VC-506 and VC-507 checks

  @TX-04 @req-SIG-11 @req-CERT-01 @req-CERT-02 @req-CERT-03 @req-CERT-04
  Scenario: TX-04 the signer certificate is bound to the From address or its domain
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent passes the validator's VC-502 to VC-504 checks

  @TX-05 @req-TRUST-06 @req-TRUST-07 @req-CERT-06
  Scenario: TX-05 the signer chains to the SUT's declared anchor and is not revoked
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent passes the validator's VC-601 to VC-606 checks

  @TX-06 @req-MSG-06 @req-MSG-07 @req-MSG-15
  Scenario: TX-06 awkward content goes out in canonical form and safe encodings
    When the SUT's edge user submits a message with an 8bit text part, trailing white space and a 998-octet line to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent passes the validator's VC-201 to VC-209, VC-305 and VC-310 checks

  @TX-07 @req-MSG-12 @req-MSG-13
  Scenario: TX-07 the outer header repeats From, To, Date, Message-ID and MIME-Version
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message the SUT sent passes the validator's VC-102 to VC-106 and VC-115 checks

  @TX-08 @req-EDGE-18
  Scenario: TX-08 PDF and C-CDA attachments arrive byte-identical
    When the SUT's edge user submits a message with PDF and C-CDA attachments to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And every attachment the harness decrypts is byte-identical to what the edge user submitted

  @TX-09 @req-CERT-05 @req-ENC-07
  Scenario: TX-09 the encryption certificate is chosen by key usage
    When the SUT's edge user submits a message with a C-CDA attachment to split@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the copy for split@hisp.direct.test opens with "hisp_split_enc" and is encrypted to no certificate but "hisp_split_enc"

  @TX-10 @req-ENC-07 @req-ENC-08
  Scenario: TX-10 two recipients in one domain each get a copy they can open, and nobody else
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test and second@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the copy for good@hisp.direct.test opens with "hisp_good" and is encrypted to no certificate but "hisp_good" and "hisp_second"
    And the copy for second@hisp.direct.test opens with "hisp_second" and is encrypted to no certificate but "hisp_good" and "hisp_second"
    And the SUT addressed nobody else

  @TX-11 @req-ENC-07
  Scenario: TX-11 recipients in two domains each get a message encrypted to their own certificate
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test and d1@domain1.direct.test
    Then the SUT sends the message on the backbone
    And the copy for good@hisp.direct.test opens with "hisp_good" and is encrypted to no certificate but "hisp_good"
    And the copy for d1@domain1.direct.test opens with "D1_valA" and is encrypted to no certificate but "D1_valA"
    And the SUT addressed nobody else

  @TX-12 @req-EDGE-11
  Scenario: TX-12 every message gets its own valid Message-ID, even when the edge gave none
    When the SUT's edge user submits three messages to good@hisp.direct.test, the second without a Message-ID
    Then the SUT sends all three messages on the backbone
    And the messages the SUT sent pass the validator's VC-106 checks
    And the three messages carry distinct, valid Message-IDs, inside and outside

  @TX-13 @req-MDN-08
  Scenario: TX-13 the timely-and-reliable request is carried to the backbone intact
    When the SUT's edge user submits a message with Disposition-Notification-To and Disposition-Notification-Options to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the message on the backbone carries Disposition-Notification-To and Disposition-Notification-Options as submitted
    And the message the SUT sent passes the validator's VC-113 and VC-114 checks

  @TX-14 @negative @req-MDN-04
  Scenario: TX-14 the SUT never answers the harness's MDNs with an MDN
    When the SUT's edge user submits a message with a C-CDA attachment to good@hisp.direct.test
    Then the SUT sends the message on the backbone
    And the harness answers it with processed and dispatched MDNs
    And the SUT answers none of the harness's MDNs within the silence window

  @TX-15 @negative @req-TRUST-02 @req-SEC-05 @req-MDN-16
  Scenario: TX-15 nothing goes to a HISP whose certificate the SUT does not trust
    When the SUT's edge user submits a message with a C-CDA attachment to user@untrusted.direct.test
    Then the SUT sends nothing toward untrusted.direct.test within the silence window
    And a failure notice for the message reaches the edge user
