//! What each member's phone does while the load runs: a random mix of writes and reads on its
//! household, many of them racing the other members', each write with an `Idempotency-Key`, and
//! some sent twice as if the first answer had been lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use super::client::{Call, Client, Outcome};
use super::household::{Household, Member};
use super::ledger::{Ledger, Write, id_of};
use super::sync_copy::Copy;
use super::take_one;

/// What every member shares.
pub struct Shared {
    pub client: Client,
    pub ledger: Ledger,
    pub run: String,
    pub until: Instant,
    /// Requests the clients may still start.
    pub budget: AtomicU64,
    /// Writes sent again with their key after a pretended lost answer, and replays that differed.
    pub replays: AtomicU64,
    pub replay_mismatches: std::sync::Mutex<Vec<String>>,
    /// Keyed writes sent again by another member of the household with the same key, and the
    /// answers that were not a plain 409 (a repeated answer, or a write).
    pub cross_member_tries: AtomicU64,
    pub cross_member_leaks: std::sync::Mutex<Vec<String>>,
    /// Every household, for phones to try other households' ids.
    pub households: Vec<Arc<Household>>,
    /// Answers to another household's ids that were not 404 (reads) or 422 (bodies).
    pub leaks: std::sync::Mutex<Vec<String>>,
    pub foreign_tries: AtomicU64,
    /// Visitors removed while writing (see `churn`), and what went wrong with them.
    pub removals: AtomicU64,
    pub removal_findings: std::sync::Mutex<Vec<String>>,
    /// Sign-ins whose every try was lost to faults (the phone tries again on its next turn).
    pub sign_ins_lost: AtomicU64,
}

/// One member's phone.
pub struct Phone {
    pub household: Arc<Household>,
    pub member: usize,
    sequence: u64,
    /// Transactions this phone created (not splits), to edit and delete.
    mine: Vec<String>,
    pub copy: Copy,
    /// Its session was revoked and signing in again has not worked yet.
    pub signed_out: bool,
}

impl Phone {
    pub fn new(household: Arc<Household>, member: usize) -> Self {
        Self {
            household,
            member,
            sequence: 0,
            mine: Vec::new(),
            copy: Copy::default(),
            signed_out: false,
        }
    }

    pub(super) fn me(&self) -> &Member {
        &self.household.members[self.member]
    }

    pub(super) fn key(&mut self, shared: &Shared) -> String {
        self.sequence += 1;
        format!("{}-{}-{}", shared.run, self.me().email, self.sequence)
    }

    fn month(&self) -> String {
        pick(&self.household.months)
    }

    pub(super) fn date(&self) -> String {
        format!("{}-{:02}", self.month(), rand::random_range(1..=28))
    }

    fn category(&self) -> String {
        pick(&self.household.categories)
    }

    /// Runs until the time or the request budget is spent.
    pub async fn run(mut self, shared: &Shared) -> anyhow::Result<Self> {
        self.copy.sync(&shared.client, &self.me().access()).await?;
        while Instant::now() < shared.until && take_one(&shared.budget) {
            if self.signed_out {
                self.sign_in(shared).await?;
                continue;
            }
            match rand::random_range(0..100) {
                0..20 => self.create(shared).await?,
                20..28 => self.transfer(shared).await?,
                28..35 => self.split(shared).await?,
                35..41 => self.import(shared).await?,
                41..50 => self.patch_race(shared).await?,
                50..55 => self.delete(shared).await?,
                55..65 => self.assign_race(shared).await?,
                65..73 => self.read_month(shared).await?,
                73..76 => self.foreign(shared).await?,
                76..94 => self.copy.sync(&shared.client, &self.me().access()).await?,
                94..96 => self.visit(shared).await?,
                _ => self.refresh_race(shared).await?,
            }
        }
        Ok(self)
    }

    /// Sends a keyed write; a quarter of them are sent again as if the answer had been lost, and
    /// the second answer must be the first, replayed.
    async fn write(&self, shared: &Shared, call: Call) -> anyhow::Result<Outcome> {
        let outcome = shared.client.send(&call).await?;
        let Outcome::Answered(first) = &outcome else {
            return Ok(outcome);
        };
        if first.ok() && rand::random_range(0..8) == 0 && take_one(&shared.budget) {
            self.steal_key(shared, &call).await?;
        }
        if rand::random_range(0..4) == 0 && take_one(&shared.budget) {
            shared.replays.fetch_add(1, Ordering::Relaxed);
            if let Outcome::Answered(again) = shared.client.send(&call).await? {
                let replayed = again.header("idempotent-replayed") == Some("true");
                // An answer refused before the database (a malformed body) has no record: its
                // repeat is answered the same, afresh.
                if again.status != first.status || again.text != first.text || (first.ok() && !replayed) {
                    let mut mismatches = shared
                        .replay_mismatches
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    mismatches.push(format!(
                        "{} {} answered {} {} then {} {} (replayed: {replayed})",
                        call.method, call.path, first.status, first.text, again.status, again.text
                    ));
                }
            }
        }
        Ok(outcome)
    }

