//! Certs-only PKCS#7 (`.p7c`, RFC 5652 degenerate SignedData), as served to AIA clients.

use cms::content_info::ContentInfo;
use der::Encode;
use x509_cert::Certificate;

use super::error::PkiError;

pub fn build_p7c(certs: &[Certificate]) -> Result<Vec<u8>, PkiError> {
    let info = ContentInfo::try_from(certs.to_vec()).map_err(PkiError::der("certs-only PKCS#7"))?;
    info.to_der().map_err(PkiError::der("certs-only PKCS#7"))
}
