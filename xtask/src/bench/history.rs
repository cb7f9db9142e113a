//! `GET /months/{month}` over long histories: 10,000 and 100,000 transactions spread over ten
//! years, beside a neighbouring household with as many. Measures the warm handler through the
//! release binary, and the statement itself in PostgreSQL with `EXPLAIN ANALYZE`: its time, and
//! whether it reads transactions through their household indexes or scans the table (which would
//! read the neighbour's rows too).

use std::time::Duration;

use serde_json::{Value, json};

use super::functions::{Setup, http, post, text};
use super::runtime::RuntimeApi;

pub struct History {
    pub transactions: i64,
    pub handler_median: Duration,
    pub response_bytes: usize,
    pub statement_ms: f64,
    pub scans: Vec<String>,
    /// `GET /transactions?limit=500`: median, response bytes, rows.
    pub page: (Duration, usize, usize),
}

const MONTH: &str = "2026-11";

/// Registers a household through the release binary; answers its session.
async fn household(setup: &Setup<'_>, email: &str) -> anyhow::Result<Value> {
    let runtime = RuntimeApi::start().await?;
    let _register = runtime.spawn(&setup.target.join("auth-register"), setup.environment)?;
    let body = json!({"email": email, "password": "correct horse battery staple", "display_name": "History"});
    let answer = runtime.invoke(&post("/auth/register", &body)).await?;
    let (status, session) = http(&answer.body);
    anyhow::ensure!(status == 201, "register answered {status}: {session}");
    Ok(session)
}

/// Adds `count` transactions to `session`'s household, one on-budget account, spread evenly over
/// the ten years to `MONTH` across its categories (a tenth uncategorised inflows), and an
/// assignment per category and month.
async fn seed(direct: &tokio_postgres::Client, session: &Value, count: i64) -> anyhow::Result<()> {
    let household = text(&session["household_id"], "the session's household id")?;
    let user = text(&session["user_id"], "the session's user id")?;
    // UUIDv7, as the service makes them (the API refuses to read other ids); PostgreSQL 15 cannot.
    let account_id = shared::domain::AccountId::new().to_string();
    let ids: Vec<String> = (0..count)
        .map(|_| shared::domain::TransactionId::new().to_string())
        .collect();
    let ids = serde_json::to_string(&ids)?;
    direct
        .execute(
            "INSERT INTO accounts (id, household_id, name, kind, on_budget) \
             SELECT $2::text::uuid, $1::text::uuid, 'History ' || (SELECT count(*) FROM accounts \
               WHERE household_id = $1::text::uuid), 'checking', true",
            &[&household, &account_id],
        )
        .await?;
    direct
        .execute(
            "WITH account AS (SELECT id FROM accounts WHERE household_id = $1::text::uuid \
                                ORDER BY created_at DESC LIMIT 1), \
                  category AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total \
                               FROM categories WHERE household_id = $1::text::uuid) \
             INSERT INTO transactions (id, household_id, account_id, date, amount, category_id, created_by) \
             SELECT new.id::uuid, $1::text::uuid, (SELECT id FROM account), \
                    (date '2016-12-01' + ((i - 1) * 3652 / $3::bigint)::int), \
                    CASE WHEN i % 10 = 0 THEN 2500000 ELSE -(i % 97 + 1) * 1000 END, \
                    CASE WHEN i % 10 = 0 THEN NULL ELSE \
                      (SELECT id FROM category WHERE n = i % total) END, \
                    $2::text::uuid \
             FROM jsonb_array_elements_text($4::text::jsonb) WITH ORDINALITY AS new (id, i)",
            &[&household, &user, &count, &ids],
        )
        .await?;
    direct
        .execute(
            "INSERT INTO budget_allocations (id, household_id, category_id, month, assigned) \
             SELECT gen_random_uuid(), $1::text::uuid, c.id, m::date, 150000 \
             FROM categories c, generate_series(date '2016-12-01', date '2026-11-01', interval '1 month') AS m \
             WHERE c.household_id = $1::text::uuid \
             ON CONFLICT (category_id, month) DO NOTHING",
            &[&household],
        )
        .await?;
    direct.execute("ANALYZE", &[]).await?;
    Ok(())
}

