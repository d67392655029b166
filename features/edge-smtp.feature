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

  @SMTP11 @negative @req-EDGE-06 @backbone-door
  Scenario: SMTP11 commands out of sequence are refused with 503 (backbone door)
    Given a session with the SUT's backbone door
    When the harness sends RCPT before MAIL, DATA before MAIL, and DATA before EHLO
    Then the SUT answers 503 to each

  @SMTP17 @negative @req-EDGE-07
  Scenario: SMTP17 STARTTLS with an argument is refused and the session goes on
    Given a session with the SUT's submission door
    When the harness sends "STARTTLS abcd"
    Then the SUT answers 501 and the session is still usable

  @SMTP17 @negative @req-EDGE-07 @backbone-door
  Scenario: SMTP17 STARTTLS with an argument is refused and the session goes on (backbone door)
    Given a session with the SUT's backbone door
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

  @SMTP9 @req-EDGE-01
  Scenario: SMTP9 the valid command set gets RFC 5321's replies
    Given a session with the SUT's submission door
    When the harness secures the session, authenticates, and sends NOOP, RSET, VRFY, MAIL, RCPT, DATA and QUIT
    Then each command gets the reply RFC 5321 gives it

  @SMTP10 @negative @req-EDGE-05
  Scenario Outline: SMTP10 DATA ended by a bare CR, a bare LF or "\f\r.\f\r" is refused and nothing is delivered (<door> door)
    Given a session with the SUT's <door> door
    When the harness ends DATA with a bare CR, a bare LF, and a form feed before each CR, one session each
    Then each ending is refused with a 5xx reply or a closed session
    And nothing the harness sent in those sessions is delivered

    Examples:
      | door       |
      | submission |

    @backbone-door
    Examples:
      | door     |
      | backbone |

  @SMTP12 @negative @req-EDGE-08
  Scenario Outline: SMTP12 over-long lines and a message over SIZE are refused, never delivered cut (<door> door)
    Given a session with the SUT's <door> door
    When the harness sends a 600-octet command line, a 1100-octet text line, and a message larger than the advertised SIZE
    Then each is refused with 500, 501, 552 or 554
    And nothing the harness sent in those sessions is delivered

    Examples:
      | door       |
      | submission |

    @backbone-door
    Examples:
      | door     |
      | backbone |

  @SMTP13 @req-EDGE-09
  Scenario Outline: SMTP13 a session gone quiet in DATA is closed after the declared idle timeout (<door> door)
    Given a session with the SUT's <door> door
    When the harness opens a transaction, sends DATA and stays silent after the 354
    Then the SUT closes the session after its declared idle timeout, within the grace

    Examples:
      | door       |
      | submission |

    @backbone-door
    Examples:
      | door     |
      | backbone |

  @SMTP13 @should @req-EDGE-09
  Scenario: SMTP13 the declared idle timeout is not under RFC 5321's five minutes
    Given the SUT's declared SMTP idle timeout
    Then it is not under the five minutes of RFC 5321 §4.5.3.2

  @SMTP-A2 @req-SEC-02 @req-SEC-03
  Scenario Outline: SMTP-A2 TLS policy after STARTTLS (<door> door)
    Given a session with the SUT's <door> door
    When the harness offers old protocol versions and weak cipher suites after STARTTLS, then TLS 1.2 and TLS 1.3
    Then the SUT refuses the old and weak offers and accepts the modern ones

    Examples:
      | door       |
      | submission |

    @backbone-door
    Examples:
      | door     |
      | backbone |

  @SMTP-A4 @req-SEC-04
  Scenario: SMTP-A4 backbone STARTTLS is recorded (information, never failed for its absence)
    When the harness greets the SUT's backbone door with EHLO
    Then the capability list is recorded, and whether it offers STARTTLS

  @SMTP25 @req-EDGE-12 @req-EDGE-18
  Scenario Outline: SMTP25 two attachments arrive intact in either order (<first> then <second>)
    Given a message for the SUT's primary recipient carrying a <first> attachment, then a <second> attachment
    When the harness sends it to the SUT
    Then the SUT's primary recipient receives every attachment byte-identical
    And a processed MDN for the message reaches the harness

    Examples:
      | first | second |
      | text  | C-CDA  |
      | PDF   | C-CDA  |
      | text  | XDM    |
      | C-CDA | text   |
      | C-CDA | PDF    |
      | XDM   | text   |

  @SMTP26 @req-EDGE-12
  Scenario Outline: SMTP26 a C-CDA with a <what> stylesheet reference is accepted intact
    Given a message for the SUT's primary recipient carrying a C-CDA with a <what> stylesheet reference
    When the harness sends it to the SUT
    Then the SUT's primary recipient receives every attachment byte-identical
    And a processed MDN for the message reaches the harness

    Examples:
      | what   |
      | broken |
      | bad    |

  @SMTP27 @req-EDGE-12
  Scenario: SMTP27 an XDM package with bad XHTML is accepted intact
    Given a message for the SUT's primary recipient carrying an XDM package whose INDEX.HTM is not well-formed XHTML
    When the harness sends it to the SUT
    Then the SUT's primary recipient receives every attachment byte-identical
    And a processed MDN for the message reaches the harness

  @SMTP28 @req-EDGE-12 @req-MSG-17
  Scenario: SMTP28 an XDM package sent as application/octet-stream is accepted intact
    Given a message for the SUT's primary recipient carrying an XDM package sent as application/octet-stream
    When the harness sends it to the SUT
    Then the SUT's primary recipient receives every attachment byte-identical
    And a processed MDN for the message reaches the harness

  @SMTP29 @req-EDGE-12
  Scenario: SMTP29 an XDM package whose METADATA.XML types the C-CDA application/xml is accepted intact
    Given a message for the SUT's primary recipient carrying an XDM package whose METADATA.XML types the C-CDA application/xml
    When the harness sends it to the SUT
    Then the SUT's primary recipient receives every attachment byte-identical
    And a processed MDN for the message reaches the harness
