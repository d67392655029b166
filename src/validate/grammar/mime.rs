//! RFC 2045 §4–§6, RFC 2046 §5.1.1 and RFC 2183: MIME-Version, Content-Type (and
//! Content-Disposition, which shares its parameter grammar), Content-Transfer-Encoding, and the
//! boundary character set.

use crate::validate::grammar::lexer::Cursor;

/// RFC 2045 tspecials.
pub const TSPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";

/// token: 1*<any US-ASCII except SPACE, CTLs and tspecials>
pub fn is_token_char(b: u8) -> bool {
    (33..=126).contains(&b) && !TSPECIALS.contains(&b)
}

/// One parameter as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Lower-cased name.
    pub name: String,
    /// The value with quoting removed.
    pub value: String,
    pub quoted: bool,
}

/// A parsed Content-Type or Content-Disposition value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// `type/subtype` (lower-cased) for Content-Type; the disposition type for
    /// Content-Disposition.
    pub value: String,
    pub params: Vec<Param>,
    /// How many comments the value holds (RFC 2183 values may not hold any).
    pub comments: usize,
}

impl Parsed {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// MIME-Version: 1*DIGIT "." 1*DIGIT, comments allowed around it (RFC 2045 §4).
pub fn mime_version(value: &str) -> Result<String, String> {
    let mut c = Cursor::new(value.as_bytes());
    c.skip_cfws()?;
    let start = c.pos;
    let major = take_while(&mut c, |b| b.is_ascii_digit());
    let dot = c.eat(b'.');
    let minor = take_while(&mut c, |b| b.is_ascii_digit());
    if major == 0 || !dot || minor == 0 {
        return Err(format!(
            "MIME-Version must be 1*DIGIT \".\" 1*DIGIT, found {value:?}"
        ));
    }
    let v = String::from_utf8_lossy(&c.input[start..c.pos]).into_owned();
    c.skip_cfws()?;
    if !c.at_end() {
        return Err(format!("unexpected text after the version in {value:?}"));
    }
    Ok(v)
}

/// Content-Type: type "/" subtype *(";" parameter)
pub fn content_type(value: &str) -> Result<Parsed, String> {
    let mut c = Cursor::new(value.as_bytes());
    let mut comments = c.skip_cfws()?;
    let type_ = token(&mut c).ok_or("media type missing")?;
    comments += c.skip_cfws()?;
    if !c.eat(b'/') {
        return Err(format!("'/' and a subtype missing after {type_:?}"));
    }
    comments += c.skip_cfws()?;
    let subtype = token(&mut c).ok_or("subtype missing")?;
    let (params, more) = parameters(&mut c)?;
    Ok(Parsed {
        value: format!(
            "{}/{}",
            type_.to_ascii_lowercase(),
            subtype.to_ascii_lowercase()
        ),
        params,
        comments: comments + more,
    })
}

/// Content-Disposition: disposition-type *(";" disposition-parm)
pub fn content_disposition(value: &str) -> Result<Parsed, String> {
    let mut c = Cursor::new(value.as_bytes());
    let mut comments = c.skip_cfws()?;
    let kind = token(&mut c).ok_or("disposition type missing")?;
    let (params, more) = parameters(&mut c)?;
    comments += more;
    Ok(Parsed {
        value: kind.to_ascii_lowercase(),
        params,
        comments,
    })
}

/// Content-Transfer-Encoding: a token, compared case-insensitively.
pub fn transfer_encoding(value: &str) -> Result<String, String> {
    let mut c = Cursor::new(value.as_bytes());
    c.skip_cfws()?;
    let t = token(&mut c).ok_or("encoding missing")?;
    c.skip_cfws()?;
    if !c.at_end() {
        return Err(format!("unexpected text in {value:?}"));
    }
    Ok(t.to_ascii_lowercase())
}

/// Checks a boundary value against RFC 2046 §5.1.1: 1–70 bchars, not ending in a space, and
/// quoted in the header when it holds characters a token cannot.
pub fn check_boundary(param: &Param) -> Result<(), String> {
    let b = param.value.as_bytes();
    if b.is_empty() || b.len() > 70 {
        return Err(format!("boundary is {} characters; 1-70 allowed", b.len()));
    }
    let bchar = |c: u8| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c);
    if let Some(bad) = b.iter().find(|c| !bchar(**c)) {
        return Err(format!(
            "boundary holds {:?}, outside the RFC 2046 bchars",
            *bad as char
        ));
    }
    if b.ends_with(b" ") {
        return Err("boundary ends in a space".into());
    }
    if !param.quoted && !b.iter().all(|c| is_token_char(*c)) {
        return Err("boundary holds specials but is not quoted".into());
    }
    Ok(())
}