/// The month statement with this session's values written in, for `EXPLAIN`.
fn explainable(session: &Value) -> String {
    let text = |key: &str| format!("'{}'", session[key].as_str().unwrap_or_default());
    functions::months::get::statement()
        .replace(":household_id", &text("household_id"))
        .replace(
            ":session_id",
            &format!(
                "(SELECT family_id FROM refresh_tokens WHERE user_id = {} LIMIT 1)",
                text("user_id")
            ),
        )
        .replace(":user_id", &text("user_id"))
        .replace(":until", &format!("'{MONTH}-01'"))
        // A read: no household lock, no idempotency key.
        .replace(":writing", "false")
        .replace(":idempotency_id", "NULL")
        .replace(":idempotency_key", "NULL")
        .replace(":idempotency_fingerprint", "NULL")
}

async fn measure(
    setup: &Setup<'_>,
    direct: &tokio_postgres::Client,
    session: &Value,
    transactions: i64,
    samples: usize,
) -> anyhow::Result<History> {
    let (handler_median, response_bytes, _) = warm(
        setup,
        session,
        "months-get",
        &format!("/months/{MONTH}"),
        None,
        samples,
    )
    .await?;
    let page = warm(
        setup,
        session,
        "transactions-list",
        "/transactions",
        Some("limit=500"),
        samples,
    )
    .await?;

    let plan: Vec<String> = direct
        .query(
            &format!("EXPLAIN (ANALYZE, FORMAT TEXT) {}", explainable(session)),
            &[],
        )
        .await?
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect();
    let statement_ms = plan
        .iter()
        .find_map(|line| line.trim().strip_prefix("Execution Time: "))
        .and_then(|rest| rest.trim_end_matches(" ms").parse().ok())
        .unwrap_or(f64::NAN);
    let scans = plan
        .iter()
        .filter(|line| line.contains(" on transactions") || line.contains(" on budget_allocations"))
        .map(|line| {
            let node = line.trim().trim_start_matches("->").trim();
            node.split("  (").next().unwrap_or(node).to_owned()
        })
        .collect();
    Ok(History {
        transactions,
        handler_median,
        response_bytes,
        page,
        statement_ms,
        scans,
    })
}

/// `samples` warm GETs of `path` through `binary`: the median, the last answer's body bytes, and
/// how many transactions it listed.
async fn warm(
    setup: &Setup<'_>,
    session: &Value,
    binary: &str,
    path: &str,
    query: Option<&str>,
    samples: usize,
) -> anyhow::Result<(Duration, usize, usize)> {
    let runtime = RuntimeApi::start().await?;
    let _function = runtime.spawn(&setup.target.join(binary), setup.environment)?;
    let access = text(&session["access_token"], "the session's access token")?;
    let authorization = format!("Bearer {access}");
    let mut event = harness::app::event("GET", path, &[("authorization", &authorization)], None);
    if let Some(query) = query {
        let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|pair| pair.split_once('=')).collect();
        harness::app::add_query(&mut event, &pairs);
    }
    let event = event.to_string();
    let mut latencies = Vec::with_capacity(samples);
    let (mut bytes, mut rows) = (0, 0);
    for i in 0..samples + 2 {
        let answer = runtime.invoke(&event).await?;
        let status = answer.body["statusCode"].as_u64().unwrap_or(0);
        anyhow::ensure!(status == 200, "{binary} answered {status}: {}", answer.body);
        let body = text(&answer.body["body"], "the month's body")?;
        bytes = body.len();
        rows = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|b| b["transactions"].as_array().map(Vec::len))
            .unwrap_or(0);
        if i >= 2 {
            latencies.push(answer.latency);
        }
    }
    latencies.sort();
    Ok((
        latencies.get(latencies.len() / 2).copied().unwrap_or_default(),
        bytes,
        rows,
    ))
}

/// The two sizes, each beside a neighbour household of the same size.
pub async fn months(setup: &Setup<'_>, direct: &tokio_postgres::Client) -> anyhow::Result<Vec<History>> {
    let mut results = Vec::new();
    let mut seeded = 0;
    let subject = household(setup, "history@bench.example").await?;
    let neighbour = household(setup, "neighbour@bench.example").await?;
    for size in [10_000, 100_000] {
        seed(direct, &subject, size - seeded).await?;
        seed(direct, &neighbour, size - seeded).await?;
        seeded = size;
        results.push(measure(setup, direct, &subject, size, 20).await?);
    }
    Ok(results)
}
