//! Passwords (Argon2), device tokens (random, stored only as SHA-256) and the bearer-token
//! extractor that every sync endpoint uses.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::api::AppState;
use crate::error::{ApiError, StoreError};
use crate::storage::Authenticated;

/// How often a device's `last_seen` is written (ms): not on every request.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Hashes a password with Argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| StoreError::Invalid(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("password hash: {e}")))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh device token (32 random bytes, base64url) and the SHA-256 the server keeps.
pub fn new_token() -> (String, [u8; 32]) {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The user and device behind the request's bearer token: enabled and not revoked, checked
/// against the storage on every request (no process-local session state).
#[derive(Debug, Clone)]
pub struct AuthUser(pub Authenticated);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized("missing bearer token"))?;
        let auth =
            state
                .store
                .authenticate(token_hash(token))
                .await?
                .ok_or(ApiError::Unauthorized(
                    "invalid token, revoked device or disabled user: log in again",
                ))?;
        let now = crate::storage::now_ms();
        if now - auth.last_seen_ms > TOUCH_EVERY_MS
            && let Err(e) = state.store.touch_device(&auth.device_id, now).await
        {
            tracing::warn!(error = %e, "could not record last_seen");
        }
        Ok(Self(auth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let h = hash_password("gridwork").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("gridwork", &h));
        assert!(!verify_password("gridwork!", &h));
        assert!(!verify_password("gridwork", "not a hash"));
        let (t1, h1) = new_token();
        let (t2, _) = new_token();
        assert_ne!(t1, t2);
        assert_eq!(token_hash(&t1), h1);
        assert_eq!(t1.len(), 43);
    }
}
