//! axum's rejections (a bad path, query or JSON body) said in chirp's own
//! words, naming the field at fault, with no library text in the message:
//! "`reply_to` must be a whole number, not a string", "unknown field
//! `txt`; expected one of text, reply_to, category", "the body is not
//! valid JSON (at line 1 column 9)".
//!
//! axum gives the path's failure as a typed [`ErrorKind`]; the JSON body's
//! and the query's only as serde's text behind a fixed prefix, so those are
//! read from the text: `PATH: MESSAGE at line L column C`, where MESSAGE is
//! one of serde's few stable forms. Anything not recognised still gets a
//! plain sentence, never the library's.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};

/// What a rejection becomes: a message for people, and the field, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub message: String,
    pub field: Option<String>,
}

impl Said {
    fn new(message: impl Into<String>, field: Option<String>) -> Self {
        Self {
            message: message.into(),
            field,
        }
    }
}

/// A path parameter that does not read as its type.
pub fn path(r: &PathRejection) -> Said {
    let PathRejection::FailedToDeserializePathParams(e) = r else {
        return Said::new("this address is missing a part", None);
    };
    match e.kind() {
        ErrorKind::ParseErrorAtKey {
            key, expected_type, ..
        } => Said::new(
            format!("`{key}` in the path must be {}", type_words(expected_type)),
            Some(key.clone()),
        ),
        ErrorKind::InvalidUtf8InPathParam { key } => Said::new(
            format!("`{key}` in the path is not valid UTF-8 text"),
            Some(key.clone()),
        ),
        ErrorKind::ParseError { expected_type, .. }
        | ErrorKind::ParseErrorAtIndex { expected_type, .. } => Said::new(
            format!("a part of the path must be {}", type_words(expected_type)),
            None,
        ),
        ErrorKind::DeserializeError { key, .. } => Said::new(
            format!("`{key}` in the path is not valid"),
            Some(key.clone()),
        ),
        _ => Said::new("this address cannot be read", None),
    }
}

/// A query string that does not fit the route's parameters.
pub fn query(r: &QueryRejection) -> Said {
    let text = r.body_text();
    let detail = after_prefix(&text);
    let (key, inner) = split_path(detail);
    let inner = strip_position(inner);
    if let Some(name) = quoted_after(inner, "duplicate field ") {
        return Said::new(
            format!("the query parameter `{name}` is given twice"),
            Some(name),
        );
    }
    let Some(key) = key else {
        return match quoted_after(inner, "missing field ") {
            Some(name) => Said::new(
                format!("the query parameter `{name}` is required"),
                Some(name),
            ),
            None => Said::new("the query string cannot be read", None),
        };
    };
    let must = if [
        "invalid digit",
        "number too large",
        "number too small",
        "cannot parse integer",
    ]
    .iter()
    .any(|p| inner.starts_with(p))
    {
        "must be a whole number".to_owned()
    } else if inner.starts_with("invalid float") {
        "must be a number".to_owned()
    } else if inner.contains("`true` or `false`") {
        "must be true or false".to_owned()
    } else if let Some(list) = inner
        .split_once(", expected one of ")
        .map(|(_, l)| plain_list(l))
    {
        format!("must be one of {list}")
    } else {
        "has a value chirp cannot read".to_owned()
    };
    Said::new(format!("the query parameter `{key}` {must}"), Some(key))
}

/// A JSON body that is not JSON (400) or not of the route's shape (422);
/// `None` for rejections that are not about the body's content.
pub fn json(r: &JsonRejection) -> Option<Said> {
    match r {
        JsonRejection::JsonSyntaxError(_) => {
            let text = r.body_text();
            let at = text
                .rfind(" at line ")
                .map(|i| format!(" ({})", text[i + 1..].trim()));
            Some(Said::new(
                format!("the body is not valid JSON{}", at.unwrap_or_default()),
                None,
            ))
        }
        JsonRejection::JsonDataError(_) => Some(json_shape(after_prefix(&r.body_text()))),
        _ => None,
    }
}

/// serde's message about a body's shape, in chirp's words.
fn json_shape(detail: &str) -> Said {
    let (path, inner) = split_path(detail);
    let inner = strip_position(inner);
    let within = |name: &str| match &path {
        Some(p) if p != name && !p.ends_with(&format!(".{name}")) => format!("{p}.{name}"),
        Some(p) => p.clone(),
        None => name.to_owned(),
    };
    if let Some(name) = quoted_after(inner, "unknown field ") {
        let expected = match inner.split_once(", expected one of ") {
            Some((_, list)) => format!("expected one of {}", plain_list(list)),
            None => match inner.split_once(", expected ") {
                Some((_, one)) => format!("expected {}", plain_list(one)),
                None => "this body takes no fields".to_owned(),
            },
        };
        let field = within(&name);
        return Said::new(format!("unknown field `{field}`; {expected}"), Some(field));
    }
    if let Some(name) = quoted_after(inner, "missing field ") {
        let field = within(&name);
        return Said::new(format!("the field `{field}` is required"), Some(field));
    }
    if let Some(name) = quoted_after(inner, "duplicate field ") {
        let field = within(&name);
        return Said::new(format!("the field `{field}` is given twice"), Some(field));
    }
    let typed = inner
        .strip_prefix("invalid type: ")
        .or_else(|| inner.strip_prefix("invalid value: "));
    if let Some(rest) = typed
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        return match path {
            Some(field) => Said::new(
                format!(
                    "`{field}` must be {}, not {}",
                    type_words(expected),
                    got_words(got)
                ),
                Some(field),
            ),
            None => Said::new(
                format!("the body must be a JSON object, not {}", got_words(got)),
                None,
            ),
        };
    }
    if let Some(list) = inner
        .split_once(", expected one of ")
        .map(|(_, l)| plain_list(l))
    {
        let field = path.unwrap_or_default();
        return Said::new(format!("`{field}` must be one of {list}"), Some(field));
    }
    match path {
        Some(field) => Said::new(format!("`{field}` is not valid here"), Some(field)),
        None => Said::new("the body does not have the fields this request takes", None),
    }
}

