//! RFC 5322 §3.2 lexical tokens over a byte cursor: CFWS, atoms, dot-atoms, quoted strings,
//! domain literals. Every parser in `grammar` is built from these.

/// A cursor over a header value.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    pub input: &'a [u8],
    pub pos: usize,
}

/// RFC 5322 atext.
pub fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// Visible characters and the rest of the US-ASCII a qtext/ctext may hold (obs forms excluded).
fn is_vchar(b: u8) -> bool {
    (33..=126).contains(&b)
}

impl<'a> Cursor<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Cursor { input, pos: 0 }
    }

    pub fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    /// Consumes `b` if it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips folding white space (the value is already unfolded, so SP, HTAB, CR, LF).
    pub fn skip_fws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips CFWS; returns the number of comments seen, or an error for an unclosed comment.
    pub fn skip_cfws(&mut self) -> Result<usize, String> {
        let mut comments = 0;
        loop {
            self.skip_fws();
            if self.peek() == Some(b'(') {
                self.comment()?;
                comments += 1;
            } else {
                return Ok(comments);
            }
        }
    }

    fn comment(&mut self) -> Result<(), String> {
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                b'\\' => {
                    if self.peek().is_none() {
                        break;
                    }
                    self.pos += 1;
                }
                _ => {}
            }
        }
        Err(format!("unclosed comment at offset {start}"))
    }

    /// 1*atext
    pub fn atom_text(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_atext) {
            self.pos += 1;
        }
        self.slice(start)
    }

    /// dot-atom-text: 1*atext *("." 1*atext)
    pub fn dot_atom_text(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.atom_text()?;
        loop {
            let save = self.pos;
            if self.eat(b'.') && self.atom_text().is_some() {
                continue;
            }
            self.pos = save;
            break;
        }
        self.slice(start)
    }

    /// quoted-string without its CFWS; returns the raw text including the quotes.
    pub fn quoted_string(&mut self) -> Result<Option<&'a str>, String> {
        let start = self.pos;
        if !self.eat(b'"') {
            return Ok(None);
        }
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => return Ok(self.slice(start)),
                b'\\' => {
                    if self.peek().is_none() {
                        break;
                    }
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b if is_vchar(b) => {}
                b => return Err(format!("character 0x{b:02x} inside a quoted string")),
            }
        }
        Err(format!("unclosed quoted string at offset {start}"))
    }

    /// domain-literal without CFWS: "[" *dtext "]"
    pub fn domain_literal(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if !self.eat(b'[') {
            return None;
        }
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b']' => return self.slice(start),
                b'[' | b'\\' => break,
                b' ' | b'\t' => {}
                b if is_vchar(b) => {}
                _ => break,
            }
        }
        self.pos = start;
        None
    }

    fn slice(&self, start: usize) -> Option<&'a str> {
        if self.pos == start {
            return None;
        }
        std::str::from_utf8(self.input.get(start..self.pos)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfws_skips_nested_comments() {
        let mut c = Cursor::new(b"  (a (b) \\) c) x");
        assert_eq!(c.skip_cfws(), Ok(1));
        assert_eq!(c.rest(), b"x");
        assert!(Cursor::new(b"(open").skip_cfws().is_err());
    }

    #[test]
    fn dot_atoms_and_quoted_strings() {
        let mut c = Cursor::new(b"a.b.c.@");
        assert_eq!(c.dot_atom_text(), Some("a.b.c"));
        assert_eq!(c.rest(), b".@");
        let mut q = Cursor::new(b"\"x \\\" y\"z");
        assert_eq!(q.quoted_string(), Ok(Some("\"x \\\" y\"")));
        assert!(Cursor::new(b"\"open").quoted_string().is_err());
        assert_eq!(
            Cursor::new(b"[1.2.3.4]").domain_literal(),
            Some("[1.2.3.4]")
        );
    }
}
