@needs-pop3
Feature: Edge POP3: the SUT's retrieval door
  A mail client of the SUT's users reads its mailbox over POP3 (RFC 1939) with the extensions
  a Direct edge needs: CAPA (RFC 2449), STLS (RFC 2595) and AUTH PLAIN (RFC 5034). Credentials
  travel only inside TLS, every command is answered as its state allows, deletions happen only
  at QUIT, and unique ids stay the same from one session to the next. The cases use the mailbox
  of recipients.pop3 (else recipients.primary) and delete only the messages they delivered.

  @POP1 @req-EDGE-16
  Scenario: POP1 CAPA lists STLS, USER and UIDL
    Given a POP3 session with the SUT's retrieval door
    When the harness asks for the capabilities in clear and again after STLS
    Then the capabilities list STLS and UIDL in clear, and USER and UIDL after STLS

  @POP2 @req-EDGE-16
  Scenario: POP2 NOOP in the TRANSACTION state
    Given a POP3 session logged in to the SUT's test mailbox
    When the harness sends NOOP
    Then the SUT answers +OK

  @POP3 @req-EDGE-16
  Scenario: POP3 STAT, LIST, RETR, DELE, RSET and QUIT
    Given a Direct message from the harness to the SUT's pop3 recipient
    When the harness delivers it to the SUT's backbone
    And the harness counts, retrieves, deletes and resets the message over POP3
    Then the counts are right, RSET undoes DELE, and deletion happens only at QUIT

  @POP4 @req-EDGE-16 @req-SEC-01
  Scenario: POP4 STLS starts TLS
    Given a POP3 session with the SUT's retrieval door
    When the harness starts TLS with STLS
    Then TLS is up

  @POP5 @req-EDGE-16 @req-SEC-01
  Scenario: POP5 USER and PASS only after STLS
    Given a POP3 session with the SUT's retrieval door
    When the harness tries USER and PASS in clear, then after STLS
    Then credentials are refused in clear and accepted after STLS

  @POP9 @negative @req-EDGE-17
  Scenario: POP9 malformed commands are refused
    Given a POP3 session logged in to the SUT's test mailbox
    When the harness sends malformed commands
    Then each is answered -ERR

  @POP10 @negative @req-EDGE-17
  Scenario: POP10 commands out of state are refused
    Given a POP3 session secured with STLS
    When the harness sends commands the state does not allow
    Then each is answered -ERR

  @POP11 @req-EDGE-16
  Scenario: POP11 AUTHORIZATION, TRANSACTION and UPDATE states
    Given a POP3 session secured with STLS
    When the harness walks through the AUTHORIZATION, TRANSACTION and UPDATE states
    Then each state accepts only its own commands, and QUIT ends the session

  @POP12 @req-EDGE-17
  Scenario: POP12 unique ids persist across sessions
    Given a Direct message from the harness to the SUT's pop3 recipient
    When the harness delivers it to the SUT's backbone
    And the harness lists the unique ids in two sessions
    Then the ids are unique and the message keeps its id

  @POP15 @req-EDGE-16
  Scenario: POP15 AUTH PLAIN after STLS
    Given a POP3 session secured with STLS
    When the harness authenticates with AUTH PLAIN
    Then the SUT accepts AUTH PLAIN and the session is logged in

  @POP17 @negative @req-EDGE-17
  Scenario: POP17 a wrong password is refused
    Given a POP3 session secured with STLS
    When the harness logs in with a wrong password
    Then the SUT refuses the login and stays in AUTHORIZATION

  @POP32 @req-EDGE-18
  Scenario: POP32 a Direct message is retrieved intact
    Given a Direct message from the harness to the SUT's pop3 recipient
    When the harness delivers it to the SUT's backbone
    Then the SUT's pop3 recipient receives the message with its attachment intact

  @POP-A2 @req-SEC-02 @req-SEC-03
  Scenario: POP-A2 TLS policy
    Given a POP3 session with the SUT's retrieval door
    When the harness offers old protocol versions and weak cipher suites after STLS, then TLS 1.2 and TLS 1.3
    Then the old and weak offers are refused and the modern ones accepted

  # The SUT as edge client (TEST-CATALOGUE §d.3 POP19-POP27): the harness runs a POP3 server
  # for the edge user and makes the SUT's mail client read it (sut.toml [edge_client]).

  @POP19 @needs-edge-client @req-EDGE-16 @req-SEC-01
  Scenario: POP19 the SUT's edge client secures the session with STLS, logs in and retrieves
    Given the harness POP3 server holds 2 messages for the edge user behind STLS with a good certificate
    When the SUT's edge client retrieves its mail over POP3
    Then the edge client secured the session with STLS before it sent credentials
    And the edge client retrieved every message

  @POP22 @needs-edge-client @req-EDGE-17
  Scenario: POP22 the SUT's edge client carries on when the server answers -ERR
    Given the harness POP3 server holds 3 messages for the edge user behind STLS with a good certificate
    And the harness POP3 server answers UIDL and the first RETR of message 1 with -ERR
    When the SUT's edge client retrieves its mail over POP3
    Then the edge client carried on after the -ERR answers, retrieved every other message and ended with QUIT

  @POP23 @needs-edge-client @negative @req-EDGE-10
  Scenario Outline: POP23 the SUT's edge client refuses a server certificate that is <certificate>
    Given the harness POP3 server holds 1 message for the edge user behind STLS with a <certificate> certificate
    When the SUT's edge client retrieves its mail over POP3
    Then the edge client abandoned the session before it sent credentials
    And the edge client retrieved no message

    Examples:
      | certificate   |
      | self-signed   |
      | expired       |
      | wrongly named |

  @POP27 @needs-edge-client @req-EDGE-12
  Scenario: POP27 the SUT's edge client retrieves every kind of content
    Given the harness POP3 server holds the content-variety messages for the edge user behind STLS with a good certificate
    When the SUT's edge client retrieves its mail over POP3
    Then the edge client retrieved every message
