//! Every HTTP endpoint, once: its binary's name, handler module (which holds `ROUTE`, `doc` and
//! `respond`), kind and Data API call budget. The binaries (`src/bin/`), template.yaml, the local
//! router in Cargo.toml and openapi.json are generated from this list (`cargo xtask template`,
//! `cargo xtask openapi`); the bench takes the budgets from it, and tests fail on any difference.
//!
//! Adding an endpoint: write its module (`ROUTE`, `doc`, `respond`, declared in its resource's
//! `mod.rs`), add one line here, run the two generators, write its tests.

use crate::endpoint::Endpoint;
use crate::{
    accounts, auth, categories, household, invitations, me, months, openapi, payees, scheduled, transactions,
};

/// `NAME = "binary-name", handler::module, Kind, budget;` for each endpoint: a constant each (a
/// binary names only its own, so it links only its own handler) and [`ENDPOINTS`], in this order.
macro_rules! registry {
    ($($constant:ident = $name:literal, $($module:ident)::+, $kind:ident, $budget:literal;)*) => {
        $(
            pub const $constant: Endpoint = Endpoint {
                name: $name,
                route: $($module)::+::ROUTE,
                kind: crate::endpoint::Kind::$kind,
                budget: $budget,
                doc: $($module)::+::doc,
                handle: |app, request| Box::pin($($module)::+::handle(app, request)),
            };
        )*

        /// Every endpoint, in the order of the lines above.
        pub const ENDPOINTS: &[Endpoint] = &[$($constant),*];
    };
}

registry! {
    AUTH_REGISTER = "auth-register", auth::register, Issuer, 1;
    AUTH_LOGIN = "auth-login", auth::login, Issuer, 2;
    AUTH_REFRESH = "auth-refresh", auth::refresh, Issuer, 1;
    AUTH_LOGOUT = "auth-logout", auth::logout, Api, 1;
    AUTH_PASSWORD = "auth-password", auth::password, Api, 2;
    ME = "me", me, Api, 1;
    HOUSEHOLD_GET = "household-get", household::get, Api, 1;
    HOUSEHOLD_UPDATE = "household-update", household::update, Api, 1;
    HOUSEHOLD_MEMBER_ROLE = "household-member-role", household::member_role, Api, 1;
    HOUSEHOLD_MEMBER_REMOVE = "household-member-remove", household::member_remove, Api, 1;
    INVITATIONS_CREATE = "invitations-create", invitations::create, Api, 1;
    INVITATIONS_LIST = "invitations-list", invitations::list, Api, 1;
    INVITATIONS_REVOKE = "invitations-revoke", invitations::revoke, Api, 1;
    INVITATIONS_ACCEPT = "invitations-accept", invitations::accept, Issuer, 1;
    ACCOUNTS_LIST = "accounts-list", accounts::list, Api, 1;
    ACCOUNTS_CREATE = "accounts-create", accounts::create, Api, 1;
    ACCOUNTS_GET = "accounts-get", accounts::get, Api, 1;
    ACCOUNTS_UPDATE = "accounts-update", accounts::update, Api, 1;
    ACCOUNTS_DELETE = "accounts-delete", accounts::delete, Api, 1;
    PAYEES_LIST = "payees-list", payees::list, Api, 1;
    PAYEES_CREATE = "payees-create", payees::create, Api, 1;
    PAYEES_GET = "payees-get", payees::get, Api, 1;
    PAYEES_UPDATE = "payees-update", payees::update, Api, 1;
    PAYEES_DELETE = "payees-delete", payees::delete, Api, 1;
    CATEGORY_GROUPS_LIST = "category-groups-list", categories::groups, Api, 1;
    CATEGORY_GROUPS_CREATE = "category-groups-create", categories::group_create, Api, 1;
    CATEGORY_GROUPS_GET = "category-groups-get", categories::group_get, Api, 1;
    CATEGORY_GROUPS_UPDATE = "category-groups-update", categories::group_update, Api, 1;
    CATEGORY_GROUPS_DELETE = "category-groups-delete", categories::group_delete, Api, 1;
    CATEGORIES_CREATE = "categories-create", categories::create, Api, 1;
    CATEGORIES_GET = "categories-get", categories::get, Api, 1;
    CATEGORIES_UPDATE = "categories-update", categories::update, Api, 1;
    CATEGORIES_DELETE = "categories-delete", categories::delete, Api, 1;
    MONTHS_LIST = "months-list", months::list, Api, 1;
    MONTHS_GET = "months-get", months::get, Api, 1;
    MONTHS_ASSIGN = "months-assign", months::assign, Api, 1;
    TRANSACTIONS_LIST = "transactions-list", transactions::list, Api, 1;
    TRANSACTIONS_CREATE = "transactions-create", transactions::create, Api, 1;
    TRANSACTIONS_GET = "transactions-get", transactions::get, Api, 1;
    TRANSACTIONS_UPDATE = "transactions-update", transactions::update, Api, 1;
    TRANSACTIONS_DELETE = "transactions-delete", transactions::delete, Api, 1;
    SCHEDULED_TRANSACTIONS_LIST = "scheduled-transactions-list", scheduled::list, Api, 1;
    SCHEDULED_TRANSACTIONS_CREATE = "scheduled-transactions-create", scheduled::create, Api, 1;
    SCHEDULED_TRANSACTIONS_GET = "scheduled-transactions-get", scheduled::get, Api, 1;
    SCHEDULED_TRANSACTIONS_UPDATE = "scheduled-transactions-update", scheduled::update, Api, 1;
    SCHEDULED_TRANSACTIONS_DELETE = "scheduled-transactions-delete", scheduled::delete, Api, 1;
    OPENAPI = "openapi", openapi::json, Public, 0;
    DOCS = "docs", openapi::docs, Public, 0;
}

/// Binaries that are not HTTP endpoints (they keep hand-written `src/bin/` files).
pub const OTHER_FUNCTIONS: &[&str] = &["migrate", "auth-keys", "scheduler"];
