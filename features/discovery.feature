Feature: Discovery: the SUT finds its recipients' certificates
  The SUT's edge user submits a plain message to a case address of the harness world. The SUT
  must discover the recipient's certificate in the harness DNS (CERT records, UDP then TCP),
  in LDAP (servers named by _ldap._tcp SRV records) and over HTTP (IPKIX, AIA issuers, CRLs),
  keep only the certificates that are valid, bound to the recipient, usable for encryption and
  trusted under direct.test_ca_root, and send the message encrypted to exactly those. Every
  domain's MX leads to the harness, which keeps what arrives. Where nothing valid exists, the
  SUT must send nothing. Each case records every DNS query, LDAP operation and HTTP fetch the
  SUT made, and the DCDT-style verdict (the first credential of the case that decrypts).

  @D1 @serial @req-DISC-01 @req-DISC-03 @req-DISC-05 @req-DISC-14 @req-ENC-07
  Scenario: D1 valid address-bound certificate in DNS
    Given the harness world publishes discovery case D1
    When the SUT's edge user submits a message about "D1" to d1@domain1.direct.test
    Then the SUT sends the message encrypted to the "D1_valA" certificate only
    And the SUT asked for the address-bound CERT record "d1.domain1.direct.test" before the domain-bound one

  @D2 @req-DISC-02 @req-DISC-14 @req-DISC-15
  Scenario: D2 valid domain-bound certificate in DNS
    Given the harness world publishes discovery case D2
    When the SUT's edge user submits a message about "D2" to d2@domain1.direct.test
    Then the SUT sends the message encrypted to the "D2_valB" certificate only
    And the SUT made no LDAP search for d2@domain1.direct.test

  @D3 @req-DISC-08 @req-DISC-09 @req-DISC-12
  Scenario: D3 valid address-bound certificate in LDAP
    Given the harness world publishes discovery case D3
    When the SUT's edge user submits a message about "D3" to d3@domain2.direct.test
    Then the SUT sends the message encrypted to the "D3_valC" certificate only
    And the SUT bound anonymously to "L1", read its root DSE and searched it for d3@domain2.direct.test

  @D4 @req-DISC-12 @req-DISC-14 @req-DISC-15
  Scenario: D4 valid domain-bound certificate in LDAP
    Given the harness world publishes discovery case D4
    When the SUT's edge user submits a message about "D4" to d4@domain2.direct.test
    Then the SUT sends the message encrypted to the "D4_valD" certificate only

  @D5 @negative @req-CERT-06 @req-DISC-14 @req-DISC-16 @req-DISC-17
  Scenario: D5 invalid address-bound certificate in DNS, no domain fallback
    Given the harness world publishes discovery case D5
    When the SUT's edge user submits a message about "D5" to d5@domain1.direct.test
    Then the SUT sends nothing to d5@domain1.direct.test

  @D5 @needs-pop3 @req-DISC-17
  Scenario: D5 notice: the edge user learns that the message was not sent
    Given the harness world publishes discovery case D5
    When the SUT's edge user submits a message about "D5 notice" to d5@domain1.direct.test
    Then the SUT sends nothing to d5@domain1.direct.test
    And a failure notice for the message reaches the edge user

  @D6 @negative @req-DISC-14 @req-DISC-17
  Scenario: D6 invalid domain-bound certificate in DNS
    Given the harness world publishes discovery case D6
    When the SUT's edge user submits a message about "D6" to d6@domain4.direct.test
    Then the SUT sends nothing to d6@domain4.direct.test

  @D7 @negative @req-DISC-14 @req-DISC-16 @req-DISC-17
  Scenario: D7 invalid address-bound certificate in LDAP, no domain fallback
    Given the harness world publishes discovery case D7
    When the SUT's edge user submits a message about "D7" to d7@domain2.direct.test
    Then the SUT sends nothing to d7@domain2.direct.test

  @D8 @negative @req-DISC-10 @req-DISC-14 @req-DISC-17
  Scenario: D8 invalid domain-bound certificate in LDAP
    Given the harness world publishes discovery case D8
    When the SUT's edge user submits a message about "D8" to d8@domain5.direct.test
    Then the SUT sends nothing to d8@domain5.direct.test

  @D9 @req-DISC-14 @req-ENC-07
  Scenario: D9 the valid address-bound certificate is chosen over an invalid one
    Given the harness world publishes discovery case D9
    When the SUT's edge user submits a message about "D9" to d9@domain1.direct.test
    Then the SUT sends the message encrypted to the "D9_valA" certificate only

  @D10 @req-DISC-09 @req-DISC-11
  Scenario: D10 one LDAP server unavailable
    Given the harness world publishes discovery case D10
    When the SUT's edge user submits a message about "D10" to d10@domain3.direct.test
    Then within the lookup allowance the SUT sends the message encrypted to the "D10_valE" certificate only
    And the SUT looked up the address of "ldap-unavailable.direct.test"
    And the SUT's first LDAP search for d10@domain3.direct.test went to "L2"

  @D11 @negative @req-DISC-17
  Scenario: D11 no CERT and no SRV records
    Given the harness world publishes discovery case D11
    When the SUT's edge user submits a message about "D11" to d11@domain6.direct.test
    Then the SUT sends nothing to d11@domain6.direct.test

  @D11 @needs-pop3 @req-DISC-17
  Scenario: D11 notice: the edge user learns that the message was not sent
    Given the harness world publishes discovery case D11
    When the SUT's edge user submits a message about "D11 notice" to d11@domain6.direct.test
    Then the SUT sends nothing to d11@domain6.direct.test
    And a failure notice for the message reaches the edge user

  @D12 @negative @req-DISC-11 @req-DISC-17
  Scenario: D12 no CERT records and no reachable LDAP server
    Given the harness world publishes discovery case D12
    When the SUT's edge user submits a message about "D12" to d12@domain7.direct.test
    Then the SUT sends nothing to d12@domain7.direct.test

  @D13 @negative @req-DISC-17
  Scenario: D13 nothing in DNS or LDAP
    Given the harness world publishes discovery case D13
    When the SUT's edge user submits a message about "D13" to d13@domain8.direct.test
    Then the SUT sends nothing to d13@domain8.direct.test

  @D14 @req-DISC-05 @req-DISC-16
  Scenario: D14 a certificate larger than 512 bytes is fetched over TCP
    Given the harness world publishes discovery case D14
    When the SUT's edge user submits a message about "D14" to d14@domain1.direct.test
    Then the SUT sends the message encrypted to the "D14_valA" certificate only
    And the harness DNS answered the CERT query for "d14.domain1.direct.test" truncated over UDP, then over TCP

  @D15 @req-DISC-09
  Scenario: D15 the LDAP server of the lowest SRV priority is asked first
    Given the harness world publishes discovery case D15
    When the SUT's edge user submits a message about "D15" to d15@domain2.direct.test
    Then the SUT sends the message encrypted to the "D15_valC" certificate only
    And the SUT's first LDAP search for d15@domain2.direct.test went to "L1"

  @D16 @req-DISC-10
  Scenario: D16 the LDAP server is chosen by SRV weight
    Given the harness world publishes discovery case D16
    When the SUT's edge user submits a message about "D16" to d16@domain5.direct.test
    Then the SUT sends the message encrypted to the "D16_valC" certificate only, having asked "L3" first (two more tries if the weight-0 server came first)

  @D17 @req-TRUST-07 @req-DISC-14 @req-DISC-15
  Scenario: D17 revoked certificates are skipped after fetching the CRL
    Given the harness world publishes discovery case D17
    When the SUT's edge user submits a message about "D17" to d17@domain9.direct.test
    Then the SUT sends the message encrypted to the "D17_valA" certificate only
    And the SUT fetched "/direct.test_ca_root.crl" from the harness PKI

  @D18 @req-TRUST-04
  Scenario: D18 the intermediate issuer is fetched by AIA
    Given the harness world publishes discovery case D18
    When the SUT's edge user submits a message about "D18" to d18@domain10.direct.test
    Then the SUT sends the message encrypted to the "D18_valA" certificate only
    And the SUT fetched "/direct.test_ca_intermediate1.cer" from the harness PKI

  @D19 @negative @req-CERT-06 @req-DISC-14 @req-DISC-17
  Scenario: D19 a certificate that is not yet valid
    Given the harness world publishes discovery case D19
    When the SUT's edge user submits a message about "D19" to d19@domain11.direct.test
    Then the SUT sends nothing to d19@domain11.direct.test

  @D20 @negative @req-CERT-01 @req-DISC-14
  Scenario: D20 a certificate bound to another mailbox
    Given the harness world publishes discovery case D20
    When the SUT's edge user submits a message about "D20" to d20@domain12.direct.test
    Then the SUT sends nothing to d20@domain12.direct.test
    And the SUT fetched the CERT record "d20.domain12.direct.test"

  @D21 @negative @req-TRUST-02 @req-DISC-14 @req-SEC-05
  Scenario: D21 a certificate under an untrusted anchor
    Given the harness world publishes discovery case D21
    When the SUT's edge user submits a message about "D21" to d21@domain13.direct.test
    Then the SUT sends nothing to d21@domain13.direct.test

  @D22 @req-CERT-05 @req-ENC-07
  Scenario: D22 the encryption certificate is chosen over the signing one
    Given the harness world publishes discovery case D22
    When the SUT's edge user submits a message about "D22" to d22@domain14.direct.test
    Then the SUT sends the message encrypted to the "D22_valA" certificate only

  @D23 @needs-ipkix @should @req-DISC-04
  Scenario: D23 a certificate behind an IPKIX URL
    Given the harness world publishes discovery case D23
    When the SUT's edge user submits a message about "D23" to d23@domain15.direct.test
    Then the SUT sends the message encrypted to the "D23_valA" certificate only
    And the SUT fetched "/ipkix/D23_valA.cer" from the harness PKI

  @D24 @req-DISC-11
  Scenario: D24 the first LDAP target refuses connections
    Given the harness world publishes discovery case D24
    When the SUT's edge user submits a message about "D24" to d24@domain16.direct.test
    Then within the lookup allowance the SUT sends the message encrypted to the "D24_valC" certificate only
    And the SUT's first LDAP search for d24@domain16.direct.test went to "L5"

  @D25 @req-DISC-11 @req-SEC-07
  Scenario: D25 the first LDAP target never answers
    Given the harness world publishes discovery case D25
    When the SUT's edge user submits a message about "D25" to d25@domain17.direct.test
    Then within the lookup allowance the SUT sends the message encrypted to the "D25_valC" certificate only

  @D26 @should @req-DISC-13 @req-DISC-11
  Scenario: D26 past an entry without a certificate to the next LDAP server
    Given the harness world publishes discovery case D26
    When the SUT's edge user submits a message about "D26" to d26@domain18.direct.test
    Then within the lookup allowance the SUT sends the message encrypted to the "D26_valC" certificate only
    And the SUT searched "L4" and then "L5" for d26@domain18.direct.test

  @D27 @req-DISC-18
  Scenario: D27 a dotted local part
    Given the harness world publishes discovery case D27
    When the SUT's edge user submits a message about "D27" to d27.dotted@domain19.direct.test
    Then the SUT sends the message encrypted to the "D27_valA" certificate only
    And the SUT asked for the CERT record "d27\.dotted.domain19.direct.test" or "d27.dotted.domain19.direct.test"

  @D28 @req-DISC-18 @req-MSG-19
  Scenario: D28 a mixed-case address
    Given the harness world publishes discovery case D28
    When the SUT's edge user submits a message about "D28" to D28@Domain20.Direct.Test
    Then the SUT sends the message encrypted to the "D28_valA" certificate only
    And the message the SUT sent is addressed To "D28@Domain20.Direct.Test"

  @D29 @req-DISC-06
  Scenario: D29 the address-bound name is a CNAME
    Given the harness world publishes discovery case D29
    When the SUT's edge user submits a message about "D29" to d29@domain21.direct.test
    Then the SUT sends the message encrypted to the "D29_valA" certificate only
    And the SUT asked for the CERT record "d29.domain21.direct.test"

  @D30 @req-CERT-09
  Scenario: D30 a certificate with both an rfc822Name and a dNSName
    Given the harness world publishes discovery case D30
    When the SUT's edge user submits a message about "D30" to d30@domain22.direct.test
    Then the SUT sends the message encrypted to the "D30_valA" certificate only
    And the report carries a VC-511 warning for the two kinds of binding in "D30_valA" (CERT-09)

  @D31 @req-DISC-07 @req-DISC-02
  Scenario: D31 NXDOMAIN for the address-bound name falls back to the domain certificate
    Given the harness world publishes discovery case D31
    When the SUT's edge user submits a message about "D31" to d31@domain23.direct.test
    Then the SUT sends the message encrypted to the "D31_valB" certificate only
    And the harness DNS answered NXDOMAIN for "d31.domain23.direct.test"

  @D32 @req-DISC-12
  Scenario: D32 every naming context is searched, past a refusal and an empty one
    Given the harness world publishes discovery case D32
    When the SUT's edge user submits a message about "D32" to d32@domain24.direct.test
    Then the SUT sends the message encrypted to the "D32_valC" certificate only
    And the SUT searched every naming context of "L6" for d32@domain24.direct.test

  @D33 @req-TRUST-04
  Scenario: D33 AIA points at a certs-only PKCS#7
    Given the harness world publishes discovery case D33
    When the SUT's edge user submits a message about "D33" to d33@domain25.direct.test
    Then the SUT sends the message encrypted to the "D33_valA" certificate only
    And the SUT fetched "/direct.test_ca_intermediate2.p7c" from the harness PKI

  @D34 @negative @req-TRUST-07 @req-DISC-14
  Scenario: D34 the only certificate is revoked
    Given the harness world publishes discovery case D34
    When the SUT's edge user submits a message about "D34" to d34@domain26.direct.test
    Then the SUT sends nothing to d34@domain26.direct.test
    And the SUT fetched "/direct.test_ca_root.crl" from the harness PKI
