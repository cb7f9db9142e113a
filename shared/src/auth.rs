//! Authentication primitives: password policy and hashing, access tokens, refresh tokens.
//!
//! - Passwords: 12–256 characters, no composition rules (NIST SP 800-63B). Hashed with argon2id at
//!   m = 19456 KiB, t = 2, p = 1 (OWASP's recommendation), stored as PHC strings, which carry their
//!   parameters so they can be raised later: [`needs_rehash`] tells login to re-hash.
//! - Access tokens: JWT HS256, 15 minutes, claims `sub`, `hid` (household), `role`, `iat`, `exp`,
//!   `jti`, `iss`; verification pins the algorithm, the issuer and the expiry.
//! - Refresh and invitation tokens ([`SecretToken`]): 256 random bits given to the client once;
//!   only their SHA-256 is stored.

use std::fmt;
use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::{HouseholdId, ParseError, Role, UserId};

/// OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane.
pub const ARGON2_M_COST_KIB: u32 = 19_456;
pub const ARGON2_T_COST: u32 = 2;
pub const ARGON2_P_COST: u32 = 1;

/// How long an access token lives.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// How long a refresh token lives.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// The shortest signing secret accepted (HS256 wants at least its output size).
pub const MIN_SECRET_BYTES: usize = 32;

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

/// A hash of a password nobody has, verified against when the email is unknown so that an
/// unknown email costs the same time as a wrong password.
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let password = Password("unknown-user-dummy-password".to_owned());
    hash_password(&password).unwrap_or_default()
});

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub hid: HouseholdId,
    #[serde(with = "role_text")]
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
}

mod role_text {
    use crate::domain::{Role, SqlEnum};

    pub fn serialize<S: serde::Serializer>(role: &Role, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(role.as_str())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        <Role as SqlEnum>::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a signing secret was refused.
#[derive(Debug, thiserror::Error)]
#[error("the token signing secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
pub struct WeakSecret(pub usize);

/// An access token was refused; the client is told only that it is invalid.
#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidToken(String);

/// Signs access tokens with one key and verifies them with it or with any other accepted key, so
/// the signing key can be rotated without rejecting tokens that are still valid (see the README's
/// rotation procedure).
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keys that verify but never sign: the previous key (tokens it signed are still live) and
    /// the next one (instances already signing with it while this one is not yet updated).
    accepted: Vec<DecodingKey>,
    issuer: String,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// An issued access token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

impl TokenKeys {
    /// # Errors
    /// [`WeakSecret`] for a secret shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8], issuer: &str) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret(secret.len()));
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            accepted: Vec::new(),
            issuer: issuer.to_owned(),
        })
    }

    /// Also accepts tokens signed with `secret` (it never signs).
    ///
    /// # Errors
    /// [`WeakSecret`] for a secret shorter than [`MIN_SECRET_BYTES`].
    pub fn accepting(mut self, secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret(secret.len()));
        }
        self.accepted.push(DecodingKey::from_secret(secret));
        Ok(self)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs a token for `user` valid from `now` for [`ACCESS_TOKEN_TTL`].
    ///
    /// # Errors
    /// Only if signing fails, which HMAC does not.
    pub fn issue(
        &self,
        user: UserId,
        household: HouseholdId,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, InvalidToken> {
        let claims = Claims {
            sub: user,
            hid: household,
            role,
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
            jti: uuid::Uuid::now_v7().to_string(),
            iss: self.issuer.clone(),
        };
        self.sign(&claims).map(|token| AccessToken {
            token,
            expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        })
    }

    /// Signs arbitrary claims (tests use it for expired or foreign tokens).
    ///
    /// # Errors
    /// Only if signing fails.
    pub fn sign(&self, claims: &Claims) -> Result<String, InvalidToken> {
        jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &self.encoding,
        )
        .map_err(|e| InvalidToken(e.to_string()))
    }

    /// Checks signature, algorithm (HS256 only), issuer and expiry.
    ///
    /// # Errors
    /// [`InvalidToken`] for anything else.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        let mut result = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation);
        for key in &self.accepted {
            // Only a signature made with another key is worth another try; an expired or
            // malformed token is refused whatever the key.
            match &result {
                Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
                    result = jsonwebtoken::decode::<Claims>(token, key, &validation);
                }
                _ => break,
            }
        }
        result
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))
    }
}

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
