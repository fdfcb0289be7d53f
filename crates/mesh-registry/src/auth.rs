//! Optional authentication: HTTP basic users and bearer tokens, each read-only or read-write.
//! Failures use Confluent's envelope (401 / 403 with the status as `error_code`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::config::{Access, AuthConfig};
use crate::error::RegistryError;

/// Requests that only read even though they are POSTs: lookup, compatibility checks, `POST /`.
fn is_read(method: &Method, path: &str) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return true;
    }
    if method != Method::POST {
        return false;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    path == "/"
        || segments.first() == Some(&"compatibility")
        || (segments.len() == 2 && segments[0] == "subjects")
}

/// The access the request's credentials grant, if they are valid.
fn access(auth: &AuthConfig, header_value: &str) -> Option<Access> {
    let (scheme, rest) = header_value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        auth.users
            .iter()
            .find(|u| u.username == user && u.password.expose() == password)
            .map(|u| u.access)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        auth.tokens
            .iter()
            .find(|t| t.token.expose() == rest.trim())
            .map(|t| t.access)
    } else {
        None
    }
}

/// axum middleware enforcing `auth` (installed only when auth is enabled).
pub async fn enforce(State(auth): State<Arc<AuthConfig>>, req: Request, next: Next) -> Response {
    let granted = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| access(&auth, v));
    match granted {
        None => {
            let mut resp =
                RegistryError::http(StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"mesh-registry\""),
            );
            resp
        }
        Some(Access::ReadOnly) if !is_read(req.method(), req.uri().path()) => RegistryError::http(
            StatusCode::FORBIDDEN,
            "User is denied operation on this resource: read-only credentials",
        )
        .into_response(),
        Some(_) => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BasicUser, BearerToken};
    use mesh_runtime::config::Secret;

    #[test]
    fn credentials_and_read_classification() {
        let auth = AuthConfig {
            users: vec![BasicUser {
                username: "u".into(),
                password: Secret::new("p:w"),
                access: Access::ReadOnly,
            }],
            tokens: vec![BearerToken {
                token: Secret::new("t"),
                access: Access::ReadWrite,
            }],
        };
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("u:p:w")
        );
        assert_eq!(access(&auth, &basic), Some(Access::ReadOnly));
        assert_eq!(access(&auth, "Bearer t"), Some(Access::ReadWrite));
        assert_eq!(access(&auth, "Bearer x"), None);
        assert_eq!(access(&auth, "Basic !!"), None);
        assert!(is_read(&Method::POST, "/subjects/a%2Fb"));
        assert!(is_read(&Method::POST, "/compatibility/subjects/s/versions"));
        assert!(!is_read(&Method::POST, "/subjects/s/versions"));
        assert!(!is_read(&Method::DELETE, "/subjects/s"));
    }
}