fn take_while(c: &mut Cursor, f: impl Fn(u8) -> bool) -> usize {
    let start = c.pos;
    while c.peek().is_some_and(&f) {
        c.pos += 1;
    }
    c.pos - start
}

fn token<'a>(c: &mut Cursor<'a>) -> Option<&'a str> {
    let start = c.pos;
    take_while(c, is_token_char);
    if c.pos == start {
        return None;
    }
    std::str::from_utf8(&c.input[start..c.pos]).ok()
}

fn parameters(c: &mut Cursor) -> Result<(Vec<Param>, usize), String> {
    let mut params: Vec<Param> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut comments = c.skip_cfws()?;
    loop {
        if c.at_end() {
            return Ok((params, comments));
        }
        if !c.eat(b';') {
            return Err(format!(
                "';' expected before {:?}",
                String::from_utf8_lossy(c.rest())
            ));
        }
        comments += c.skip_cfws()?;
        // A trailing ';' is common and harmless.
        if c.at_end() {
            return Ok((params, comments));
        }
        let name = token(c).ok_or_else(|| {
            format!(
                "parameter name expected at {:?}",
                String::from_utf8_lossy(c.rest())
            )
        })?;
        comments += c.skip_cfws()?;
        if !c.eat(b'=') {
            return Err(format!("'=' missing after parameter {name:?}"));
        }
        comments += c.skip_cfws()?;
        let (value, quoted) = match c.quoted_string()? {
            Some(q) => (unquote(q), true),
            None => (
                token(c)
                    .ok_or_else(|| format!("value of parameter {name:?} is not a token"))?
                    .to_string(),
                false,
            ),
        };
        let name = name.to_ascii_lowercase();
        if !seen.insert(name.clone()) {
            return Err(format!("parameter {name:?} appears twice"));
        }
        params.push(Param {
            name,
            value,
            quoted,
        });
        comments += c.skip_cfws()?;
    }
}

fn unquote(q: &str) -> String {
    let inner = &q[1..q.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for ch in inner.chars() {
        if escaped || ch != '\\' {
            out.push(ch);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let p =
            content_type("Application/PKCS7-MIME; smime-type=enveloped-data; name=\"smime.p7m\"")
                .unwrap();
        assert_eq!(p.value, "application/pkcs7-mime");
        assert_eq!(
            p.param("SMIME-TYPE").map(|p| p.value.as_str()),
            Some("enveloped-data")
        );
        assert!(p.param("name").is_some_and(|p| p.quoted));
        assert_eq!(
            content_type("text/plain (a comment); charset=us-ascii")
                .unwrap()
                .comments,
            1
        );
        for bad in [
            "text",
            "text/",
            "/plain",
            "text/plain; charset",
            "text/plain; a=b c",
            "text/plain; a=1; a=2",
            "text/plain; a=\"open",
        ] {
            assert!(content_type(bad).is_err(), "{bad}");
        }
        assert!(content_type("text/plain;").is_ok());
    }

    #[test]
    fn dispositions_and_versions() {
        let d = content_disposition("attachment; filename=\"smime.p7m\"").unwrap();
        assert_eq!(d.value, "attachment");
        assert_eq!(d.comments, 0);
        assert_eq!(content_disposition("inline (x)").unwrap().comments, 1);
        assert_eq!(mime_version("1.0 (generated)").unwrap(), "1.0");
        assert!(mime_version("1").is_err());
        assert!(mime_version("1.0a").is_err());
        assert!(mime_version("v1.0").is_err());
        assert_eq!(transfer_encoding(" Base64 ").unwrap(), "base64");
    }

    #[test]
    fn boundaries() {
        let p = |v: &str, quoted| Param {
            name: "boundary".into(),
            value: v.into(),
            quoted,
        };
        assert!(check_boundary(&p("simple-boundary", false)).is_ok());
        // ':' is a bchar; quoted it is fine (ETT wrongly forbids it).
        assert!(check_boundary(&p("a:b", true)).is_ok());
        assert!(check_boundary(&p("a:b", false)).is_err());
        assert!(check_boundary(&p("", true)).is_err());
        assert!(check_boundary(&p(&"x".repeat(71), false)).is_err());
        assert!(check_boundary(&p("ends ", true)).is_err());
        assert!(check_boundary(&p("a*b", false)).is_err());
    }
}
