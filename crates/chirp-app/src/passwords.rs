//! Passwords and session tokens.
//!
//! * Passwords are hashed with Argon2id at the OWASP minimum (19 MiB, t=2,
//!   p=1) on the blocking pool, behind a semaphore: each hash holds 19 MiB,
//!   so a burst of sign-ups or logins queues instead of exhausting memory.
//! * A session token is 256 random bits, handed to the client once; only its
//!   SHA-256 is stored, so a leaked database holds no usable token.

use std::sync::Arc;

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};

use crate::AppError;

/// Hashes and checks passwords without starving the server.
#[derive(Clone)]
pub struct Passwords {
    /// Bounds concurrent hashes (each holds 19 MiB for tens of milliseconds).
    permits: Arc<Semaphore>,
    /// A hash of a random password, checked when a login names an unknown
    /// account, so both cases take the same time.
    decoy: Arc<OnceCell<String>>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            decoy: Arc::new(OnceCell::new()),
        }
    }

    /// The PHC string (`$argon2id$v=19$...`) of `password`.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await
        .context("password hashing task")
        .and_then(|r| r)
        .map_err(AppError::Internal)
    }

    /// Whether `password` matches the stored `hash`.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let password = password.to_owned();
        let hash = hash.to_owned();
        tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .context("password check task")
        .and_then(|r| r)
        .map_err(AppError::Internal)
    }

    /// Spends the time of a real check when the account does not exist.
    pub async fn verify_decoy(&self, password: &str) -> Result<(), AppError> {
        let decoy = self
            .decoy
            .get_or_try_init(|| async { self.hash(&new_token()).await })
            .await?;
        self.verify(password, decoy).await.map(|_| ())
    }
}

/// A fresh session token: 256 bits from the OS's CSPRNG, URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores for a token.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43); // 32 bytes in unpadded base64
    }

    #[test]
    fn token_hashes_are_sha256_hex() {
        let h = hash_token("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() -> Result<(), AppError> {
        let p = Passwords::new(1);
        let hash = p.hash("correct horse").await?;
        assert!(hash.starts_with("$argon2id$"));
        assert!(p.verify("correct horse", &hash).await?);
        assert!(!p.verify("wrong horse", &hash).await?);
        Ok(())
    }
}
