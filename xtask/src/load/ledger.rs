//! What every client asked and was answered, kept to check against the database afterwards:
//! each write answered 2xx is there once, each answered with an error left no trace, and one
//! whose answer was lost is there whole or not at all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use serde_json::Value;

use super::client::Outcome;

/// A write, as the client sent it and what it finally knew of it.
pub enum Write {
    /// One transaction (`legs`: 2 for a transfer) whose memo is `marker`, with `lines` split lines.
    Create {
        marker: String,
        legs: i64,
        lines: i64,
        outcome: Outcome,
    },
    /// A bulk import whose items' memos are `{marker}/{i}`.
    Bulk {
        marker: String,
        items: usize,
        outcome: Outcome,
    },
    Delete {
        id: String,
        outcome: Outcome,
    },
    /// Racing PATCHes of one transaction with the same `If-Match`.
    PatchRace {
        id: String,
        outcomes: Vec<Outcome>,
    },
    /// Racing assignments of one category and month, each of another amount.
    AssignRace {
        category: String,
        month: String,
        amounts: Vec<(i64, Outcome)>,
    },
    /// Racing rotations of one refresh token.
    RefreshRace {
        outcomes: Vec<Outcome>,
    },
}

#[derive(Default)]
pub struct Ledger {
    writes: Mutex<Vec<Write>>,
}

/// What the ledger checks found: violations, and how many checks passed.
#[derive(Default)]
pub struct Findings {
    pub violations: Vec<String>,
    pub checked: BTreeMap<&'static str, u64>,
    /// Writes whose outcome the client never learnt (their instance was killed).
    pub unknown: u64,
}

impl Findings {
    pub fn check(&mut self, invariant: &'static str, holds: bool, violation: impl FnOnce() -> String) {
        *self.checked.entry(invariant).or_default() += 1;
        if !holds {
            self.violations.push(format!("{invariant}: {}", violation()));
        }
    }
}

impl Ledger {
    pub fn push(&self, write: Write) {
        self.writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(write);
    }

    /// Checks every write against the database.
    pub async fn check(&self, db: &tokio_postgres::Client, findings: &mut Findings) -> anyhow::Result<()> {
        let writes = std::mem::take(
            &mut *self
                .writes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        // Top-level rows by memo, and split lines by their parent's memo.
        let counted = db
            .query(
                "SELECT coalesce(p.memo, t.memo) AS marker, \
                        count(*) FILTER (WHERE t.parent_id IS NULL) AS top, \
                        count(*) FILTER (WHERE t.parent_id IS NOT NULL) AS lines \
                 FROM transactions t LEFT JOIN transactions p ON p.id = t.parent_id \
                 WHERE coalesce(p.memo, t.memo) IS NOT NULL GROUP BY 1",
                &[],
            )
            .await?;
        let by_marker: HashMap<String, (i64, i64)> = counted
            .iter()
            .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2))))
            .collect();
        let deleted: BTreeSet<String> = db
            .query(
                "SELECT id::text FROM transactions WHERE deleted_at IS NOT NULL",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let assigned: HashMap<(String, String), i64> = db
            .query(
                "SELECT category_id::text, to_char(month, 'YYYY-MM'), assigned FROM budget_allocations",
                &[],
            )
            .await?
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect();
        let count = |marker: &str| by_marker.get(marker).copied().unwrap_or((0, 0));

        for write in writes {
            match write {
                Write::Create {
                    marker,
                    legs,
                    lines,
                    outcome,
                } => {
                    let found = count(&marker);
                    match &outcome {
                        Outcome::Answered(a) if a.ok() => findings.check(
                            "a write answered 2xx is there, once",
                            found == (legs, lines),
                            || format!("{marker}: {found:?} rows and lines, expected ({legs}, {lines})"),
                        ),
                        Outcome::Answered(a) => findings.check(
                            "a write answered with an error left no trace",
                            found == (0, 0),
                            || format!("{marker} answered {} but left {found:?}", a.status),
                        ),
                        Outcome::Unknown => {
                            findings.unknown += 1;
                            findings.check(
                                "a write whose answer was lost is whole or absent",
                                found == (0, 0) || found == (legs, lines),
                                || format!("{marker}: {found:?}, expected none or ({legs}, {lines})"),
                            );
                        }
                    }
                }
                Write::Bulk {
                    marker,
                    items,
                    outcome,
                } => {
                    let prefix = format!("{marker}/");
                    let found: i64 = by_marker
                        .iter()
                        .filter(|(m, _)| m.starts_with(&prefix))
                        .map(|(_, (top, _))| top)
                        .sum();
                    match &outcome {
                        Outcome::Answered(a) if a.ok() => {
                            let stored = a.body["transactions"].as_array().map_or(0, Vec::len);
                            let skipped = a.body["duplicate_import_ids"].as_array().map_or(0, Vec::len);
                            findings.check(
                                "a write answered 2xx is there, once",
                                found == stored as i64 && stored + skipped == items,
                                || format!("{marker}: {found} rows for {stored} stored + {skipped} skipped of {items}"),
                            );
                        }
                        Outcome::Answered(a) => {
                            findings.check("a write answered with an error left no trace", found == 0, || {
                                format!("{marker} answered {} but left {found} rows", a.status)
                            })
                        }
                        Outcome::Unknown => findings.unknown += 1,
                    }
                }
                Write::Delete { id, outcome } => {
                    if outcome.ok() {
                        findings.check(
                            "a write answered 2xx is there, once",
                            deleted.contains(&id),
                            || format!("transaction {id} was deleted (204) but is live"),
                        );
                    } else if outcome.answer().is_none() {
                        findings.unknown += 1;
                    }
                }
                Write::PatchRace { id, outcomes } => {
                    let winners = outcomes.iter().filter(|o| o.ok()).count();
                    findings.check(
                        "racing PATCHes with one If-Match: at most one wins",
                        winners <= 1,
                        || format!("{winners} PATCHes of {id} with the same If-Match answered 2xx"),
                    );
                }
                Write::AssignRace {
                    category,
                    month,
                    amounts,
                } => {
                    let stored = assigned.get(&(category.clone(), month.clone())).copied();
                    let possible: Vec<i64> = amounts
                        .iter()
                        .filter(|(_, o)| o.ok() || o.answer().is_none())
                        .map(|(amount, _)| *amount)
                        .collect();
                    let refused: Vec<i64> = amounts
                        .iter()
                        .filter(|(_, o)| o.answer().is_some_and(|a| !a.ok()))
                        .map(|(amount, _)| *amount)
                        .collect();
                    if amounts.iter().any(|(_, o)| o.ok()) {
                        // Later races on the same cell may have overwritten it; it is then theirs.
                        findings.check(
                            "an assignment race leaves one of its answered amounts",
                            stored.is_some_and(|s| !refused.contains(&s)),
                            || format!("{category} {month}: stored {stored:?}, refused {refused:?}, possible {possible:?}"),
                        );
                    }
                }
                Write::RefreshRace { outcomes } => {
                    let winners = outcomes.iter().filter(|o| o.ok()).count();
                    let unknown = outcomes.iter().any(|o| o.answer().is_none());
                    findings.check(
                        "a raced refresh rotation has exactly one winner",
                        winners == 1 || (winners == 0 && unknown),
                        || format!("{winners} winners among {} racers", outcomes.len()),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The id of a created transaction in an answer.
pub fn id_of(body: &Value) -> Option<String> {
    body["id"].as_str().map(str::to_owned)
}
