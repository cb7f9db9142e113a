//! Authentication primitives: password policy and hashing, access tokens, refresh tokens.
//!
//! - Passwords: 12–256 characters, no composition rules (NIST SP 800-63B). Hashed with argon2id at
//!   m = 19456 KiB, t = 2, p = 1 (OWASP's recommendation), stored as PHC strings, which carry their
//!   parameters so they can be raised later: [`needs_rehash`] tells login to re-hash.
//! - Access tokens ([`access`]): JWT EdDSA (Ed25519), 15 minutes; signed only by the functions that
//!   issue them, verified everywhere else with public keys.
//! - Refresh and invitation tokens ([`SecretToken`]): 256 random bits given to the client once;
//!   only their SHA-256 is stored.

use std::fmt;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::ParseError;

pub mod access;

pub use access::{
    ACCESS_TOKEN_TTL, AccessToken, Claims, InvalidToken, KeyError, MIN_SECRET_BYTES, NO_KEY, PublicKey,
    TokenSigner, TokenVerifier, public_key_of, public_keys_of_secret,
};

/// OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane.
pub const ARGON2_M_COST_KIB: u32 = 19_456;
pub const ARGON2_T_COST: u32 = 2;
pub const ARGON2_P_COST: u32 = 1;

/// How long a refresh token lives.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// How long a session lasts at most from its login, however often it is refreshed.
pub const SESSION_TTL: Duration = Duration::days(90);

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A password that meets the policy. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 256;

    /// Counts characters, not bytes; nothing else is required of it.
    ///
    /// # Errors
    /// [`ParseError::TooShort`]/[`ParseError::TooLong`].
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let length = text.chars().count();
        if length < Self::MIN_LEN {
            return Err(ParseError::TooShort { min: Self::MIN_LEN });
        }
        if length > Self::MAX_LEN {
            return Err(ParseError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(text.to_owned()))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Hashing failed: only possible with a broken random source.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes `password` with a fresh salt into a PHC string. CPU-heavy (tens of milliseconds):
/// call it off the async executor.
///
/// # Errors
/// [`HashError`] if the random source fails.
pub fn hash_password(password: &Password) -> Result<String, HashError> {
    argon2()
        .hash_password(password.bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches `phc`, using the parameters stored in `phc`. A malformed hash never
/// matches.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    argon2().verify_password(password.bytes(), phc).is_ok()
}

/// Whether `phc` was made with other parameters than today's, and should be re-hashed at the
/// next successful login.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() != ARGON2_M_COST_KIB
        || params.t_cost() != ARGON2_T_COST
        || params.p_cost() != ARGON2_P_COST
}

/// A hash of a password nobody has (random bytes, thrown away), with today's parameters, verified
/// against when the email is unknown so that an unknown email costs the same time as a wrong
/// password. A constant: computing it on first use made the first unknown-email login of each
/// instance twice as slow, which told an account apart at cold starts. A test keeps its parameters
/// those of [`hash_password`].
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$UThoTHB0M2JLTWJ6OG1CZw$KRn6nmJ/+MTbKHKErjzS84/vieisc9YNI0Ga+0TSn+E";

/// A bearer secret handed to a client once — a refresh token or an invitation token — and the
/// hash the database holds instead of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken {
    secret: String,
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(…)")
    }
}

impl SecretToken {
    /// 256 random bits, base64url without padding.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// A token a client presented; only its shape is checked (43 base64url characters).
    ///
    /// # Errors
    /// [`ParseError::InvalidToken`].
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let decoded = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| ParseError::InvalidToken)?;
        if decoded.len() == 32 {
            Ok(Self {
                secret: text.trim().to_owned(),
            })
        } else {
            Err(ParseError::InvalidToken)
        }
    }

    /// What the client receives.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// What the database stores and looks up: SHA-256 of the secret.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.secret.as_bytes()).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_has_todays_parameters_and_matches_no_password() {
        assert!(!needs_rehash(DUMMY_HASH), "it must cost what a stored hash costs");
        let guess = Password::parse("unknown-user-dummy-password").unwrap();
        assert!(!verify_password(&guess, DUMMY_HASH));
    }
}
