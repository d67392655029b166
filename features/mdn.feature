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

  @MT4 @req-MDN-15 @req-MDN-19
  Scenario: MT4 no processed MDN arrives, and the edge user is told at the processed deadline
    When the SUT's edge user submits a message to nomdn8@hisp.direct.test
    Then a failure notice for the message reaches the edge user at the processed deadline

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
