//! Recognising an IHE XDM package (a ZIP holding `IHE_XDM/SUBSETnn/METADATA.XML`, MSG-17) in
//! an attachment, for VC-112. Only the ZIP central directory is read: names, not content.

use crate::smime::entity::decode_base64;
use crate::validate::message::Entity;

/// The METADATA.XML path when `e` is an XDM ZIP.
pub fn xdm_zip(e: &Entity) -> Option<String> {
    if !e.children.is_empty() || e.embedded.is_some() {
        return None;
    }
    // A ZIP starts "PK\3\4", which base64 spells "UEsDB": look before decoding, so that a
    // large attachment that is not a ZIP is never decoded here.
    let data: std::borrow::Cow<'_, [u8]> = if e.is_base64() {
        if !e.body.trim_ascii_start().starts_with(b"UEsDB") {
            return None;
        }
        decode_base64(&e.body).ok()?.into()
    } else {
        (&e.body[..]).into()
    };
    if !data.starts_with(b"PK\x03\x04") {
        return None;
    }
    zip_names(&data).into_iter().find(|n| {
        let upper = n.to_ascii_uppercase();
        upper.starts_with("IHE_XDM/") && upper.ends_with("/METADATA.XML")
    })
}

/// File names from the central directory records (signature PK\1\2, name length at +28,
/// name at +46).
pub fn zip_names(data: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut i = 0;
    while i + 46 <= data.len() {
        if &data[i..i + 4] == b"PK\x01\x02" {
            let len = u16::from_le_bytes([data[i + 28], data[i + 29]]) as usize;
            if let Some(name) = data.get(i + 46..i + 46 + len) {
                names.push(String::from_utf8_lossy(name).into_owned());
            }
            i += 46;
        } else {
            i += 1;
        }
    }
    names
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A minimal stored ZIP holding the given (empty) files: enough for name recognition.
    pub fn tiny_zip(names: &[&str]) -> Vec<u8> {
        let mut local = Vec::new();
        let mut central = Vec::new();
        for name in names {
            let offset = local.len() as u32;
            local.extend_from_slice(b"PK\x03\x04");
            local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            local.extend_from_slice(&[0; 12]);
            local.extend_from_slice(&(name.len() as u16).to_le_bytes());
            local.extend_from_slice(&[0, 0]);
            local.extend_from_slice(name.as_bytes());
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = local.len() as u32;
        let mut out = local;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn recognises_xdm_layout() {
        let zip = tiny_zip(&[
            "INDEX.HTM",
            "IHE_XDM/SUBSET01/METADATA.XML",
            "IHE_XDM/SUBSET01/DOC0001.XML",
        ]);
        assert_eq!(zip_names(&zip).len(), 3);
        let mut raw =
            b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
        raw.extend_from_slice(&crate::smime::entity::base64_lines(&zip));
        let e = Entity::parse("m", &raw);
        assert_eq!(
            xdm_zip(&e).as_deref(),
            Some("IHE_XDM/SUBSET01/METADATA.XML")
        );
        let plain = tiny_zip(&["a.txt"]);
        let mut raw =
            b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
        raw.extend_from_slice(&crate::smime::entity::base64_lines(&plain));
        assert_eq!(xdm_zip(&Entity::parse("m", &raw)), None);
    }
}
