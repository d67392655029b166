Feature: IMAP, the SUT as edge client
  The harness runs an IMAP server for the edge user, edge.direct.test (TEST-CATALOGUE §d.2
  IMAP19-IMAP27), and makes the SUT's mail client read it through the trigger sut.toml
  [edge_client] declares. The verdict comes from what the harness's server saw.
  (To be folded into edge-imap.feature.)

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