    /// Another member of the household sends `call` with its key: a key belongs to its sender,
    /// so the answer must be 409, never the kept answer, and nothing may be written (the ledger's
    /// "there once" checks catch a second write).
    async fn steal_key(&self, shared: &Shared, call: &Call) -> anyhow::Result<()> {
        let others: Vec<usize> = (0..self.household.members.len())
            .filter(|m| *m != self.member)
            .collect();
        let Some(&other) = others.choose(&mut rand::rng()) else {
            return Ok(());
        };
        shared.cross_member_tries.fetch_add(1, Ordering::Relaxed);
        let stolen = call.clone().token(&self.household.members[other].access());
        let Outcome::Answered(answer) = shared.client.send(&stolen).await? else {
            return Ok(());
        };
        // 409 is the answer. 401: the other member's session just ended (their phone raced two
        // refreshes and is signing in again), so nothing ran for them either. 503: a fault. Any
        // other answer, or a repeated one, leaks the key's record to someone else.
        let refused = matches!(answer.status, 409 | 401 | 503);
        if !refused || answer.header("idempotent-replayed").is_some() {
            let mut leaks = shared
                .cross_member_leaks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            leaks.push(format!(
                "{} {} answered another member {} {}",
                call.method, call.path, answer.status, answer.text
            ));
        }
        Ok(())
    }

    fn post(&mut self, shared: &Shared, path: &str, body: Value) -> Call {
        let key = self.key(shared);
        Call::new("POST", path)
            .token(&self.me().access())
            .key(key)
            .body(body)
    }

    async fn create(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let marker = self.key(shared);
        let on_budget: Vec<_> = self.household.accounts.iter().filter(|a| a.on_budget).collect();
        let account = on_budget
            .choose(&mut rand::rng())
            .map(|a| a.id.clone())
            .unwrap_or_default();
        let income = rand::random_range(0..5) == 0;
        let mut body = json!({
            "account_id": account, "date": self.date(), "memo": marker,
            "payee_name": format!("Shop {}", rand::random_range(0..6)),
        });
        if income {
            body["amount"] = json!(rand::random_range(100_000..2_000_000_i64));
        } else {
            body["amount"] = json!(-rand::random_range(1_000..300_000_i64));
            body["category_id"] = json!(self.category());
        }
        self.create_one(shared, body, marker, 1, 0).await.map(drop)
    }

    /// Posts one transaction whose memo is `marker` (`legs` rows, `lines` split lines), keeps it
    /// to edit later unless it is a split, and records it in the ledger.
    pub(super) async fn create_one(
        &mut self,
        shared: &Shared,
        body: Value,
        marker: String,
        legs: i64,
        lines: i64,
    ) -> anyhow::Result<Outcome> {
        let call = self.post(shared, "/transactions", body);
        let outcome = self.write(shared, call).await?;
        let created = outcome.answer().filter(|a| a.ok()).and_then(|a| id_of(&a.body));
        if let Some(id) = created.filter(|_| lines == 0) {
            self.mine.push(id);
        }
        shared.ledger.push(Write::Create {
            marker,
            legs,
            lines,
            outcome: outcome.clone(),
        });
        Ok(outcome)
    }

    async fn transfer(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let marker = self.key(shared);
        let mut accounts = self.household.accounts.clone();
        let from = accounts.swap_remove(rand::random_range(0..accounts.len()));
        let to = accounts.swap_remove(rand::random_range(0..accounts.len()));
        let mut body = json!({
            "account_id": from.id, "transfer_account_id": to.id, "date": self.date(),
            "amount": -rand::random_range(1_000..500_000_i64), "memo": marker,
        });
        // Money leaving the budget is spending, and has a category.
        if from.on_budget && !to.on_budget {
            body["category_id"] = json!(self.category());
        }
        self.create_one(shared, body, marker, 2, 0).await.map(drop)
    }

    async fn split(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let marker = self.key(shared);
        let lines: Vec<i64> = (0..rand::random_range(2..=3))
            .map(|_| -rand::random_range(1_000..90_000_i64))
            .collect();
        let subtransactions: Vec<Value> = lines
            .iter()
            .map(|amount| json!({"amount": amount, "category_id": self.category()}))
            .collect();
        let body = json!({
            "account_id": self.household.accounts[0].id, "date": self.date(), "memo": marker,
            "amount": lines.iter().sum::<i64>(), "subtransactions": subtransactions,
        });
        let lines = i64::try_from(lines.len()).unwrap_or(0);
        self.create_one(shared, body, marker, 1, lines).await.map(drop)
    }

