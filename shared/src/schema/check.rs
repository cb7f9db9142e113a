//! The drift check: does the database hold exactly what the table mappings say?
//!
//! The mappings are written the way people write SQL (`DEFAULT 'USD'`, `kind IN ('a', 'b')`),
//! while a database reports PostgreSQL's canonical spelling (`'USD'::text`,
//! `kind = ANY (ARRAY['a'::text, 'b'::text])`). Rather than imitate PostgreSQL's normaliser, the
//! check lets PostgreSQL do it: inside a transaction it creates the mappings in a fresh shadow
//! schema, reads them back with the same introspection, and rolls the transaction back. DDL is
//! transactional in PostgreSQL, so nothing remains, which makes the check safe against a deployed
//! database too. Everything goes through the Data API.

use rand::Rng;

use super::diff::{Difference, diff};
use super::introspect::introspect;
use super::model::Schema;
use super::render::create_statements;
use super::tables::ENGINE_TABLES;
use crate::db::{Db, DbError};

/// Why the check could not run (as opposed to finding drift).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("the table mappings do not create cleanly (statement {index}: {statement}): {source}")]
    Mappings {
        index: usize,
        statement: String,
        #[source]
        source: DbError,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The mappings as PostgreSQL spells them, read from a rolled-back shadow schema.
///
/// # Errors
/// [`CheckError::Mappings`] when a mapping's SQL is invalid; [`CheckError::Db`] otherwise.
pub async fn canonical(db: &Db, mappings: &Schema) -> Result<Schema, CheckError> {
    let shadow = format!("drift_shadow_{:012x}", rand::rng().random::<u64>() >> 16);
    let transaction = db.begin().await?;
    let result = async {
        db.execute_in(&transaction, &format!("CREATE SCHEMA {shadow}"), Vec::new())
            .await?;
        db.execute_in(
            &transaction,
            &format!("SET LOCAL search_path TO {shadow}"),
            Vec::new(),
        )
        .await?;
        for (index, statement) in create_statements(mappings).into_iter().enumerate() {
            if let Err(source) = db.execute_in(&transaction, &statement, Vec::new()).await {
                return Err(CheckError::Mappings {
                    index,
                    statement,
                    source,
                });
            }
        }
        Ok(introspect(db, Some(&transaction), &[]).await?)
    }
    .await;
    db.rollback(transaction).await?;
    result
}

/// What the database holds, leaving out the migration engine's own tables.
///
/// # Errors
/// [`DbError`] from the Data API.
pub async fn actual(db: &Db) -> Result<Schema, DbError> {
    introspect(db, None, ENGINE_TABLES).await
}

/// Every difference between the database behind `db` and `mappings`; empty means no drift.
///
/// # Errors
/// As [`canonical`].
pub async fn check(db: &Db, mappings: &Schema) -> Result<Vec<Difference>, CheckError> {
    let expected = canonical(db, mappings).await?;
    let actual = actual(db).await?;
    Ok(diff(&expected, &actual))
}
