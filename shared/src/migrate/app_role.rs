//! The application's database role: what the API functions log in as.
//!
//! The migrate function connects as the cluster's master user and owns the schema; the API
//! functions connect with a secret of their own for a role that may read and write the service's
//! tables and nothing else: no DDL (it owns no table and cannot create in `public`), no access to
//! the migration ledger. [`keep`] creates the role if needed, sets its password from the secret,
//! and grants it the current tables, on every deploy after the migrations, so a table added by a
//! later migration is granted in the same deploy. It is one statement: one Data API call.
//!
//! The role's statements run at `REPEATABLE READ`: a write statement reads its household in one
//! snapshot and locks the household row first (`functions::access::ME`), so a write that had to
//! wait for another fails with a serialization failure instead of writing from a stale snapshot
//! (say, one leg of a transfer from before the other writer's change), and [`crate::db::Db`]
//! runs it again. Single statements outside a transaction are always safe to run again.
//!
//! The master is not a superuser: Aurora's has `CREATEDB CREATEROLE` and membership of
//! `rds_superuser`, and PostgreSQL refuses a statement that names `SUPERUSER`, `REPLICATION` or
//! `BYPASSRLS` (even `NOSUPERUSER`) from a role that lacks the attribute itself, so the statement
//! never names them; a role the master creates has none of them, and one that somehow has is
//! refused loudly. On PostgreSQL 16+ a `CREATEROLE` role alters only roles it holds `ADMIN OPTION`
//! on, which it gets for the roles it creates.
//!
//! The password reaches PostgreSQL only as a SCRAM-SHA-256 verifier (RFC 5803 / 7677), computed
//! here, so the plain text never appears in a statement or a database log.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{Db, DbError};

/// Longest a statement of the API functions may run: under their 25 s Lambda timeout (and the
/// Data API's 45 s), so a runaway statement is cancelled by PostgreSQL and answered, instead of
/// running on after the function has given up.
pub const API_STATEMENT_TIMEOUT: &str = "20s";

/// Iterations of the verifier; PostgreSQL's own default (`scram_iterations`).
const SCRAM_ITERATIONS: u32 = 4096;

/// A login role for the API functions, as read from its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AppRole {
    username: String,
    password: String,
}

impl std::fmt::Debug for AppRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRole")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Why a secret does not describe a usable role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppRoleError {
    #[error("the application role's secret is not JSON with string fields username and password")]
    NotCredentials,
    #[error(
        "the application role's username {0:?} must be lower-case letters, digits and underscores, starting with a letter (at most 63)"
    )]
    InvalidUsername(String),
    #[error("the application role's password must be at least 16 characters")]
    WeakPassword,
}

impl AppRole {
    /// # Errors
    /// [`AppRoleError`] for a username that is not a plain identifier or a short password.
    pub fn new(username: &str, password: &str) -> Result<Self, AppRoleError> {
        let valid = username.len() <= 63
            && username.starts_with(|c: char| c.is_ascii_lowercase())
            && username
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(AppRoleError::InvalidUsername(username.to_owned()));
        }
        if password.chars().count() < 16 {
            return Err(AppRoleError::WeakPassword);
        }
        Ok(Self {
            username: username.to_owned(),
            password: password.to_owned(),
        })
    }

    /// From a Secrets Manager `SecretString` as the Data API reads it: `{"username", "password", …}`.
    ///
    /// # Errors
    /// As [`Self::new`], or [`AppRoleError::NotCredentials`].
    pub fn from_secret_string(secret: &str) -> Result<Self, AppRoleError> {
        let value: serde_json::Value =
            serde_json::from_str(secret).map_err(|_| AppRoleError::NotCredentials)?;
        match (value["username"].as_str(), value["password"].as_str()) {
            (Some(username), Some(password)) => Self::new(username, password),
            _ => Err(AppRoleError::NotCredentials),
        }
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// The statement that creates or updates the role and its grants (the username is a checked
    /// identifier and the verifier is base64, so both are safe to write into the text; utility
    /// statements take no parameters).
    pub fn keep_statement(&self) -> String {
        keep_statement(&self.username, &scram_verifier(&self.password, &random_salt()))
    }

    /// [`Self::keep_statement`] with the password left out: it changes only when the role's
    /// name or grants do (test harnesses key cached databases on it).
    pub fn keep_statement_without_password(&self) -> String {
        keep_statement(&self.username, "…")
    }
}

fn keep_statement(role: &str, verifier: &str) -> String {
    format!(
        r#"DO $keep$
DECLARE
  attempt int;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    BEGIN
      CREATE ROLE {role};
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another run created it first
    END;
  END IF;
  -- Roles are shared by every database of the cluster; two runs updating one at once fail with
  -- "tuple concurrently updated", so the loser tries again.
  FOR attempt IN 1..5 LOOP
    BEGIN
      ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD '{verifier}';
      ALTER ROLE {role} SET default_transaction_isolation TO 'repeatable read';
      ALTER ROLE {role} SET statement_timeout TO '{API_STATEMENT_TIMEOUT}';
      EXIT;
    EXCEPTION WHEN internal_error THEN
      IF attempt = 5 THEN RAISE; END IF;
      PERFORM pg_sleep(0.05 * attempt);
    END;
  END LOOP;
  -- The master cannot name these attributes, even to turn them off (see the module's docs); a role
  -- a superuser gave them is refused instead of kept.
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}' AND (rolsuper OR rolreplication OR rolbypassrls)) THEN
    RAISE EXCEPTION 'the application role {role} has SUPERUSER, REPLICATION or BYPASSRLS, which the master cannot remove: a superuser must (ALTER ROLE {role} NOSUPERUSER NOREPLICATION NOBYPASSRLS)';
  END IF;
  REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  GRANT USAGE ON SCHEMA public TO {role};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
  GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
  IF to_regclass('public.schema_migrations') IS NOT NULL THEN
    REVOKE ALL ON public.schema_migrations FROM {role};
  END IF;
END
$keep$"#
    )
}

/// Creates or updates the application role and grants it the service's current tables.
///
/// # Errors
/// [`DbError`] from the statement.
pub async fn keep(db: &Db, role: &AppRole) -> Result<(), DbError> {
    db.execute(&role.keep_statement(), Vec::new()).await.map(drop)
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    salt
}

/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as PostgreSQL stores passwords.
pub fn scram_verifier(password: &str, salt: &[u8]) -> String {
    let salted = pbkdf2_sha256(password.as_bytes(), salt, SCRAM_ITERATIONS);
    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac_sha256(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${SCRAM_ITERATIONS}:{}${}:{}",
        BASE64.encode(salt),
        BASE64.encode(stored_key),
        BASE64.encode(server_key)
    )
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA-256 with one output block (32 bytes, SCRAM's `Hi()`).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut block = hmac_sha256(password, &first);
    let mut result = block;
    for _ in 1..iterations {
        block = hmac_sha256(password, &block);
        for (r, b) in result.iter_mut().zip(block) {
            *r ^= b;
        }
    }
    result
}
