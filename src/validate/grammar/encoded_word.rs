//! RFC 2047 encoded-words (`=?charset?B|Q?text?=`), the only way non-ASCII text may appear in
//! a header (VC-101). Text that merely starts with `=?` is ordinary text; only something
//! shaped like an encoded-word (five `?`-separated pieces ending in `?=`) is judged.

use base64::Engine as _;

/// How far past `=?` an encoded-word is looked for.
const MAX_LOOKAHEAD: usize = 512;

/// Problems with the encoded-words in a header value.
pub fn encoded_word_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        let candidate = &rest[start..];
        match shape(candidate) {
            Some((word, charset, encoding, text)) => {
                if let Err(e) = check(word, charset, encoding, text) {
                    problems.push(format!("{word:?}: {e}"));
                }
                rest = &candidate[word.len()..];
            }
            None => rest = &candidate[2..],
        }
    }
    problems
}

/// `=?charset?enc?text?=` pieces, when `s` starts with that shape (no white space inside).
fn shape(s: &str) -> Option<(&str, &str, &str, &str)> {
    // Nothing longer than this can be meant as one encoded-word; bounding the look-ahead
    // keeps a hostile header from costing quadratic time.
    let mut limit = s.len().min(MAX_LOOKAHEAD);
    while !s.is_char_boundary(limit) {
        limit -= 1;
    }
    let s = &s[..limit];
    let inner = s.strip_prefix("=?")?;
    let (charset, after) = inner.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let text = &after[..end];
    let word_len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    let word = &s[..word_len];
    if word.contains([' ', '\t', '\r', '\n']) || charset.is_empty() {
        return None;
    }
    Some((word, charset, encoding, text))
}

fn check(word: &str, charset: &str, encoding: &str, text: &str) -> Result<(), String> {
    if word.len() > 75 {
        return Err(format!(
            "{} characters; an encoded-word has at most 75",
            word.len()
        ));
    }
    if !charset
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:*+!#$%&'^`{}|~".contains(&b))
    {
        return Err(format!("bad charset {charset:?}"));
    }
    match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(|_| ())
            .map_err(|e| format!("B encoding does not decode: {e}")),
        "Q" | "q" => {
            let b = text.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'=' => {
                        let hex = b
                            .get(i + 1..i + 3)
                            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                        if hex.is_none() {
                            return Err("Q encoding: '=' not followed by two hex digits".into());
                        }
                        i += 3;
                    }
                    c if (33..=126).contains(&c) && c != b'?' => i += 1,
                    c => return Err(format!("Q encoding holds 0x{c:02x}")),
                }
            }
            Ok(())
        }
        other => Err(format!("unknown encoding {other:?} (B or Q)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_words_pass() {
        assert!(
            encoded_word_problems("=?utf-8?B?Y2Fmw6k=?= and =?ISO-8859-1?Q?caf=E9?=").is_empty()
        );
        assert!(encoded_word_problems("plain =? text ?= here").is_empty());
        assert!(encoded_word_problems("no words").is_empty());
    }

    #[test]
    fn hostile_values_stay_linear() {
        let v = "=?a?b?".repeat(200_000);
        let started = std::time::Instant::now();
        let _ = encoded_word_problems(&v);
        assert!(started.elapsed().as_secs() < 5);
        let _ = encoded_word_problems(&format!("=?{}", "\u{e9}".repeat(600)));
    }

    #[test]
    fn bad_words_fail() {
        assert_eq!(encoded_word_problems("=?utf-8?X?abc?=").len(), 1);
        assert_eq!(encoded_word_problems("=?utf-8?B?@@@@?=").len(), 1);
        assert_eq!(encoded_word_problems("=?utf-8?Q?caf=E?=").len(), 1);
        let long = format!("=?utf-8?B?{}?=", "QUFB".repeat(20));
        assert_eq!(encoded_word_problems(&long).len(), 1);
    }
}
