//! Category groups and categories: `GET /category-groups[/{id}]` (categories nested), `POST`,
//! `PATCH`, `DELETE /category-groups[/{id}]`, and `POST /categories`, `GET`, `PATCH`,
//! `DELETE /categories/{category_id}`.

pub mod create;
pub mod delete;
pub mod get;
pub mod group_create;
pub mod group_delete;
pub mod group_get;
pub mod group_update;
pub mod groups;
pub mod update;

use serde::Serialize;
use shared::db::Row;
use shared::domain::{CategoryGroupId, CategoryId, Name};
use shared::http::ApiError;
use shared::version::Version;

/// Category groups a household may have.
pub const MAX_GROUPS: i64 = 100;
/// Categories a household may have: the nested list stays far below the 1 MiB response limit.
pub const MAX_CATEGORIES: i64 = 500;

/// The columns of [`Category::from_row`] for category `c`.
pub const COLUMNS: &str = concat!(
    "c.id, c.category_group_id, c.name, c.sort_order, c.hidden, ",
    shared::version_of!("c"),
    ", c.note"
);

/// A category as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: CategoryId,
    pub category_group_id: CategoryGroupId,
    pub name: Name,
    pub sort_order: i32,
    pub hidden: bool,
    pub note: Option<String>,
    #[serde(skip)]
    pub version: Version,
}

impl Category {
    /// Reads [`COLUMNS`] starting at column `first`.
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, first: usize) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.get(first)?,
            category_group_id: row.get(first + 1)?,
            name: row.get(first + 2)?,
            sort_order: row.get(first + 3)?,
            hidden: row.get(first + 4)?,
            version: row.get(first + 5)?,
            note: row.get(first + 6)?,
        })
    }
}

/// The columns of [`Group::from_row`] for group `g`.
pub const GROUP_COLUMNS: &str = concat!("g.id, g.name, g.sort_order, g.hidden, ", shared::version_of!("g"));

/// A category group as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CategoryGroup)]
pub struct Group {
    pub id: CategoryGroupId,
    pub name: Name,
    pub sort_order: i32,
    pub hidden: bool,
    /// In the list and a group's own `GET`; the answer to a `PATCH` leaves them out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<Category>>,
    #[serde(skip)]
    pub version: Version,
}

impl Group {
    /// Reads [`GROUP_COLUMNS`] starting at column `first` (without its categories).
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, first: usize) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.get(first)?,
            name: row.get(first + 1)?,
            sort_order: row.get(first + 2)?,
            hidden: row.get(first + 3)?,
            version: row.get(first + 4)?,
            categories: None,
        })
    }
}

/// Reads a group row and answers it with its `ETag` (`status` 200 or 201).
///
/// # Errors
/// When the row does not have that shape.
pub fn group_reply(row: &Row<'_>, first: usize, created: bool) -> Result<shared::http::Reply, ApiError> {
    let mut group = Group::from_row(row, first)?;
    if created {
        group.categories = Some(Vec::new());
    }
    let version = group.version;
    let reply = if created {
        shared::http::Reply::created(&group)
    } else {
        shared::http::Reply::ok(&group)
    };
    Ok(reply.with_version(version))
}

/// Reads a category row and answers it with its `ETag`.
///
/// # Errors
/// When the row does not have that shape.
pub fn category_reply(row: &Row<'_>, first: usize, created: bool) -> Result<shared::http::Reply, ApiError> {
    let category = Category::from_row(row, first)?;
    let version = category.version;
    let reply = if created {
        shared::http::Reply::created(&category)
    } else {
        shared::http::Reply::ok(&category)
    };
    Ok(reply.with_version(version))
}

/// The 409 for a name another group (or another category of the same group) has.
pub fn name_conflict(constraint: &str) -> ApiError {
    if constraint.starts_with("uq_categories") {
        ApiError::Conflict("A category with this name already exists in that group.".to_owned())
    } else {
        ApiError::Conflict("A category group with this name already exists.".to_owned())
    }
}

/// The 409 or 500 for a failed write.
pub fn write_error(error: shared::db::DbError) -> ApiError {
    match error {
        shared::db::DbError::UniqueViolation { constraint } => name_conflict(&constraint),
        other => other.into(),
    }
}
