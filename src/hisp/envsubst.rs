//! `${NAME}` and `${NAME:-default}` in a HISP configuration file, taken from the environment
//! before the TOML is parsed: one image (docker/sut-hisp.toml) serves every network it is
//! started on, because the harness tells it where the harness listens through variables.

use super::ConfigError;

/// Replaces every `${NAME}` (an error when unset) and `${NAME:-default}`; `$$` is a `$`.
/// Comment lines are left as they are (they may describe the syntax).
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
        } else {
            out.push_str(&expand_line(line, &lookup)?);
        }
    }
    Ok(out)
}

fn expand_line(
    text: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let Some(end) = r.find('}') else {
                return Err(ConfigError::Toml(format!(
                    "an unclosed ${{ at {:?}",
                    &rest[i..rest.len().min(i + 30)]
                )));
            };
            let inner = &r[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ConfigError::Toml(format!(
                    "${{{inner}}}: not an environment variable name"
                )));
            }
            match (lookup(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(ConfigError::Toml(format!(
                        "${{{name}}} is used by the configuration but not set in the environment"
                    )));
                }
            }
            rest = &r[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "DNS").then(|| "172.18.0.1:5353".to_string())
    }

    #[test]
    fn replaces_set_and_defaulted_names() {
        let t = expand(
            r#"a = "${DNS}" b = "${PEER:-1.2.3.4:25}" c = "$$x" d = "$5""#,
            env,
        )
        .unwrap();
        assert_eq!(
            t,
            r#"a = "172.18.0.1:5353" b = "1.2.3.4:25" c = "$x" d = "$5""#
        );
    }

    #[test]
    fn comment_lines_are_left_alone() {
        let t = "# ${NAME} is replaced\na = \"${DNS}\"\n";
        assert_eq!(
            expand(t, env).unwrap(),
            "# ${NAME} is replaced\na = \"172.18.0.1:5353\"\n"
        );
    }

    #[test]
    fn an_unset_name_is_an_error_that_names_it() {
        let e = expand("x = \"${PEER}\"", env).unwrap_err().to_string();
        assert!(e.contains("PEER") && e.contains("not set"), "{e}");
        assert!(expand("x = \"${DNS\"", env).is_err());
        assert!(expand("x = \"${A B}\"", env).is_err());
    }
}
