//! The clinical test content of the attachment cases (TEST-CATALOGUE §d.1 SMTP25–29): a
//! small synthetic C-CDA (with a good, broken or bad stylesheet reference), a small PDF, and
//! an IHE XDM package (ZIP: INDEX.HTM, README.TXT, IHE_XDM/SUBSET01/METADATA.XML and
//! DOC0001.XML), all made in code and byte-for-byte reproducible, so that EDGE-RET can compare
//! hashes.

use std::io::{Cursor, Write};

/// What the C-CDA says about its stylesheet (ETT SMTP 26 a/b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stylesheet {
    /// No `xml-stylesheet` processing instruction.
    None,
    /// A well-formed reference to a stylesheet that is not there (26a).
    Broken,
    /// A malformed processing instruction (26b: an unterminated pseudo-attribute).
    Bad,
}

/// A small synthetic C-CDA document.
pub fn ccda(stylesheet: Stylesheet) -> Vec<u8> {
    let pi = match stylesheet {
        Stylesheet::None => "",
        Stylesheet::Broken => {
            "<?xml-stylesheet type=\"text/xsl\" href=\"missing/CDA-no-such.xsl\"?>\r\n"
        }
        Stylesheet::Bad => "<?xml-stylesheet type=\"text/xsl\" href=\"CDA.xsl?>\r\n",
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n{pi}<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\r\n  <realmCode code=\"US\"/>\r\n  <typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\r\n  <templateId root=\"2.16.840.1.113883.10.20.22.1.1\" extension=\"2015-08-01\"/>\r\n  <id root=\"2.16.840.1.113883.19.5.99999.1\" extension=\"direct-conformance\"/>\r\n  <code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"Summary of episode note\"/>\r\n  <title>direct-conformance synthetic C-CDA</title>\r\n  <effectiveTime value=\"20261126000000+0000\"/>\r\n  <confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/>\r\n  <recordTarget><patientRole><id extension=\"0000\" root=\"2.16.840.1.113883.19.5\"/><patient><name><given>Test</given><family>Patient</family></name></patient></patientRole></recordTarget>\r\n  <component><structuredBody><component><section><title>Note</title><text>Synthetic test content, no patient data.</text></section></component></structuredBody></component>\r\n</ClinicalDocument>\r\n"
    )
    .into_bytes()
}

/// A small PDF with a binary comment line and every octet value, so that any re-encoding of
/// the attachment shows in its hash.
pub fn pdf() -> Vec<u8> {
    let mut v =
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n".to_vec();
    v.extend_from_slice(b"3 0 obj << /Length 256 >> stream\n");
    v.extend(0..=255u8);
    v.extend_from_slice(b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    v
}

/// A plain-text attachment.
pub fn text() -> Vec<u8> {
    b"A note from the direct-conformance harness.\r\nSecond line, trailing space kept. \r\n"
        .to_vec()
}

/// How an XDM package is made (the variations of SMTP25, 27 and 29).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XdmOptions {
    /// INDEX.HTM is not well-formed XHTML (SMTP27).
    pub bad_xhtml: bool,
    /// The mimeType METADATA.XML gives the document (`text/xml`; SMTP29 `application/xml`).
    pub metadata_mime: &'static str,
    /// Deflate instead of Stored, and explicit directory entries: the ETT FAQ names packages
    /// without directory entries or with Deflate as ones receivers failed to open, so the cases
    /// carry both forms.
    pub deflate_with_directories: bool,
}

