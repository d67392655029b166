Feature: Trust and encryption: the SUT receives from another HISP
  The harness HISP hisp.direct.test delivers Direct messages to the SUT's backbone, signed by
  each of its test signers. The SUT's primary test recipient trusts the harness root
  (direct.test_ca_root) for incoming mail. A message the SUT accepts must reach the recipient
  with its attachment intact and be acknowledged by a processed MDN; a message it must refuse
  must not reach the recipient and must get no processed MDN.

  @RX-01 @req-MSG-01 @req-MSG-04 @req-MSG-05 @req-MSG-06 @req-MSG-07 @req-SIG-01 @req-ENC-01 @req-ENC-05 @req-MDN-01 @req-MDN-02
  Scenario: RX-01 a good message is delivered and acknowledged
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "hisp_sender" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-01 @needs-audit @req-AUD-01
  Scenario: RX-01 the delivery of a good message is audited
    Given a Direct message from the harness to the SUT's primary recipient
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And the SUT's audit log records the delivery with the recipient

  @RX-02 @req-ENC-01
  Scenario: RX-02 AES-256-CBC content encryption is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the content is encrypted with AES-256-CBC
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-03 @should @req-ENC-01
  Scenario: RX-03 AES-192-CBC content encryption is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the content is encrypted with AES-192-CBC
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-04 @req-ENC-05 @req-ENC-06
  Scenario: RX-04 RSA-OAEP key transport with SHA-256 is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the content-encryption key is transported with RSA-OAEP using SHA-256
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-05 @req-ENC-05
  Scenario: RX-05 RSA-OAEP key transport with default parameters is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the content-encryption key is transported with RSA-OAEP with default parameters
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-06 @needs-aes-gcm @ds-1.3 @req-ENC-04
  Scenario: RX-06 AES-128-GCM in AuthEnvelopedData is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the content is encrypted with AES-128-GCM
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-07 @needs-aes-gcm @ds-1.3 @req-ENC-04
  Scenario: RX-07 AES-256-GCM in AuthEnvelopedData is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the content is encrypted with AES-256-GCM
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-08 @negative @ds-1.3 @req-ENC-02 @req-ENC-03
  Scenario: RX-08 3DES content encryption is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the content is encrypted with 3DES
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-09 @negative @req-ENC-02
  Scenario: RX-09 RC2-128 content encryption is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the content is encrypted with RC2-128
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-10 @negative @ds-1.3 @req-SIG-03 @req-SIG-04
  Scenario: RX-10 a SHA-1 signature is refused under ds-1.3
    Given a Direct message from the harness to the SUT's primary recipient
    And the signature uses SHA-1
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-11 @negative @req-SIG-03 @req-SIG-04
  Scenario: RX-11 an MD5 signature is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the signature uses MD5
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-12 @req-SIG-05
  Scenario: RX-12 a SHA-384 signature is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the signature uses SHA-384
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-12 @req-SIG-05
  Scenario: RX-12 a SHA-512 signature is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the signature uses SHA-512
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-14 @negative @req-SIG-08 @req-SIG-09
  Scenario: RX-14 a 1024-bit RSA signer is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_rsa1024" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-15 @req-CERT-13
  Scenario: RX-15 a 3072-bit RSA signer is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_rsa3072" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-15 @req-CERT-13
  Scenario: RX-15 a 4096-bit RSA signer is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_rsa4096" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-16 @needs-ecdsa @ds-1.3 @req-SIG-10
  Scenario: RX-16 an ECDSA P-256 signer with SHA-256 is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_p256" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-17 @needs-ecdsa @ds-1.3 @req-SIG-10
  Scenario: RX-17 an ECDSA P-384 signer with SHA-384 is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_p384" certificate
    And the signature uses SHA-384
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-18 @negative @req-SIG-01 @req-SIG-12 @req-MDN-03
  Scenario: RX-18 a message altered after signing is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is altered after it was signed
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-19 @negative @req-CERT-06 @req-TRUST-06
  Scenario: RX-19 an expired signer is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_expired" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-19 @negative @needs-audit @req-AUD-01 @req-TRUST-06
  Scenario: RX-19 the refusal of an expired signer is audited with its reason
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_expired" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's audit log records the refusal with the recipient and a reason

  @RX-20 @negative @req-CERT-06 @req-TRUST-06
  Scenario: RX-20 a signer that is not yet valid is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_not_yet_valid" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-21 @negative @req-TRUST-07
  Scenario: RX-21 a revoked signer is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_revoked" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-22 @negative @req-TRUST-01 @req-TRUST-10 @req-MDN-03
  Scenario: RX-22 a signer under a different trust anchor is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_untrusted" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-22 @negative @needs-audit @req-AUD-01 @req-TRUST-01
  Scenario: RX-22 the refusal of an untrusted signer is audited with its reason
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_untrusted" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's audit log records the refusal with the recipient and a reason

  @RX-23 @negative @req-TRUST-01
  Scenario: RX-23 a recipient that trusts only another anchor refuses the message
    Given a Direct message from the harness to the SUT's untrusting recipient
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-24 @negative @req-SIG-11 @req-MDN-03
  Scenario: RX-24 an organisation certificate bound to another domain is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_wrong_domain" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-25 @negative @req-SIG-11
  Scenario: RX-25 the address certificate of another mailbox is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_wrong_address" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-26 @req-CERT-02 @req-SIG-11
  Scenario: RX-26 a domain-bound signer is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "hisp_domain" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-27 @negative @req-CERT-03
  Scenario: RX-27 a signer whose subject emailAddress differs from its SAN is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_email_mismatch" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-31 @negative @req-SIG-15
  Scenario: RX-31 a signer certificate signed with SHA-1 is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_sha1_signed" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-38 @req-MSG-10
  Scenario: RX-38 an unwrapped message is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is not wrapped
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-43 @negative @req-MSG-01 @req-SEC-09
  Scenario: RX-43 a signed but unencrypted message is not delivered as Direct
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed but not encrypted
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-44 @negative @req-MSG-01 @req-SEC-09
  Scenario: RX-44 a plain message on the backbone is not delivered as Direct
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is neither signed nor encrypted
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-45 @negative @req-ENC-09
  Scenario: RX-45 a message encrypted for somebody else is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is encrypted only for the harness certificate "hisp_good"
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-46 @negative @req-ENC-11
  Scenario: RX-46 an encrypted but unsigned message is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is encrypted but not signed
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-48 @req-TRUST-01 @req-TRUST-14
  Scenario: RX-48 trust is decided per recipient
    Given a Direct message from the harness to the SUT's primary and untrusting recipients
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And the SUT's untrusting recipient does not receive the message

  @RX-13 @req-SIG-06
  Scenario: RX-13 micalg written "sha256" is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the signature's micalg parameter is written sha256
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-13 @req-SIG-06
  Scenario: RX-13 micalg written "SHA-256" is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the signature's micalg parameter is written SHA-256
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-28 @negative @ds-1.3 @req-CERT-08
  Scenario: RX-28 a wildcard signer certificate is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_wildcard" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  # The signer certificates are hand-encoded (reference-certs/<signer>/malformed.der, made by
  # `direct-conformance certs` from the well-formed twin and signed again by the root): no
  # certificate builder or certificate type can hold a Validity that lacks one of its times.
  @RX-29 @negative @req-CERT-07
  Scenario Outline: RX-29 a signer certificate without <missing> is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the hand-encoded "<signer>" certificate, whose Validity has no <missing>
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

    Examples:
      | signer               | missing   |
      | sender_no_not_before | notBefore |
      | sender_no_not_after  | notAfter  |

  @RX-30 @negative @req-CERT-05
  Scenario: RX-30 a signer without digitalSignature is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_encryption_only" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-35 @req-CERT-11
  Scenario: RX-35 a signer without a CRL distribution point is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_no_crl_dp" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-36 @req-TRUST-09
  Scenario: RX-36 a signer whose CRL cannot be fetched is accepted by default
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_crl_unreachable" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-37 @req-TRUST-03
  Scenario: RX-37 an intermediate installed as the recipient's only anchor ends the path
    Given a Direct message from the harness to the SUT's intermediate_anchor recipient
    And the message is signed with the "sender_inter1" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's intermediate_anchor recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-39 @req-MSG-11
  Scenario: RX-39 a wrapper with parameters is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the wrapper's content type is "message/rfc822; charset=us-ascii"
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-40 @should @req-MSG-03
  Scenario: RX-40 the legacy x-pkcs7 media types are accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message uses the legacy media types application/x-pkcs7-mime and application/x-pkcs7-signature
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-41 @req-MSG-02
  Scenario Outline: RX-41 an envelope header written <variant> is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the envelope's header reads <content_type> with Content-Disposition <disposition>
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

    Examples:
      | variant                        | content_type                                                                         | disposition                             |
      | without optional parameters    | Content-Type: application/pkcs7-mime                                                 | (absent)                                |
      | with its parameters reordered  | Content-Type: application/pkcs7-mime; name="smime.p7m"; smime-type=enveloped-data    | attachment; filename="smime.p7m"        |
      | with odd quoting               | Content-Type: application/pkcs7-mime; smime-type="enveloped-data"; name=smime.p7m    | attachment; filename=smime.p7m          |
      | with no space after the colon  | Content-Type:application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"     | attachment; filename="smime.p7m"        |

  @RX-42 @negative @should @req-MSG-05
  Scenario: RX-42 an opaque signature inside the envelope is refused
    Given a Direct message from the harness to the SUT's primary recipient
    And the message carries an opaque signature (signed-data with the content inside) in its envelope
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-47 @req-MSG-16
  Scenario: RX-47 a recipient added to the SMTP envelope only does not get the message
    Given a Direct message from the harness to the SUT's primary recipient
    And the SMTP envelope also names the SUT's second recipient, which the message header does not
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And the SUT's second recipient does not receive the message

  @RX-49 @req-EDGE-12
  Scenario: RX-49 a large message of about 1.1 MB is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message carries an extra attachment of 1100 kB
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-50 @req-ENC-09
  Scenario: RX-50 a recipient with two certificates accepts a message encrypted to the second
    Given a Direct message from the harness to the SUT's multi_cert recipient
    When the harness delivers it to the SUT's backbone
    Then the SUT's multi_cert recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-51 @req-ENC-07
  Scenario: RX-51 an envelope also addressed to a recipient at another HISP is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is also encrypted for the harness certificate "hisp_good"
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-32 @req-TRUST-04
  Scenario: RX-32 a signer whose intermediate is reachable only by AIA is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_inter1" certificate
    And the signature carries no intermediate certificates
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-33 @req-TRUST-04
  Scenario: RX-33 a signer whose AIA serves a certs-only PKCS#7 (.p7c) is accepted
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_inter2" certificate
    And the signature carries no intermediate certificates
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  @RX-34 @negative @req-TRUST-05 @req-TRUST-11 @req-SEC-07
  Scenario: RX-34 a signer whose AIA answers 404 is refused in bounded time
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_dead_aia_404" certificate
    And the signature carries no intermediate certificates
    When the harness delivers it to the SUT's backbone
    Then the SUT answered the SMTP transaction within the lookup allowance
    And the SUT refuses the message

  @RX-34 @negative @req-TRUST-05 @req-TRUST-11 @req-SEC-07
  Scenario: RX-34 a signer whose AIA host does not resolve is refused in bounded time
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_dead_aia_unresolvable" certificate
    And the signature carries no intermediate certificates
    When the harness delivers it to the SUT's backbone
    Then the SUT answered the SMTP transaction within the lookup allowance
    And the SUT refuses the message

  @RX-34 @negative @req-TRUST-05 @req-TRUST-11 @req-SEC-07
  Scenario: RX-34 a signer whose AIA is a tarpit is refused in bounded time
    Given a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_dead_aia_tarpit" certificate
    And the signature carries no intermediate certificates
    When the harness delivers it to the SUT's backbone
    Then the SUT answered the SMTP transaction within the lookup allowance
    And the SUT refuses the message

  @RX-52 @needs-trust-bundle @req-TRUST-12 @req-SEC-06
  Scenario: RX-52 an anchor delivered by a signed trust bundle is trusted
    Given the harness serves the signed trust bundle holding "direct.test_ca_bundle"
    And the SUT has fetched the trust bundle over HTTPS since it last changed
    And a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_bundle" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT's primary recipient receives the message with its attachment intact
    And a processed MDN for the message reaches the harness

  # RX-53 and RX-54 change the one bundle the SUT subscribes to (the catalogue's single URL, so
  # that a vendor configures one subscription): @serial runs each of them alone, and the harness
  # serves the standard bundle again when the scenario ends, whatever its outcome.
  @RX-53 @needs-trust-bundle @negative @serial @req-TRUST-13
  Scenario: RX-53 an anchor withdrawn from the trust bundle is no longer trusted
    Given the harness reissues the signed trust bundle without "direct.test_ca_bundle"
    And the SUT has fetched the trust bundle over HTTPS since it last changed
    And a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_bundle" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message

  @RX-54 @needs-trust-bundle @serial @req-TRUST-12
  Scenario: RX-54 a tampered trust bundle is ignored and the old anchors stay
    Given the harness serves a tampered trust bundle, re-signed with the foreign key "bundle_signer_foreign" and adding "direct.test_ca_untrusted"
    And the SUT has fetched the trust bundle over HTTPS since it last changed
    And a Direct message from the harness to the SUT's primary recipient
    And the message is signed with the "sender_untrusted" certificate
    When the harness delivers it to the SUT's backbone
    Then the SUT refuses the message
