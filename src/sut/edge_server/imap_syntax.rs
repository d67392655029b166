//! IMAP4rev1 command syntax for the harness edge server (RFC 3501 §9): the tokens of one
//! command (atoms, quoted strings, literals, parenthesised lists), sequence sets, LIST
//! patterns and mailbox-name comparison. Hand-written with the server (see `imap.rs`).

/// One token of a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// An atom; a bracketed section (`BODY.PEEK[HEADER.FIELDS (A B)]`) stays one atom.
    Atom(String),
    /// A quoted string or a literal.
    Str(Vec<u8>),
    List(Vec<Token>),
}

impl Token {
    /// An atom or a string as text (astring, RFC 3501 §9).
    pub fn astring(&self) -> Option<String> {
        match self {
            Token::Atom(a) => Some(a.clone()),
            Token::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
            Token::List(_) => None,
        }
    }

    pub fn atom_upper(&self) -> Option<String> {
        match self {
            Token::Atom(a) => Some(a.to_ascii_uppercase()),
            _ => None,
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("syntax: {0}")]
pub struct SyntaxError(pub &'static str);

/// Splits one command (its final CRLF removed; literals `{n}\r\n` followed by their octets)
/// into tokens.
pub fn tokens(input: &[u8]) -> Result<Vec<Token>, SyntaxError> {
    let mut p = Parser { b: input, i: 0 };
    let out = p.sequence(false)?;
    Ok(out)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn sequence(&mut self, in_list: bool) -> Result<Vec<Token>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            while self.b.get(self.i) == Some(&b' ') {
                self.i += 1;
            }
            match self.b.get(self.i) {
                None if in_list => return Err(SyntaxError("unclosed list")),
                None => return Ok(out),
                Some(b')') if in_list => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b')') => return Err(SyntaxError("unbalanced )")),
                Some(b'(') => {
                    self.i += 1;
                    out.push(Token::List(self.sequence(true)?));
                }
                Some(b'"') => out.push(self.quoted()?),
                Some(b'{') => out.push(self.literal()?),
                Some(b'\r' | b'\n') => return Err(SyntaxError("bare CR or LF")),
                Some(_) => out.push(self.atom()?),
            }
        }
    }