impl Default for XdmOptions {
    fn default() -> Self {
        XdmOptions {
            bad_xhtml: false,
            metadata_mime: "text/xml",
            deflate_with_directories: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the XDM package: {0}")]
pub struct XdmError(String);

fn metadata(mime: &str, doc: &[u8]) -> String {
    let hash = {
        use sha1::Digest;
        let d = sha1::Sha1::digest(doc);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<SubmitObjectsRequest xmlns=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\">\r\n <rim:RegistryObjectList>\r\n  <rim:ExtrinsicObject id=\"Document01\" mimeType=\"{mime}\" objectType=\"urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1\">\r\n   <rim:Slot name=\"URI\"><rim:ValueList><rim:Value>DOC0001.XML</rim:Value></rim:ValueList></rim:Slot>\r\n   <rim:Slot name=\"size\"><rim:ValueList><rim:Value>{size}</rim:Value></rim:ValueList></rim:Slot>\r\n   <rim:Slot name=\"hash\"><rim:ValueList><rim:Value>{hash}</rim:Value></rim:ValueList></rim:Slot>\r\n  </rim:ExtrinsicObject>\r\n  <rim:RegistryPackage id=\"SubmissionSet01\"/>\r\n </rim:RegistryObjectList>\r\n</SubmitObjectsRequest>\r\n",
        size = doc.len(),
    )
}

fn index_htm(bad: bool) -> &'static str {
    if bad {
        // Unclosed and crossed elements: not well-formed XHTML (SMTP27).
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>XDM index</title></head>\r\n<body><p>Contents: <a href=\"IHE_XDM/SUBSET01/DOC0001.XML\">DOC0001.XML<b></a>\r\n<br>\r\n</body>\r\n"
    } else {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>XDM index</title></head>\r\n<body><p>Contents: <a href=\"IHE_XDM/SUBSET01/DOC0001.XML\">DOC0001.XML</a></p></body></html>\r\n"
    }
}

/// The XDM package: the same bytes for the same options, every time.
pub fn xdm(options: XdmOptions) -> Result<Vec<u8>, XdmError> {
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, DateTime};
    let err = |e: zip::result::ZipError| XdmError(e.to_string());
    let doc = ccda(Stylesheet::None);
    let method = if options.deflate_with_directories {
        CompressionMethod::Deflated
    } else {
        CompressionMethod::Stored
    };
    let file = SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let entries: [(&str, Vec<u8>); 4] = [
        (
            "INDEX.HTM",
            index_htm(options.bad_xhtml).as_bytes().to_vec(),
        ),
        (
            "README.TXT",
            b"direct-conformance synthetic XDM package (IHE ITI TF-1 Vol 1 16.1.2).\r\n".to_vec(),
        ),
        (
            "IHE_XDM/SUBSET01/METADATA.XML",
            metadata(options.metadata_mime, &doc).into_bytes(),
        ),
        ("IHE_XDM/SUBSET01/DOC0001.XML", doc.clone()),
    ];
    if options.deflate_with_directories {
        let dir = SimpleFileOptions::default()
            .last_modified_time(DateTime::DEFAULT)
            .unix_permissions(0o755);
        z.add_directory("IHE_XDM/", dir).map_err(err)?;
        z.add_directory("IHE_XDM/SUBSET01/", dir).map_err(err)?;
    }
    for (name, bytes) in entries {
        z.start_file(name, file).map_err(err)?;
        z.write_all(&bytes).map_err(|e| XdmError(e.to_string()))?;
    }
    Ok(z.finish().map_err(err)?.into_inner())
}

/// The names of an archive's entries, and the bytes of one of them (for the tests and the
/// reference HISP's content checks).
pub fn zip_entry(archive: &[u8], name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(Cursor::new(archive)).ok()?;
    let mut f = z.by_name(name).ok()?;
    let mut out = Vec::new();
    f.read_to_end(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdm_is_reproducible_and_opens() {
        for o in [
            XdmOptions::default(),
            XdmOptions {
                deflate_with_directories: false,
                bad_xhtml: true,
                metadata_mime: "application/xml",
            },
        ] {
            let a = xdm(o).unwrap();
            assert_eq!(a, xdm(o).unwrap(), "same bytes every time");
            assert_eq!(
                zip_entry(&a, "IHE_XDM/SUBSET01/DOC0001.XML").unwrap(),
                ccda(Stylesheet::None)
            );
            let meta = zip_entry(&a, "IHE_XDM/SUBSET01/METADATA.XML").unwrap();
            let meta = String::from_utf8(meta).unwrap();
            assert!(meta.contains(&format!("mimeType=\"{}\"", o.metadata_mime)));
            assert!(zip_entry(&a, "INDEX.HTM").is_some());
            assert!(zip_entry(&a, "README.TXT").is_some());
        }
    }

    #[test]
    fn stylesheet_variants_differ() {
        let none = ccda(Stylesheet::None);
        assert!(!String::from_utf8_lossy(&none).contains("xml-stylesheet"));
        assert!(String::from_utf8_lossy(&ccda(Stylesheet::Broken)).contains("missing/"));
        assert_ne!(ccda(Stylesheet::Broken), ccda(Stylesheet::Bad));
        assert!(pdf().starts_with(b"%PDF-"));
    }
}