    /// A bank export: import ids from a pool the household's phones share, so they overlap.
    async fn import(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let marker = self.key(shared);
        let items = rand::random_range(10..=40);
        let mut ids: Vec<u32> = (0..items).map(|_| rand::random_range(0..400)).collect();
        ids.sort_unstable();
        ids.dedup();
        let transactions: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, n)| {
                json!({
                    "account_id": self.household.accounts[0].id, "date": self.date(),
                    "amount": -rand::random_range(100..50_000_i64), "import_id": format!("bank-{n}"),
                    "memo": format!("{marker}/{i}"), "category_id": self.category(),
                })
            })
            .collect();
        let call = self.post(shared, "/transactions", json!({"transactions": transactions}));
        let outcome = self.write(shared, call).await?;
        shared.ledger.push(Write::Bulk {
            marker,
            items: ids.len(),
            outcome,
        });
        Ok(())
    }

    /// Two or three phones edit one transaction from the same version.
    async fn patch_race(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let Some(id) = self.mine.choose(&mut rand::rng()).cloned() else {
            return self.create(shared).await;
        };
        let path = format!("/transactions/{id}");
        let read = shared
            .client
            .send(&Call::new("GET", &path).token(&self.me().access()))
            .await?;
        let Some(tag) = read
            .answer()
            .filter(|a| a.status == 200)
            .and_then(|a| a.header("etag"))
            .map(str::to_owned)
        else {
            return Ok(());
        };
        let access = self.me().access();
        let mut racers = Vec::new();
        for _ in 0..rand::random_range(2..=3) {
            let call = Call::new("PATCH", &path)
                .token(&access)
                .key(self.key(shared))
                .if_match(Some(&tag))
                .body(json!({"amount": -rand::random_range(1_000..300_000_i64), "cleared": "cleared"}));
            racers.push(call);
        }
        let outcomes = shared.client.send_all(&racers).await?;
        shared.ledger.push(Write::PatchRace { id, outcomes });
        Ok(())
    }

    async fn delete(&mut self, shared: &Shared) -> anyhow::Result<()> {
        if self.mine.is_empty() {
            return Ok(());
        }
        let id = self.mine.swap_remove(rand::random_range(0..self.mine.len()));
        let key = self.key(shared);
        let call = Call::new("DELETE", format!("/transactions/{id}"))
            .token(&self.me().access())
            .key(key);
        let outcome = self.write(shared, call).await?;
        shared.ledger.push(Write::Delete { id, outcome });
        Ok(())
    }

    /// Two or three phones assign different amounts to one category in one month at once.
    async fn assign_race(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let (category, month) = (self.category(), self.month());
        let path = format!("/months/{month}/categories/{category}");
        let access = self.me().access();
        let mut racers = Vec::new();
        for _ in 0..rand::random_range(2..=3) {
            let amount = rand::random_range(0..1_000_000_i64);
            let call = Call::new("PUT", &path)
                .token(&access)
                .key(self.key(shared))
                .body(json!({"assigned": amount}));
            racers.push((amount, call));
        }
        let outcomes = shared
            .client
            .send_all(racers.iter().map(|(_, call)| call))
            .await?;
        let amounts = racers.iter().map(|(amount, _)| *amount).zip(outcomes).collect();
        shared.ledger.push(Write::AssignRace {
            category,
            month,
            amounts,
        });
        Ok(())
    }

    async fn read_month(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let call = Call::new("GET", format!("/months/{}", self.month())).token(&self.me().access());
        shared.client.send(&call).await?;
        Ok(())
    }

    /// The phone rotates its refresh token twice at once (a retry racing the first try).
    async fn refresh_race(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let token = self.me().session().refresh;
        let call = Call::new("POST", "/auth/refresh").body(json!({"refresh_token": token}));
        let outcomes = shared.client.send_all([&call, &call]).await?;
        // The loser presented a rotated token: reuse, so the family is revoked. Sign in again.
        shared.ledger.push(Write::RefreshRace { outcomes });
        self.sign_in(shared).await
    }

    /// Signs in again; a sign-in lost to faults is counted, and tried again on the next turn.
    pub async fn sign_in(&mut self, shared: &Shared) -> anyhow::Result<()> {
        self.signed_out = !self.me().login(&shared.client).await?;
        if self.signed_out {
            shared.sign_ins_lost.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// One of `items` at random (set-up made every list the phones pick from non-empty).
pub(super) fn pick(items: &[String]) -> String {
    items.choose(&mut rand::rng()).cloned().unwrap_or_default()
}
