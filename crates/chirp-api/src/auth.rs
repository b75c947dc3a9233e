//! Where a request's session token is: `Authorization: Bearer TOKEN`, or
//! the web site's session cookie. What a token means is chirp-app's
//! business ([`chirp_app::App::authenticate`]).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::ApiError;

/// The session token a request carries: `Authorization: Bearer TOKEN`, or
/// else the web session cookie. A malformed Authorization header is a 401
/// that says the token is not valid.
pub fn request_token(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::InvalidToken)?;
        return Ok(Some(token.to_owned()));
    }
    Ok(session_cookie(headers))
}

/// The session cookie's value, under either of its names
/// (`chirp_http::cookies`), if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    chirp_http::cookies::session_token(headers).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_tokens_are_read_and_junk_is_refused() {
        let mut h = HeaderMap::new();
        assert!(matches!(request_token(&h), Ok(None)));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(request_token(&h).ok().flatten().as_deref(), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(request_token(&h).is_err());
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("theme=dark; chirp_session=tok; x=y"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("tok"));
    }
}