    fn quoted(&mut self) -> Result<Token, SyntaxError> {
        self.i += 1;
        let mut s = Vec::new();
        loop {
            match self.b.get(self.i) {
                None | Some(b'\r' | b'\n') => return Err(SyntaxError("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Token::Str(s));
                }
                Some(b'\\') => {
                    let c = *self
                        .b
                        .get(self.i + 1)
                        .ok_or(SyntaxError("unterminated string"))?;
                    if c != b'"' && c != b'\\' {
                        return Err(SyntaxError("bad escape in string"));
                    }
                    s.push(c);
                    self.i += 2;
                }
                Some(&c) => {
                    s.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> Result<Token, SyntaxError> {
        let rest = &self.b[self.i..];
        let close = rest
            .iter()
            .position(|&c| c == b'}')
            .ok_or(SyntaxError("bad literal"))?;
        let digits = std::str::from_utf8(&rest[1..close])
            .map_err(|_| SyntaxError("bad literal"))?
            .trim_end_matches('+');
        let n: usize = digits.parse().map_err(|_| SyntaxError("bad literal"))?;
        let start = self.i + close + 1;
        if self.b.get(start..start + 2) != Some(b"\r\n") {
            return Err(SyntaxError("literal not followed by CRLF"));
        }
        let data = self
            .b
            .get(start + 2..start + 2 + n)
            .ok_or(SyntaxError("literal shorter than announced"))?;
        self.i = start + 2 + n;
        Ok(Token::Str(data.to_vec()))
    }

    fn atom(&mut self) -> Result<Token, SyntaxError> {
        let start = self.i;
        let mut depth = 0usize;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'[' => depth += 1,
                b']' if depth > 0 => depth -= 1,
                b' ' | b'(' | b')' if depth == 0 => break,
                b'\r' | b'\n' | b'"' | b'{' if depth == 0 => {
                    return Err(SyntaxError("bad character in atom"));
                }
                _ if !(0x20..=0x7e).contains(&c) => {
                    return Err(SyntaxError("bad character in atom"));
                }
                _ => {}
            }
            self.i += 1;
        }
        if depth > 0 {
            return Err(SyntaxError("unclosed ["));
        }
        let a = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| SyntaxError("atom"))?;
        Ok(Token::Atom(a.to_string()))
    }
}

/// A sequence set (`1:*`, `2,4:6`), with `*` already replaced by the largest number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqSet(Vec<(u32, u32)>);

impl SeqSet {
    /// `star` is the largest number in use (the last message, or the highest UID).
    pub fn parse(text: &str, star: u32) -> Option<SeqSet> {
        let one = |t: &str| -> Option<u32> {
            if t == "*" {
                return Some(star);
            }
            let n: u32 = t.parse().ok()?;
            (n > 0 && t.bytes().all(|c| c.is_ascii_digit())).then_some(n)
        };
        let mut out = Vec::new();
        for item in text.split(',') {
            let (a, b) = match item.split_once(':') {
                Some((a, b)) => (one(a)?, one(b)?),
                None => {
                    let n = one(item)?;
                    (n, n)
                }
            };
            out.push((a.min(b), a.max(b)));
        }
        Some(SeqSet(out))
    }

    pub fn contains(&self, n: u32) -> bool {
        self.0.iter().any(|(a, b)| (*a..=*b).contains(&n))
    }
}

/// Whether a name is INBOX, which RFC 3501 §5.1 makes case-insensitive.
pub fn is_inbox(name: &str) -> bool {
    name.eq_ignore_ascii_case("INBOX")
}

/// Mailbox names compared as RFC 3501 says: INBOX in any case, every other name as given.
pub fn same_mailbox(a: &str, b: &str) -> bool {
    if is_inbox(a) || is_inbox(b) {
        is_inbox(a) && is_inbox(b)
    } else {
        a == b
    }
}

/// LIST pattern matching (RFC 3501 §6.3.8): `*` matches anything, `%` anything but the
/// hierarchy delimiter `/`.
pub fn list_matches(pattern: &str, name: &str) -> bool {
    let name = if is_inbox(name) { "INBOX" } else { name };
    let pattern = if is_inbox(pattern) { "INBOX" } else { pattern };
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some(b'*') => (0..=n.len()).any(|k| go(&p[1..], &n[k..])),
            Some(b'%') => (0..=n.len())
                .take_while(|&k| k == 0 || n[k - 1] != b'/')
                .any(|k| go(&p[1..], &n[k..])),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// A mailbox name as an IMAP quoted string.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_commands() {
        let t = tokens(b"a1 UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM TO)] FLAGS)").unwrap();
        assert_eq!(t[0], Token::Atom("a1".into()));
        assert_eq!(
            t[4],
            Token::List(vec![
                Token::Atom("UID".into()),
                Token::Atom("BODY.PEEK[HEADER.FIELDS (FROM TO)]".into()),
                Token::Atom("FLAGS".into()),
            ])
        );
        let t = tokens(b"a2 LOGIN \"us\\\"er\" {3}\r\np w").unwrap();
        assert_eq!(t[2], Token::Str(b"us\"er".to_vec()));
        assert_eq!(t[3], Token::Str(b"p w".to_vec()));
        assert_eq!(
            tokens(b"a3 SELECT \"INBOX"),
            Err(SyntaxError("unterminated string"))
        );
        assert!(tokens(b"a4 FETCH 1 (FLAGS").is_err());
        assert!(tokens(b"a5 x)").is_err());
        assert!(tokens(b"a6 LOGIN {9}\r\nab").is_err());
        assert!(tokens(b"a7 LOGIN {99999999999999999999}\r\n").is_err());
        assert!(tokens(b"a8 \x01").is_err());
    }

    #[test]
    fn sequence_sets() {
        let s = SeqSet::parse("2,4:6,9:*", 12).unwrap();
        assert!(s.contains(2) && s.contains(5) && s.contains(12));
        assert!(!s.contains(3) && !s.contains(7));
        assert!(SeqSet::parse("*:3", 5).unwrap().contains(4));
        assert_eq!(SeqSet::parse("0", 5), None);
        assert_eq!(SeqSet::parse("1:x", 5), None);
        assert_eq!(SeqSet::parse("+1", 5), None);
    }

    #[test]
    fn mailbox_names() {
        assert!(same_mailbox("inbox", "INBOX"));
        assert!(same_mailbox("InBoX", "Inbox"));
        assert!(!same_mailbox("FOLDER", "folder"));
        assert!(same_mailbox("folder2", "folder2"));
        assert!(list_matches("*", "FOLDER"));
        assert!(list_matches("inbox", "INBOX"));
        assert!(list_matches("f%", "folder2"));
        assert!(!list_matches("%", "a/b"));
        assert!(list_matches("*", "a/b"));
        assert!(!list_matches("F*", "folder2"));
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
