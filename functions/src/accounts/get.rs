//! `GET /accounts/{account_id}`: one account with its balances. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::AccountId;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{Account, BALANCES, COLUMNS};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/accounts/{account_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "One account, with its balances")
        .answers::<super::Account>(200, "The account.")
        .etag()
}

static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN accounts a ON a.id = :account_id AND a.household_id = :household_id \
              AND EXISTS (SELECT 1 FROM me) \
         {BALANCES}"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let account = ROUTE.id(&request, "account_id", AccountId::parse)?;
    let params = access::caller(&claims, [param("account_id", &account)]);
    let rows = app.db.execute(&FIND, params).await?;
    let row = access::found_row(&rows, 1)?;
    let account = Account::from_row(&row, 1)?;
    let version = account.version;
    Ok(Reply::ok(&account).with_version(version))
}
