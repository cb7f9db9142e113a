//! Each month's figures recomputed from the rows, month by month as the rules read
//! (functions/src/months/mod.rs), not with the API's window functions: for a category `c`,
//! `available(c, m) = max(available(c, m − 1), 0) + assigned(c, m) + activity(c, m)`, and
//! `ready_to_assign(m)` = income up to `m` − assigned up to `m` − overspending before `m`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::ledger::Findings;

/// A household's budget rows: (category, month) → activity or assigned, and income by month.
#[derive(Default)]
pub struct Rows {
    activity: HashMap<(String, String), i64>,
    assigned: HashMap<(String, String), i64>,
    income: BTreeMap<String, i64>,
    categories: BTreeSet<String>,
    months: BTreeSet<String>,
}

impl Rows {
    pub async fn read(db: &tokio_postgres::Client, household: &str) -> anyhow::Result<Self> {
        let mut rows = Self::default();
        // Live rows on on-budget accounts: split lines are rows of their own, with a category.
        let lines = db
            .query(
                "SELECT t.category_id::text, t.amount, to_char(t.date, 'YYYY-MM'), \
                        EXISTS (SELECT 1 FROM transactions l WHERE l.parent_id = t.id AND l.deleted_at IS NULL), \
                        EXISTS (SELECT 1 FROM transactions o JOIN accounts oa ON oa.id = o.account_id \
                                WHERE o.id = t.transfer_transaction_id AND o.deleted_at IS NULL AND oa.on_budget) \
                 FROM transactions t JOIN accounts a ON a.id = t.account_id \
                 WHERE t.household_id = $1::text::uuid AND a.on_budget AND t.deleted_at IS NULL",
                &[&household],
            )
            .await?;
        for line in lines {
            let (category, amount, month): (Option<String>, i64, String) =
                (line.get(0), line.get(1), line.get(2));
            let (split, from_budget): (bool, bool) = (line.get(3), line.get(4));
            rows.months.insert(month.clone());
            match category {
                Some(category) => *rows.activity.entry((category, month)).or_default() += amount,
                None if amount > 0 && !split && !from_budget => {
                    *rows.income.entry(month).or_default() += amount
                }
                None => {}
            }
        }
        let allocations = db
            .query(
                "SELECT category_id::text, to_char(month, 'YYYY-MM'), assigned FROM budget_allocations \
                 WHERE household_id = $1::text::uuid",
                &[&household],
            )
            .await?;
        for allocation in allocations {
            let month: String = allocation.get(1);
            rows.months.insert(month.clone());
            *rows.assigned.entry((allocation.get(0), month)).or_default() += allocation.get::<_, i64>(2);
        }
        let categories = db
            .query(
                "SELECT id::text FROM categories WHERE household_id = $1::text::uuid",
                &[&household],
            )
            .await?;
        rows.categories = categories.iter().map(|r| r.get(0)).collect();
        Ok(rows)
    }

    /// Compares the API's `GET /months/{month}` answer with the recomputation.
    pub fn compare(&self, month: &str, answer: &Value, findings: &mut Findings) {
        let previous = previous_month(month);
        let mut months: Vec<&String> = self.months.iter().filter(|m| m.as_str() <= month).collect();
        let this = month.to_owned();
        if !months.contains(&&this) {
            months.push(&this);
        }
        months.sort();
        let cell = |map: &HashMap<(String, String), i64>, c: &str, m: &str| {
            map.get(&(c.to_owned(), m.to_owned())).copied().unwrap_or(0)
        };
        let mut ready: i64 = self.income.range(..=this.clone()).map(|(_, v)| v).sum();
        let mut overspent_last_month = 0;
        let mut expected: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
        for category in &self.categories {
            let mut available = 0_i64;
            for m in &months {
                let (assigned, activity) = (
                    cell(&self.assigned, category, m),
                    cell(&self.activity, category, m),
                );
                available = available.max(0) + assigned + activity;
                ready -= assigned;
                if m.as_str() < month {
                    ready -= (-available).max(0);
                }
                if Some(m.as_str()) == previous.as_deref() {
                    overspent_last_month += (-available).max(0);
                }
                if m.as_str() == month {
                    expected.insert(category, (assigned, activity, available));
                }
            }
        }
        let figure = |name: &str| answer[name].as_i64();
        let income = self.income.get(month).copied().unwrap_or(0);
        let assigned: i64 = expected.values().map(|e| e.0).sum();
        let activity: i64 = expected.values().map(|e| e.1).sum();
        for (name, value) in [
            ("ready_to_assign", ready),
            ("income", income),
            ("overspent_last_month", overspent_last_month),
            ("assigned", assigned),
            ("activity", activity),
        ] {
            findings.check(
                "a month's figures equal a recomputation from the rows",
                figure(name) == Some(value),
                || {
                    format!(
                        "{month} {name}: the API answers {:?}, the rows give {value}",
                        figure(name)
                    )
                },
            );
        }
        let answered: BTreeMap<&str, Figures> = answer["categories"]
            .as_array()
            .map(|categories| {
                categories
                    .iter()
                    .map(|c| {
                        let id = c["category_id"].as_str().unwrap_or_default();
                        (
                            id,
                            (
                                c["assigned"].as_i64(),
                                c["activity"].as_i64(),
                                c["available"].as_i64(),
                            ),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        findings.check(
            "a month lists every category",
            answered.len() == expected.len(),
            || {
                format!(
                    "{month}: {} categories answered, {} exist",
                    answered.len(),
                    expected.len()
                )
            },
        );
        for (category, (assigned, activity, available)) in expected {
            let got = answered.get(category).copied();
            findings.check(
                "a category's month equals a recomputation from the rows",
                got == Some((Some(assigned), Some(activity), Some(available))),
                || format!("{month} {category}: the API answers {got:?}, the rows give ({assigned}, {activity}, {available})"),
            );
        }
    }
}

/// A category's assigned, activity and available as the API answered them.
type Figures = (Option<i64>, Option<i64>, Option<i64>);

/// `YYYY-MM` of the month before.
fn previous_month(month: &str) -> Option<String> {
    let (year, number) = month.split_once('-')?;
    let (year, number): (i32, u32) = (year.parse().ok()?, number.parse().ok()?);
    Some(if number == 1 {
        format!("{}-12", year - 1)
    } else {
        format!("{year}-{:02}", number - 1)
    })
}
