//! Reading EnvelopedData and AuthEnvelopedData: an inventory of the envelope without a key
//! (what the validator reports), and decryption with a recipient key. The cms crate has no
//! decryption API; the key-transport step (RSA PKCS#1 v1.5 or OAEP) and the content step are
//! ours.

use cms::content_info::ContentInfo;
use cms::enveloped_data::{RecipientIdentifier, RecipientInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use crate::keys::PrivateKey;
use crate::smime::algorithms::{ContentCipher, DigestAlgorithm, KeyTransport, OID_RSAES_OAEP};
use crate::smime::ber;
use crate::smime::error::SmimeError;
use crate::smime::identity::{describe_rid, recipient_matches};
use crate::smime::oaep::{oaep_decrypt, oaep_hashes};
use crate::smime::symmetric;

/// One RecipientInfo as the report shows it.
#[derive(Clone, Debug)]
pub struct RecipientSummary {
    /// ktri, kari, kekri, pwri or ori.
    pub kind: &'static str,
    pub version: u8,
    pub rid: Option<RecipientIdentifier>,
    pub rid_text: String,
    pub key_encryption: Option<ObjectIdentifier>,
    /// Recognised RSA key transport, with OAEP hashes when OAEP.
    pub key_transport: Option<KeyTransport>,
    pub oaep_hashes: Option<(DigestAlgorithm, DigestAlgorithm)>,
    /// Problem with the key-encryption parameters, if any.
    pub parameter_problem: Option<String>,
}

/// What an envelope says before anyone decrypts it.
#[derive(Clone, Debug)]
pub struct EnvelopeInfo {
    /// True for AuthEnvelopedData (RFC 5083).
    pub authenticated: bool,
    pub version: u8,
    pub recipients: Vec<RecipientSummary>,
    pub content_type: ObjectIdentifier,
    pub cipher_algorithm: AlgorithmIdentifierOwned,
    pub cipher: Option<ContentCipher>,
    pub encrypted_content_len: usize,
}

/// A decrypted envelope.
#[derive(Debug)]
pub struct Decrypted {
    pub info: EnvelopeInfo,
    pub content: Vec<u8>,
    /// Index into `info.recipients` of the RecipientInfo that opened the envelope.
    pub recipient_index: usize,
}

/// The parsed pieces decryption needs.
struct Envelope {
    info: EnvelopeInfo,
    infos: Vec<RecipientInfo>,
    ciphertext: Vec<u8>,
    tag: Option<Vec<u8>>,
    aad: Vec<u8>,
}

/// Reads the envelope's structure: content type, recipients, cipher. No key needed.
pub fn inspect_envelope(cms: &[u8]) -> Result<EnvelopeInfo, SmimeError> {
    Ok(parse(cms)?.info)
}

/// Decrypts with `key`. With `cert`, only RecipientInfos naming that certificate are tried;
/// without, every key-transport RecipientInfo is tried in turn.
pub fn decrypt(
    cms: &[u8],
    key: &PrivateKey,
    cert: Option<&Certificate>,
) -> Result<Decrypted, SmimeError> {
    let env = parse(cms)?;
    let PrivateKey::Rsa(rsa_key) = key else {
        return Err(SmimeError::KeyMismatch(
            "key transport needs an RSA key".into(),
        ));
    };
    let mut last_error = SmimeError::NoMatchingRecipient;
    for (index, ri) in env.infos.iter().enumerate() {
        let RecipientInfo::Ktri(ktri) = ri else {
            continue;
        };
        if let Some(cert) = cert
            && !recipient_matches(&ktri.rid, cert)
        {
            continue;
        }
        let summary = &env.info.recipients[index];
        let cek = match summary.key_transport {
            Some(KeyTransport::RsaPkcs1v15) => rsa_key
                .decrypt(rsa::Pkcs1v15Encrypt, ktri.enc_key.as_bytes())
                .map_err(|_| SmimeError::KeyTransportFailed),
            Some(_) => match summary.oaep_hashes {
                Some(h) => oaep_decrypt(rsa_key, h, ktri.enc_key.as_bytes()),
                None => Err(SmimeError::UnsupportedKeyTransport(OID_RSAES_OAEP)),
            },
            None => Err(SmimeError::UnsupportedKeyTransport(ktri.key_enc_alg.oid)),
        };
        let content = cek.and_then(|cek| {
            symmetric::decrypt(
                &env.info.cipher_algorithm,
                &cek,
                &env.ciphertext,
                env.tag.as_deref(),
                &env.aad,
            )
        });
        match content {
            Ok(content) => {
                return Ok(Decrypted {
                    info: env.info,
                    content,
                    recipient_index: index,
                });
            }
            // A PKCS#1 v1.5 unwrap with the wrong key can "succeed" with garbage; the content
            // step then fails. Either way, try the next RecipientInfo.
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

fn parse(cms: &[u8]) -> Result<Envelope, SmimeError> {
    let der = ber::to_der(cms)?;
    let ci = ContentInfo::from_der(&der)?;
    let authenticated = if ci.content_type == rfc5911::ID_ENVELOPED_DATA {
        false
    } else if ci.content_type == rfc5911::ID_CT_AUTH_ENVELOPED_DATA {
        true
    } else {
        return Err(SmimeError::WrongContentType {
            expected: "EnvelopedData or AuthEnvelopedData",
            found: ci.content_type,
        });
    };
    // Walk the fields by hand: the encryptedContent [0] IMPLICIT OCTET STRING may arrive
    // constructed (chunked) from streaming encoders, which the derived types refuse.
    let body = ci.content.to_der()?;
    let seq = ber::single(&body)?;
    let fields = ber::elements(seq.content)?;
    let mut it = fields.iter().peekable();
    let version_el = it
        .next()
        .ok_or_else(|| SmimeError::Asn1("empty envelope".into()))?;
    let version = u8::from_der(version_el.encoded)?;
    if it.peek().is_some_and(|e| e.tag == 0xa0) {
        it.next(); // originatorInfo: not used by key transport
    }
    let ris = it
        .next()
        .filter(|e| e.tag == 0x31)
        .ok_or_else(|| SmimeError::Asn1("envelope has no recipientInfos SET".into()))?;
    let infos = ber::elements(ris.content)?
        .into_iter()
        .map(|e| RecipientInfo::from_der(e.encoded))
        .collect::<Result<Vec<_>, _>>()?;
    if infos.is_empty() {
        return Err(SmimeError::Asn1("recipientInfos is empty".into()));
    }
    let eci = it
        .next()
        .filter(|e| e.tag == 0x30)
        .ok_or_else(|| SmimeError::Asn1("envelope has no encryptedContentInfo".into()))?;
    let eci_fields = ber::elements(eci.content)?;
    let (content_type, cipher_algorithm, ciphertext) = match eci_fields.as_slice() {
        [ct, alg, rest @ ..] => {
            let content_type = ObjectIdentifier::from_der(ct.encoded)?;
            let alg = AlgorithmIdentifierOwned::from_der(alg.encoded)?;
            let ciphertext = match rest {
                [] => {
                    return Err(SmimeError::Asn1(
                        "encryptedContent is absent (detached)".into(),
                    ));
                }
                [c] if c.tag & 0x1f == 0 && c.tag & 0xc0 == 0x80 => {
                    ber::implicit_octets(c.constructed, c.content)?
                }
                _ => return Err(SmimeError::Asn1("malformed encryptedContent".into())),
            };
            (content_type, alg, ciphertext)
        }
        _ => return Err(SmimeError::Asn1("malformed encryptedContentInfo".into())),
    };
    let (tag, aad) = if authenticated {
        let mut aad = Vec::new();
        let mut tag = None;
        for e in it {
            match e.tag {
                // authAttrs [1]: the MAC covers them DER-encoded as a SET OF (RFC 5083 §2.1).
                0xa1 => {
                    aad = e.encoded.to_vec();
                    if let Some(first) = aad.first_mut() {
                        *first = 0x31;
                    }
                }
                0x04 => tag = Some(e.content.to_vec()),
                _ => {}
            }
        }
        (
            Some(tag.ok_or_else(|| SmimeError::Asn1("AuthEnvelopedData has no mac".into()))?),
            aad,
        )
    } else {
        (None, Vec::new())
    };
    let recipients = infos.iter().map(summarise).collect();
    Ok(Envelope {
        info: EnvelopeInfo {
            authenticated,
            version,
            recipients,
            content_type,
            cipher: ContentCipher::from_oid(&cipher_algorithm.oid),
            cipher_algorithm,
            encrypted_content_len: ciphertext.len(),
        },
        infos,
        ciphertext,
        tag,
        aad,
    })
}

fn summarise(ri: &RecipientInfo) -> RecipientSummary {
    let blank = |kind| RecipientSummary {
        kind,
        version: 0,
        rid: None,
        rid_text: String::new(),
        key_encryption: None,
        key_transport: None,
        oaep_hashes: None,
        parameter_problem: None,
    };
    match ri {
        RecipientInfo::Ktri(k) => {
            let oid = k.key_enc_alg.oid;
            let mut s = RecipientSummary {
                version: k.version as u8,
                rid: Some(k.rid.clone()),
                rid_text: describe_rid(&k.rid),
                key_encryption: Some(oid),
                ..blank("ktri")
            };
            if oid == rfc5912::RSA_ENCRYPTION {
                s.key_transport = Some(KeyTransport::RsaPkcs1v15);
            } else if oid == OID_RSAES_OAEP {
                match oaep_hashes(k.key_enc_alg.parameters.as_ref()) {
                    Ok(h) => {
                        s.oaep_hashes = Some(h);
                        s.key_transport = Some(match h {
                            (DigestAlgorithm::Sha1, DigestAlgorithm::Sha1) => {
                                KeyTransport::RsaOaepSha1
                            }
                            _ => KeyTransport::RsaOaepSha256,
                        });
                    }
                    Err(e) => s.parameter_problem = Some(e.to_string()),
                }
            }
            s
        }
        RecipientInfo::Kari(_) => blank("kari"),
        RecipientInfo::Kekri(_) => blank("kekri"),
        RecipientInfo::Pwri(_) => blank("pwri"),
        RecipientInfo::Ori(_) => blank("ori"),
    }
}