/// The text after axum's "Failed to deserialize ...: " prefix.
fn after_prefix(text: &str) -> &str {
    text.split_once(": ").map_or(text, |(_, rest)| rest)
}

/// serde_path_to_error's `PATH: MESSAGE`, or just MESSAGE at the top.
fn split_path(detail: &str) -> (Option<String>, &str) {
    match detail.split_once(": ") {
        Some((path, inner))
            if !path.is_empty()
                && path != "."
                && path
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_.[]".contains(c)) =>
        {
            (Some(path.to_owned()), inner)
        }
        _ => (None, detail),
    }
}

/// serde_json's " at line L column C" off the end.
fn strip_position(inner: &str) -> &str {
    inner.rfind(" at line ").map_or(inner, |i| &inner[..i])
}

/// The name in backticks right after `prefix`: "unknown field `txt`, ...".
fn quoted_after(inner: &str, prefix: &str) -> Option<String> {
    let rest = inner.strip_prefix(prefix)?.strip_prefix('`')?;
    Some(rest[..rest.find('`')?].to_owned())
}

/// "`text`, `reply_to`, `category`" as "text, reply_to, category".
fn plain_list(list: &str) -> String {
    list.replace('`', "")
}

/// serde's and Rust's type names as people say them.
fn type_words(expected: &str) -> String {
    match expected.trim() {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
            "a whole number".into()
        }
        "f32" | "f64" => "a number".into(),
        "bool" | "a boolean" => "true or false".into(),
        "a sequence" => "a list".into(),
        "a map" => "an object".into(),
        e if e.starts_with("struct ") => "an object".into(),
        e => plain_list(e),
    }
}

/// What serde found, as people say it: "integer `5`" as 5.
fn got_words(got: &str) -> String {
    match got {
        "sequence" => "a list".into(),
        "map" => "an object".into(),
        "null" | "unit value" => "null".into(),
        g => {
            let value = |p: &str| g.strip_prefix(p).map(plain_list);
            value("integer ")
                .or_else(|| value("floating point "))
                .or_else(|| value("boolean "))
                .or_else(|| value("string ").map(|s| format!("the text {s}")))
                .unwrap_or_else(|| plain_list(g))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_name_the_field_and_what_is_expected() {
        let said = json_shape(
            "txt: unknown field `txt`, expected one of `text`, `reply_to`, `category` at line 1 column 6",
        );
        assert_eq!(
            said.message,
            "unknown field `txt`; expected one of text, reply_to, category"
        );
        assert_eq!(said.field.as_deref(), Some("txt"));
    }

    #[test]
    fn wrong_types_and_missing_fields_say_which() {
        let said =
            json_shape("reply_to: invalid type: string \"1\", expected i64 at line 1 column 29");
        assert_eq!(
            said.message,
            "`reply_to` must be a whole number, not the text \"1\""
        );
        assert_eq!(said.field.as_deref(), Some("reply_to"));
        let said = json_shape("missing field `password` at line 1 column 18");
        assert_eq!(said.message, "the field `password` is required");
        assert_eq!(said.field.as_deref(), Some("password"));
        let said =
            json_shape("invalid type: sequence, expected struct NewAccountBody at line 1 column 0");
        assert_eq!(said.message, "the body must be a JSON object, not a list");
    }

    #[test]
    fn nothing_of_serde_is_left_over() {
        for detail in [
            "username: invalid type: integer `5`, expected a string at line 1 column 13",
            "reply_to: invalid value: integer `9223372036854775808`, expected i64 at line 1 column 9",
            "reply_to: invalid type: floating point `1.5`, expected i64 at line 1 column 9",
            "invalid type: null, expected struct NewAccountBody at line 1 column 4",
            "something odd happened",
        ] {
            let said = json_shape(detail);
            for internal in [
                "at line",
                "expected i64",
                "struct ",
                "invalid type",
                "floating point",
            ] {
                assert!(
                    !said.message.contains(internal),
                    "{detail}: {}",
                    said.message
                );
            }
        }
    }
}
