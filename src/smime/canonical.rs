//! MIME canonical form (RFC 5751 §3.1.1): every line ends in CRLF before it is signed.

/// Converts bare LF and bare CR line ends to CRLF; existing CRLF pairs stay as they are.
pub fn to_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 32);
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if input.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Whether `input` already is canonical: no bare CR or LF.
pub fn is_crlf(input: &[u8]) -> bool {
    to_crlf(input) == input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_line_ends_become_crlf() {
        assert_eq!(to_crlf(b"a\nb\rc\r\nd"), b"a\r\nb\r\nc\r\nd");
        assert_eq!(to_crlf(b"\r\r\n\n"), b"\r\n\r\n\r\n");
        assert!(is_crlf(b"a\r\nb\r\n"));
        assert!(!is_crlf(b"a\nb"));
    }
}
