@needs-imap
Feature: Edge IMAP: the SUT's retrieval door
  A mail client of the SUT's users reads its mailbox over IMAP4rev1 (RFC 3501): STARTTLS
  before any credential (LOGINDISABLED until then), LOGIN or AUTHENTICATE PLAIN, SELECT,
  FETCH, STORE and EXPUNGE, with every command answered as its syntax and state allow, INBOX
  known in any case, and UIDs that stay the same under one UIDVALIDITY. The cases use the
  mailbox of recipients.imap (else recipients.primary) and expunge only the messages they
  delivered.

  @IMAP1 @req-EDGE-13 @req-SEC-01
  Scenario: IMAP1 CAPABILITY in clear and after STARTTLS
    Given an IMAP session with the SUT's retrieval door
    When the harness asks for the IMAP capabilities in clear and again after STARTTLS
    Then the IMAP capabilities list IMAP4rev1, STARTTLS and LOGINDISABLED in clear, and IMAP4rev1 and AUTH=PLAIN after STARTTLS

  @IMAP2 @req-EDGE-13
  Scenario: IMAP2 NOOP
    Given an IMAP session logged in to the SUT's test mailbox
    When the harness sends NOOP over IMAP
    Then the SUT completes the IMAP NOOP with OK

  @IMAP3 @req-EDGE-13
  Scenario: IMAP3 LOGOUT
    Given an IMAP session with the SUT's retrieval door
    When the harness logs out of the IMAP session
    Then the SUT says BYE, completes LOGOUT with OK and closes the connection

  @IMAP4 @req-EDGE-13
  Scenario: IMAP4 STARTTLS
    Given an IMAP session with the SUT's retrieval door
    When the harness starts TLS with IMAP STARTTLS
    Then TLS is up and the SUT lists its IMAP capabilities again on request

  @IMAP5 @req-EDGE-13
  Scenario: IMAP5 AUTHENTICATE PLAIN after STARTTLS
    Given an IMAP session secured with STARTTLS
    When the harness authenticates over IMAP with AUTHENTICATE PLAIN, with an initial response and after a continuation
    Then the SUT accepts IMAP AUTHENTICATE PLAIN both ways

  @IMAP6 @req-EDGE-13 @req-SEC-01
  Scenario: IMAP6 LOGIN only after STARTTLS
    Given an IMAP session with the SUT's retrieval door
    When the harness tries IMAP LOGIN in clear, then after STARTTLS
    Then IMAP LOGIN is refused in clear and accepted after STARTTLS

  @IMAP7 @req-EDGE-13
  Scenario: IMAP7 SELECT INBOX
    Given an IMAP session logged in to the SUT's test mailbox
    When the harness selects INBOX over IMAP
    Then the SUT reports EXISTS, FLAGS and UIDVALIDITY and completes SELECT with OK

  @IMAP8 @req-EDGE-13 @req-EDGE-18
  Scenario: IMAP8 FETCH a delivered message
    Given a Direct message from the harness to the SUT's imap recipient
    When the harness delivers it to the SUT's backbone
    And the harness fetches the message over IMAP
    Then the fetched bytes are the whole message, the same in every fetch, and reading it marks it seen

  @IMAP9 @negative @req-EDGE-14
  Scenario: IMAP9 malformed commands are answered BAD
    Given an IMAP session logged in to the SUT's test mailbox
    When the harness sends malformed IMAP commands
    Then each malformed IMAP command is answered BAD

  @IMAP10 @negative @req-EDGE-14
  Scenario: IMAP10 commands out of state are refused
    Given an IMAP session secured with STARTTLS
    When the harness sends IMAP commands the state does not allow
    Then each IMAP command out of state is answered BAD or NO

  @IMAP11 @req-EDGE-13
  Scenario: IMAP11 not authenticated, authenticated, selected and logout states
    Given an IMAP session secured with STARTTLS
    When the harness walks through the IMAP states: not authenticated, authenticated, selected and logout
    Then each IMAP state accepts its own commands, in order, and only those

  @IMAP12 @req-EDGE-15
  Scenario: IMAP12 UIDs stay stable under one UIDVALIDITY
    Given a Direct message from the harness to the SUT's imap recipient
    When the harness delivers it to the SUT's backbone
    And the harness has a second message delivered, lists the UIDs, reconnects, expunges the first and has a third delivered
    Then UIDVALIDITY stays the same, the remaining UIDs are unchanged and the new UID is larger

  @IMAP17 @negative @req-EDGE-14
  Scenario: IMAP17 a wrong password is refused
    Given an IMAP session secured with STARTTLS
    When the harness logs in over IMAP with a wrong password, with LOGIN and with AUTHENTICATE PLAIN
    Then the SUT answers NO to both and the IMAP session stays not authenticated

  @IMAP32 @req-EDGE-18
  Scenario: IMAP32 a Direct message is retrieved intact
    Given a Direct message from the harness to the SUT's imap recipient
    When the harness delivers it to the SUT's backbone
    Then the message fetched over IMAP from the SUT's imap recipient has its attachment intact

  @IMAP-A2 @req-SEC-02 @req-SEC-03
  Scenario: IMAP-A2 TLS policy
    Given an IMAP session with the SUT's retrieval door
    When the harness offers old protocol versions and weak cipher suites after IMAP STARTTLS, then TLS 1.2 and TLS 1.3
    Then over IMAP the old and weak offers are refused and the modern ones accepted

  @IMAP-A3 @req-EDGE-15
  Scenario: IMAP-A3 INBOX in any case
    Given an IMAP session logged in to the SUT's test mailbox
    When the harness selects inbox, InBoX and INBOX over IMAP
    Then each spelling selects the same mailbox

  # The SUT as edge client (TEST-CATALOGUE §d.2 IMAP19-IMAP27): the harness runs an IMAP server
  # for the edge user, edge.direct.test, and makes the SUT's mail client read it through the
  # trigger sut.toml [edge_client] declares. The verdict comes from what the harness's server saw.

  @IMAP19 @needs-edge-client @needs-imap @req-EDGE-13 @req-SEC-01
  Scenario: IMAP19 the SUT's edge client secures the session with STARTTLS, logs in with PLAIN and fetches
    Given the harness IMAP server holds 2 messages for the edge user in INBOX behind STARTTLS with a good certificate
    When the SUT's edge client retrieves its mail over IMAP
    Then the edge client secured the IMAP session with STARTTLS before it sent credentials
    And the edge client logged in with AUTHENTICATE PLAIN
    And the edge client fetched every message whole

  @IMAP21 @needs-edge-client @needs-imap @req-EDGE-15
  Scenario: IMAP21 the SUT's edge client opens folders named in mixed case
    Given the harness IMAP server holds 1 message in each of the folders INBOX, FOLDER and folder2 behind STARTTLS with a good certificate
    When the SUT's edge client retrieves its mail over IMAP
    Then the edge client selected INBOX, FOLDER and folder2 by their exact names and fetched every message in them

  @IMAP22 @needs-edge-client @needs-imap @req-EDGE-14
  Scenario: IMAP22 the SUT's edge client carries on when the server answers BAD or NO
    Given the harness IMAP server holds 3 messages for the edge user in INBOX behind STARTTLS with a good certificate
    And the harness IMAP server answers LSUB with BAD and the first fetch of message 1 with NO
    When the SUT's edge client retrieves its mail over IMAP
    Then the edge client carried on after the BAD and NO answers, fetched every other message and ended with LOGOUT

  @IMAP23 @needs-edge-client @needs-imap @negative @req-EDGE-10
  Scenario Outline: IMAP23 the SUT's edge client refuses a server certificate that is <certificate>
    Given the harness IMAP server holds 1 message for the edge user in INBOX behind STARTTLS with a <certificate> certificate
    When the SUT's edge client retrieves its mail over IMAP
    Then the edge client abandoned the session before it sent credentials
    And the edge client fetched no message

    Examples:
      | certificate   |
      | self-signed   |
      | expired       |
      | wrongly named |

  @IMAP25 @needs-edge-client @needs-imap @req-EDGE-13
  Scenario: IMAP25 the SUT's edge client picks up mail announced while it idles
    Given the harness IMAP server holds 1 message for the edge user in INBOX behind STARTTLS with a good certificate
    When the SUT's edge client retrieves its mail over IMAP and idles for up to 10 seconds, while a new message arrives in INBOX
    Then the edge client fetched every message whole
    And the edge client fetched the message that arrived while it idled

  @IMAP27 @needs-edge-client @needs-imap @req-EDGE-12
  Scenario: IMAP27 the SUT's edge client fetches every kind of content
    Given the harness IMAP server holds the content-variety messages for the edge user in INBOX behind STARTTLS with a good certificate
    When the SUT's edge client retrieves its mail over IMAP
    Then the edge client fetched every message whole
