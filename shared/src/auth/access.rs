//! Access tokens: JWTs signed with Ed25519 (`EdDSA`), so that only the functions that issue tokens
//! hold a secret and every other function verifies with public keys.
//!
//! - A signing key comes from a secret text of at least [`MIN_SECRET_BYTES`] bytes (the template's
//!   Secrets Manager secret): its Ed25519 seed is SHA-256 of a fixed label and the text, so the
//!   secret can stay a generated password and the rotation procedure is unchanged.
//! - A verifier holds the public keys of the current, previous and next secrets (plain text: they
//!   are not secret), each named by a key id (`kid`) derived from the key; a token names the key that
//!   signed it, and any other key or algorithm is refused.
//! - Claims `sub`, `hid` (household), `role`, `iat`, `exp`, `jti`, `iss`; verification pins the
//!   algorithm, the issuer and the expiry (no leeway).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};

use crate::domain::{HouseholdId, Role, TokenFamilyId, UserId};

/// How long an access token lives.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// How far in the future a token's `iat` may be (instances' clocks differ slightly).
const CLOCK_SKEW_SECONDS: i64 = 60;
/// The shortest signing secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;
/// Separates this use of the secret from any other.
const SEED_LABEL: &[u8] = b"budget-api access-token Ed25519 seed v1\0";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub hid: HouseholdId,
    /// The session: the refresh-token family the token was issued with. A household statement
    /// refuses the token once the session has ended (logout, reuse, password change, removal).
    pub sid: TokenFamilyId,
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

/// Why key material was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the token signing secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
    WeakSecret(usize),
    #[error("{0:?} is not an Ed25519 public key (43 characters of base64url)")]
    NotAPublicKey(String),
    #[error("no public key to verify access tokens with")]
    NoPublicKey,
    #[error(
        "the signing secret must be JSON with string fields current, previous and next (\"none\" for an empty slot)"
    )]
    NotAKeySet,
}

/// An access token was refused; the client is told only that it is invalid.
#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidToken(String);

/// An issued access token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// An Ed25519 public key that verifies access tokens, as text: 32 bytes in base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// # Errors
    /// [`KeyError::NotAPublicKey`] for text that is not 32 bytes of base64url or not a curve point.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let refuse = || KeyError::NotAPublicKey(text.to_owned());
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| refuse())?
            .try_into()
            .map_err(|_| refuse())?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| refuse())?;
        Ok(Self(bytes))
    }

    /// The key id tokens carry: the first 8 bytes of the key's SHA-256, base64url.
    pub fn key_id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&Sha256::digest(self.0)[..8])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// The Ed25519 key a signing secret stands for.
fn signing_key(secret: &[u8]) -> Result<SigningKey, KeyError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(KeyError::WeakSecret(secret.len()));
    }
    let seed: [u8; 32] = Sha256::new()
        .chain_update(SEED_LABEL)
        .chain_update(secret)
        .finalize()
        .into();
    Ok(SigningKey::from_bytes(&seed))
}

/// The public key of a signing secret: what the verifying functions are given.
///
/// # Errors
/// [`KeyError::WeakSecret`] for a secret shorter than [`MIN_SECRET_BYTES`].
pub fn public_key_of(secret: &[u8]) -> Result<PublicKey, KeyError> {
    Ok(PublicKey(signing_key(secret)?.verifying_key().to_bytes()))
}

/// The value of a rotation slot that holds no key (the template's initial secret).
pub const NO_KEY: &str = "none";

