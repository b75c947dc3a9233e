//! The one error a domain rule can produce.

/// Input broke a rule; `field` names the offending part of the request so a
/// client can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The request field (JSON key or query parameter) that is wrong.
    pub field: &'static str,
    /// What is wrong with it, phrased for a person.
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
