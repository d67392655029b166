Feature: Edge SMTP: the SUT's submission door
  A mail client of the SUT's users submits through the edge submission door. It must protect
  the credentials with TLS before any authentication, refuse wrong credentials, and never
  relay for a session that did not authenticate.

  @SMTP16 @req-EDGE-02 @req-EDGE-03 @req-SEC-01
  Scenario: SMTP16 STARTTLS, then AUTH PLAIN with the edge account succeeds
    Given a session with the SUT's submission door
    When the harness authenticates after STARTTLS with the right password
    Then the SUT accepts the authentication

  @SMTP22 @negative @req-EDGE-04 @req-SEC-08
  Scenario: SMTP22 wrong credentials are refused and nothing is relayed
    Given a session with the SUT's submission door
    When the harness authenticates after STARTTLS with a wrong password
    Then the SUT refuses the authentication
    And a message to an outside address is refused

  @SMTP-A1 @negative @req-SEC-01
  Scenario: SMTP-A1 no AUTH before TLS
    Given a session with the SUT's submission door
    When the harness tries AUTH PLAIN in clear with the right password
    Then the SUT neither offers nor accepts AUTH before STARTTLS

  @SMTP11 @negative @req-EDGE-06
  Scenario: SMTP11 commands out of sequence are refused with 503
    Given a session with the SUT's submission door
    When the harness sends RCPT before MAIL, DATA before MAIL, and DATA before EHLO
    Then the SUT answers 503 to each

  @SMTP17 @negative @req-EDGE-07
  Scenario: SMTP17 STARTTLS with an argument is refused and the session goes on
    Given a session with the SUT's submission door
    When the harness sends "STARTTLS abcd"
    Then the SUT answers 501 and the session is still usable

  @SMTP-A3 @negative @req-SEC-08
  Scenario: SMTP-A3 the submission door relays nothing for a session that did not authenticate
    Given a session with the SUT's submission door
    Then a message to an outside address is refused

  # The SUT as edge client (TEST-CATALOGUE §d.1 SMTP8, SMTP15): the harness runs the edge
  # server edge.direct.test and makes the SUT's mail client send through it (sut.toml
  # [edge_client]). The verdict comes from what the harness's server saw.

  @SMTP8 @needs-edge-client @req-EDGE-01 @req-EDGE-02 @req-EDGE-03 @req-SEC-01
  Scenario: SMTP8 the SUT's edge client sends with STARTTLS first, then AUTH PLAIN
    Given the harness edge server offers STARTTLS with a good certificate and AUTH PLAIN only
    When the SUT's edge client sends 1 message to wellformed1@edge.direct.test through it
    Then the edge client secured the session with STARTTLS before it sent credentials
    And the edge client authenticated with PLAIN
    And the harness edge server received 1 message for wellformed1@edge.direct.test

  @SMTP15 @needs-edge-client @negative @req-EDGE-10
  Scenario Outline: SMTP15 the SUT's edge client refuses a server certificate that is <certificate>
    Given the harness edge server offers STARTTLS with a <certificate> certificate and AUTH PLAIN only
    When the SUT's edge client sends 1 message to wellformed1@edge.direct.test through it
    Then the edge client abandoned the session before it sent credentials
    And the harness edge server received no message

    Examples:
      | certificate   |
      | self-signed   |
      | expired       |
      | wrongly named |
