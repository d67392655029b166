//! RFC 5322 §2.2 header fields: split a raw header block into fields, keeping each field's raw
//! bytes (for the US-ASCII and line checks) and its unfolded value (for the grammars).

/// One header field as it stands in the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name as written.
    pub name: String,
    /// The unfolded value, without the leading white space after the colon; non-UTF-8 bytes
    /// are replaced (the raw bytes are kept for VC-101).
    pub value: String,
    /// The whole field, folding included.
    pub raw: Vec<u8>,
    /// 1-based line number of the field's first line within the header block.
    pub line: usize,
}

impl HeaderField {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A line in the header block that is not a field (no colon, bad name, leading fold).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderProblem {
    pub line: usize,
    pub text: String,
}

/// The fields of a header block, and the lines that are not fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub fields: Vec<HeaderField>,
    pub problems: Vec<HeaderProblem>,
}

impl Header {
    /// Every field named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderField> + 'a {
        self.fields.iter().filter(move |f| f.is(name))
    }

    /// The first field named `name`.
    pub fn get(&self, name: &str) -> Option<&HeaderField> {
        self.fields.iter().find(|f| f.is(name))
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|f| f.value.as_str())
    }
}

/// ftext: printable US-ASCII except colon.
fn is_ftext(b: u8) -> bool {
    (33..=126).contains(&b) && b != b':'
}

/// Parses a header block (without the blank line that ends it).
pub fn parse_header(block: &[u8]) -> Header {
    let mut header = Header::default();
    let mut current: Option<HeaderField> = None;
    for (index, line) in block.split_inclusive(|b| *b == b'\n').enumerate() {
        let line_no = index + 1;
        let content = strip_eol(line);
        if content.is_empty() {
            continue;
        }
        if content.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            match current.as_mut() {
                Some(field) => {
                    field.raw.extend_from_slice(line);
                    field.value.push_str(&String::from_utf8_lossy(content));
                }
                None => header.problems.push(HeaderProblem {
                    line: line_no,
                    text: "continuation line before any field".into(),
                }),
            }
            continue;
        }
        if let Some(field) = current.take() {
            header.fields.push(finish(field));
        }
        match content.iter().position(|b| *b == b':') {
            Some(colon) if colon > 0 && content[..colon].iter().all(|b| is_ftext(*b)) => {
                current = Some(HeaderField {
                    name: String::from_utf8_lossy(&content[..colon]).into_owned(),
                    value: String::from_utf8_lossy(&content[colon + 1..]).into_owned(),
                    raw: line.to_vec(),
                    line: line_no,
                });
            }
            _ => header.problems.push(HeaderProblem {
                line: line_no,
                text: format!(
                    "not a header field: {:?}",
                    String::from_utf8_lossy(&content[..content.len().min(60)])
                ),
            }),
        }
    }
    if let Some(field) = current.take() {
        header.fields.push(finish(field));
    }
    header
}

fn finish(mut field: HeaderField) -> HeaderField {
    field.value = field.value.trim_matches([' ', '\t']).to_string();
    field
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_fields_unfold() {
        let h = parse_header(b"From: a@b\r\nSubject: one\r\n two\r\nX-Y:z\r\n");
        assert_eq!(h.fields.len(), 3);
        assert_eq!(h.value("subject"), Some("one two"));
        assert_eq!(h.value("x-y"), Some("z"));
        assert_eq!(h.get("subject").map(|f| f.line), Some(2));
        assert!(h.problems.is_empty());
    }

    #[test]
    fn non_fields_are_problems() {
        let h = parse_header(b" leading\r\nno colon here\r\nBad Name: x\r\n: empty\r\n");
        assert_eq!(h.problems.len(), 4);
        assert!(h.fields.is_empty());
    }
}