/// The public keys of the template's signing secret, `{"current", "previous", "next"}`: current
/// first, then the others that hold a key (see the README's key rotation).
///
/// # Errors
/// [`KeyError::NotAKeySet`] for another shape, [`KeyError::WeakSecret`] for a short key, and
/// [`KeyError::NoPublicKey`] when `current` holds none.
pub fn public_keys_of_secret(secret_string: &str) -> Result<Vec<PublicKey>, KeyError> {
    let value: serde_json::Value = serde_json::from_str(secret_string).map_err(|_| KeyError::NotAKeySet)?;
    let slots = ["current", "previous", "next"].map(|slot| value[slot].as_str());
    let [Some(current), Some(previous), Some(next)] = slots else {
        return Err(KeyError::NotAKeySet);
    };
    if current == NO_KEY {
        return Err(KeyError::NoPublicKey);
    }
    let mut keys = Vec::new();
    for text in [current, previous, next] {
        if text == NO_KEY {
            continue;
        }
        let key = public_key_of(text.as_bytes())?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Signs access tokens. Only the functions that issue them (register, login, refresh, invitation accept) hold one.
#[derive(Clone)]
pub struct TokenSigner {
    key: EncodingKey,
    public: PublicKey,
    issuer: String,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("public", &self.public)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// # Errors
    /// [`KeyError::WeakSecret`] for a secret shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8], issuer: &str) -> Result<Self, KeyError> {
        let key = signing_key(secret)?;
        let der = key
            .to_pkcs8_der()
            .map_err(|_| KeyError::WeakSecret(secret.len()))?;
        Ok(Self {
            key: EncodingKey::from_ed_der(der.as_bytes()),
            public: PublicKey(key.verifying_key().to_bytes()),
            issuer: issuer.to_owned(),
        })
    }

    /// The key of the `current` slot of the template's signing secret (see
    /// [`public_keys_of_secret`]).
    ///
    /// # Errors
    /// [`KeyError`] for another shape, an empty `current` slot or a short key.
    pub fn from_secret(secret_string: &str, issuer: &str) -> Result<Self, KeyError> {
        let value: serde_json::Value =
            serde_json::from_str(secret_string).map_err(|_| KeyError::NotAKeySet)?;
        match value["current"].as_str() {
            None => Err(KeyError::NotAKeySet),
            Some(NO_KEY) => Err(KeyError::NoPublicKey),
            Some(current) => Self::new(current.as_bytes(), issuer),
        }
    }

    /// The key that verifies what this signs.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs a token for `user` in `session`, valid from `now` for [`ACCESS_TOKEN_TTL`].
    ///
    /// # Errors
    /// Only if signing fails, which Ed25519 with a valid key does not.
    pub fn issue(
        &self,
        user: UserId,
        household: HouseholdId,
        role: Role,
        session: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, InvalidToken> {
        let claims = Claims {
            sub: user,
            hid: household,
            sid: session,
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
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.public.key_id());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| InvalidToken(e.to_string()))
    }
}

/// Verifies access tokens with any of its public keys (current, previous, next), so the signing
/// key can be rotated without refusing a token that is still valid.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Vec<(String, DecodingKey)>,
    issuer: String,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("TokenVerifier")
            .field("key_ids", &ids)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl TokenVerifier {
    /// # Errors
    /// [`KeyError::NoPublicKey`] for an empty list.
    pub fn new(keys: &[PublicKey], issuer: &str) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::NoPublicKey);
        }
        Ok(Self {
            keys: keys
                .iter()
                .map(|key| (key.key_id(), DecodingKey::from_ed_der(&key.0)))
                .collect(),
            issuer: issuer.to_owned(),
        })
    }

    /// From a comma-separated list of public keys, as the functions' environment carries them.
    ///
    /// # Errors
    /// [`KeyError`] for a malformed key or none at all.
    pub fn from_list(list: &str, issuer: &str) -> Result<Self, KeyError> {
        let keys = list
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(PublicKey::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(&keys, issuer)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether tokens signed by the key of `public` verify here.
    pub fn accepts(&self, public: &PublicKey) -> bool {
        let id = public.key_id();
        self.keys.iter().any(|(key_id, _)| *key_id == id)
    }

    /// Checks the algorithm (EdDSA only), the key the token names, the signature, the issuer and
    /// the expiry.
    ///
    /// # Errors
    /// [`InvalidToken`] for anything else.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| InvalidToken(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(InvalidToken(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| InvalidToken("the token names no key".to_owned()))?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(id, _)| *id == kid)
            .ok_or_else(|| InvalidToken(format!("key {kid:?} is not one of ours")))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))?;
        // Ours never live longer than the TTL nor start in the future: a token that does was not
        // issued by [`TokenSigner::issue`], whatever key signed it.
        let now = chrono::Utc::now().timestamp();
        if claims.exp - claims.iat > ACCESS_TOKEN_TTL.num_seconds() || claims.iat > now + CLOCK_SKEW_SECONDS {
            return Err(InvalidToken(
                "the token's lifetime is not one this service issues".to_owned(),
            ));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "budget-api";

    fn claims(now: DateTime<Utc>) -> Claims {
        Claims {
            sub: UserId::new(),
            hid: HouseholdId::new(),
            sid: TokenFamilyId::new(),
            role: Role::Member,
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
            jti: "j".to_owned(),
            iss: ISSUER.to_owned(),
        }
    }

    fn signer(secret: &str) -> TokenSigner {
        TokenSigner::new(secret.as_bytes(), ISSUER).unwrap()
    }

    #[test]
    fn a_token_verifies_with_the_public_key_of_its_secret_only() {
        let ours = signer("the current signing secret, 32+ bytes long");
        let theirs = signer("somebody else's signing secret, 32+ bytes");
        let verifier = TokenVerifier::new(&[ours.public_key().clone()], ISSUER).unwrap();
        let expected = claims(Utc::now());
        assert_eq!(verifier.verify(&ours.sign(&expected).unwrap()).unwrap(), expected);
        assert!(verifier.verify(&theirs.sign(&expected).unwrap()).is_err());
    }

    #[test]
    fn the_public_key_is_a_function_of_the_secret() {
        let secret = b"the current signing secret, 32+ bytes long";
        assert_eq!(
            public_key_of(secret).unwrap(),
            *TokenSigner::new(secret, ISSUER).unwrap().public_key()
        );
        assert_ne!(
            public_key_of(secret).unwrap(),
            public_key_of(b"another secret of at least 32 bytes!").unwrap()
        );
        assert_eq!(public_key_of(b"short"), Err(KeyError::WeakSecret(5)));
    }

    #[test]
    fn public_keys_round_trip_as_text_and_bad_ones_are_refused() {
        let key = public_key_of(b"the current signing secret, 32+ bytes long").unwrap();
        assert_eq!(PublicKey::parse(&key.to_string()).unwrap(), key);
        for bad in ["", "none", "AAAA", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"] {
            assert!(PublicKey::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            TokenVerifier::from_list(" , ", ISSUER).unwrap_err(),
            KeyError::NoPublicKey
        );
    }

    #[test]
    fn the_secrets_public_keys_are_current_first_and_skip_empty_slots() {
        let (old, new) = (
            "the old signing secret, at least 32 bytes",
            "the new signing secret, at least 32 bytes",
        );
        let of = |text: &str| public_key_of(text.as_bytes()).unwrap();
        let set = |current: &str, previous: &str, next: &str| {
            serde_json::json!({"current": current, "previous": previous, "next": next}).to_string()
        };
        assert_eq!(
            public_keys_of_secret(&set(old, "none", "none")).unwrap(),
            [of(old)]
        );
        assert_eq!(
            public_keys_of_secret(&set(old, "none", new)).unwrap(),
            [of(old), of(new)]
        );
        assert_eq!(
            public_keys_of_secret(&set(new, old, "none")).unwrap(),
            [of(new), of(old)]
        );
        assert_eq!(
            public_keys_of_secret(&set("none", old, "none")),
            Err(KeyError::NoPublicKey)
        );
        assert_eq!(
            public_keys_of_secret(&set(old, "short", "none")),
            Err(KeyError::WeakSecret(5))
        );
        assert_eq!(
            public_keys_of_secret(r#"{"current": "x"}"#),
            Err(KeyError::NotAKeySet)
        );
        assert_eq!(public_keys_of_secret("not json"), Err(KeyError::NotAKeySet));
    }

    #[test]
    fn a_rotation_accepts_tokens_of_every_listed_key() {
        let (old, new) = (
            signer("the old signing secret, at least 32 bytes"),
            signer("the new signing secret, at least 32 bytes"),
        );
        let list = format!("{},{}", new.public_key(), old.public_key());
        let verifier = TokenVerifier::from_list(&list, ISSUER).unwrap();
        let expected = claims(Utc::now());
        for signer in [&old, &new] {
            assert_eq!(
                verifier.verify(&signer.sign(&expected).unwrap()).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn expired_foreign_issuer_and_other_algorithms_are_refused() {
        let ours = signer("the current signing secret, 32+ bytes long");
        let verifier = TokenVerifier::new(&[ours.public_key().clone()], ISSUER).unwrap();
        let mut expired = claims(Utc::now() - Duration::hours(1));
        expired.exp = Utc::now().timestamp() - 1;
        assert!(verifier.verify(&ours.sign(&expired).unwrap()).is_err());
        let mut foreign = claims(Utc::now());
        foreign.iss = "someone-else".to_owned();
        assert!(verifier.verify(&ours.sign(&foreign).unwrap()).is_err());
        let mut forever = claims(Utc::now());
        forever.exp = forever.iat + ACCESS_TOKEN_TTL.num_seconds() + 1;
        assert!(
            verifier.verify(&ours.sign(&forever).unwrap()).is_err(),
            "longer than we issue"
        );
        let mut early = claims(Utc::now() + Duration::minutes(5));
        early.exp = early.iat + 60;
        assert!(
            verifier.verify(&ours.sign(&early).unwrap()).is_err(),
            "issued in the future"
        );
        // An HS256 token made with the public key as its HMAC secret (the classic confusion).
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(ours.public_key().key_id());
        let key = EncodingKey::from_secret(&ours.public_key().0);
        let forged = jsonwebtoken::encode(&header, &claims(Utc::now()), &key).unwrap();
        assert!(verifier.verify(&forged).is_err());
    }
}
