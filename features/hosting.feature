Feature: Hosting: the SUT publishes its own certificates
  A sending HISP finds a recipient's encryption certificate in the recipient HISP's DNS (CERT
  records) or LDAP directory (found through `_ldap._tcp` SRV). Here the SUT is the one that
  publishes: the harness asks the SUT's own authoritative DNS server and LDAP directly (sut.toml
  [hosting]) and judges what it finds. As in DCDT, H1-H4 pass when at least one published
  certificate is in date, not revoked, and bound to the address or domain; H6 judges chain, key
  usage, key size and signature of everything H1-H4 found. A case whose address or domain is
  not named in [hosting] is skipped.

  @H1 @req-DISC-19 @req-DISC-20 @req-CERT-01 @req-CERT-03 @req-CERT-06 @req-TRUST-07
  Scenario: H1_DNS_AB_Normal address-bound certificate in DNS
    When the harness looks up the certificates of the SUT's address in the SUT's DNS server
    Then at least one published certificate passes DCDT's validators

  @H2 @req-DISC-19 @req-DISC-20 @req-CERT-02
  Scenario: H2_DNS_DB_Normal domain-bound certificate in DNS
    When the harness looks up the certificates of the SUT's domain in the SUT's DNS server
    Then at least one published certificate passes DCDT's validators

  @H3 @req-DISC-19 @req-DISC-21 @req-DISC-12
  Scenario: H3_LDAP_AB_Normal address-bound certificate in LDAP
    When the harness looks up the certificates of the SUT's address in the SUT's LDAP directory
    Then at least one published certificate passes DCDT's validators

  @H4 @req-DISC-19 @req-DISC-21
  Scenario: H4_LDAP_DB_Normal domain-bound certificate in LDAP
    When the harness looks up the certificates of the SUT's domain in the SUT's LDAP directory
    Then at least one published certificate passes DCDT's validators

  @H5 @negative @req-DISC-21
  Scenario: H5_LDAP_NB_InvalidDirectAddr an unknown address has no entry
    When the harness searches the SUT's LDAP directory for an address that does not exist
    Then the directory answers with success and no entry

  @H6 @req-TRUST-01 @req-CERT-05 @req-CERT-08 @req-SIG-08 @req-SIG-15 @req-ENC-10
  Scenario: H6 hosted certificate profile
    When the harness gathers every certificate the SUT publishes for its hosting names
    And the harness judges them by the hosted-certificate profile with the SUT's trust anchors
    Then every hosted certificate fits the profile

  @H7 @req-DISC-20
  Scenario: H7 CERT transport
    When the harness asks the SUT's DNS server for the CERT records of its hosting names over UDP without EDNS0, UDP with EDNS0 and TCP
    Then every answer is whole or truncated, and TCP gives the whole RRset

  @H8 @req-DISC-19
  Scenario: H8 MX and address form
    When the harness asks the SUT's DNS server for the MX records of its domain
    Then the domain has MX records and every MX host has an address
