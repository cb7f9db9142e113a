//! The books, checked straight from PostgreSQL after the load: each query below lists what breaks
//! one invariant, so every row it returns is a violation.

use super::ledger::Findings;

/// (invariant, query listing its violations as text, query counting what was checked).
const INVARIANTS: &[(&str, &str, &str)] = &[
    (
        "transfer legs are paired and opposite",
        "SELECT t.id::text || ' -> ' || coalesce(o.id::text, 'nothing') FROM transactions t \
         LEFT JOIN transactions o ON o.id = t.transfer_transaction_id \
         WHERE t.transfer_transaction_id IS NOT NULL AND t.deleted_at IS NULL \
           AND (o.id IS NULL OR o.deleted_at IS NOT NULL OR o.transfer_transaction_id <> t.id \
                OR o.amount <> -t.amount OR o.account_id = t.account_id OR o.date <> t.date)",
        "SELECT count(*) FROM transactions WHERE transfer_transaction_id IS NOT NULL AND deleted_at IS NULL",
    ),
    (
        "split lines sum to their parent",
        "SELECT p.id::text || ': ' || p.amount || ' vs ' || sum(l.amount) FROM transactions p \
         JOIN transactions l ON l.parent_id = p.id AND l.deleted_at IS NULL \
         WHERE p.deleted_at IS NULL GROUP BY p.id, p.amount HAVING sum(l.amount) <> p.amount",
        "SELECT count(DISTINCT parent_id) FROM transactions WHERE parent_id IS NOT NULL",
    ),
    (
        "a deleted transaction has no live split lines",
        "SELECT l.id::text FROM transactions l JOIN transactions p ON p.id = l.parent_id \
         WHERE p.deleted_at IS NOT NULL AND l.deleted_at IS NULL",
        "SELECT count(*) FROM transactions WHERE parent_id IS NOT NULL",
    ),
    (
        "split lines are on their parent's account and date",
        "SELECT l.id::text FROM transactions l JOIN transactions p ON p.id = l.parent_id \
         WHERE l.account_id <> p.account_id OR l.date <> p.date",
        "SELECT count(*) FROM transactions WHERE parent_id IS NOT NULL",
    ),
    (
        "no import_id twice in an account",
        "SELECT account_id::text || ' ' || import_id FROM transactions WHERE import_id IS NOT NULL \
         GROUP BY account_id, import_id HAVING count(*) > 1",
        "SELECT count(*) FROM transactions WHERE import_id IS NOT NULL",
    ),
    (
        "at most one live refresh token per session family",
        "SELECT family_id::text FROM refresh_tokens WHERE revoked_at IS NULL AND expires_at > now() \
         GROUP BY family_id HAVING count(*) > 1",
        "SELECT count(DISTINCT family_id) FROM refresh_tokens",
    ),
    (
        "no row references another household's row",
        "SELECT 'transaction ' || t.id FROM transactions t \
           JOIN accounts a ON a.id = t.account_id \
           LEFT JOIN categories c ON c.id = t.category_id \
           LEFT JOIN payees y ON y.id = t.payee_id \
           LEFT JOIN transactions o ON o.id = t.transfer_transaction_id \
           LEFT JOIN transactions p ON p.id = t.parent_id \
           LEFT JOIN users u ON u.id = t.created_by \
         WHERE a.household_id <> t.household_id OR c.household_id <> t.household_id \
            OR y.household_id <> t.household_id OR o.household_id <> t.household_id \
            OR p.household_id <> t.household_id OR u.household_id <> t.household_id \
         UNION ALL SELECT 'category ' || c.id FROM categories c \
           JOIN category_groups g ON g.id = c.category_group_id WHERE g.household_id <> c.household_id \
         UNION ALL SELECT 'allocation ' || b.id FROM budget_allocations b \
           JOIN categories c ON c.id = b.category_id WHERE c.household_id <> b.household_id \
         UNION ALL SELECT 'payee ' || y.id FROM payees y \
           JOIN accounts a ON a.id = y.transfer_account_id WHERE a.household_id <> y.household_id",
        "SELECT (SELECT count(*) FROM transactions) + (SELECT count(*) FROM categories) \
              + (SELECT count(*) FROM budget_allocations) + (SELECT count(*) FROM payees)",
    ),
    (
        "a household's knowledge is at least every row's stamp",
        "SELECT h.id::text FROM households h JOIN transactions t ON t.household_id = h.id \
         GROUP BY h.id, h.server_knowledge HAVING max(t.knowledge) > h.server_knowledge",
        "SELECT count(*) FROM households",
    ),
];

/// Runs every invariant query.
pub async fn check(db: &tokio_postgres::Client, findings: &mut Findings) -> anyhow::Result<()> {
    for (invariant, violations, checked) in INVARIANTS {
        let rows = db.query(*violations, &[]).await?;
        let count: i64 = db.query_one(*checked, &[]).await?.get(0);
        *findings.checked.entry(invariant).or_default() += u64::try_from(count).unwrap_or(0);
        for row in rows.iter().take(10) {
            findings
                .violations
                .push(format!("{invariant}: {}", row.get::<_, String>(0)));
        }
        if rows.len() > 10 {
            findings
                .violations
                .push(format!("{invariant}: … and {} more", rows.len() - 10));
        }
    }
    Ok(())
}

/// Each account's balance as the API answers it equals the sum of its live transactions, read
/// from the rows (split lines are inside their parent's amount).
pub async fn balances(
    db: &tokio_postgres::Client,
    accounts: &[serde_json::Value],
    findings: &mut Findings,
) -> anyhow::Result<()> {
    for account in accounts {
        let id = account["id"].as_str().unwrap_or_default();
        let answered = account["balance"].as_i64();
        let summed: i64 = db
            .query_one(
                "SELECT coalesce(sum(amount), 0)::bigint FROM transactions \
                 WHERE account_id = $1::text::uuid AND parent_id IS NULL AND deleted_at IS NULL",
                &[&id],
            )
            .await?
            .get(0);
        findings.check(
            "an account's balance is the sum of its live transactions",
            answered == Some(summed),
            || format!("account {id}: the API answers {answered:?}, its rows sum to {summed}"),
        );
    }
    Ok(())
}
