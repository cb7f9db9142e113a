//! Tenant isolation under load: a phone tries another household's rows, in a body and in a path,
//! and must be answered as for ids that do not exist.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rand::seq::IndexedRandom;
use serde_json::json;

use super::client::Call;
use super::household::Household;
use super::workload::{Phone, Shared, pick};

impl Shared {
    /// Notes an answer to another household's id that was not the one for an unknown id.
    fn leak(&self, what: String) {
        self.leaks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(what);
    }
}

impl Phone {
    /// Tries another household's rows: its category in a new transaction's body (422, and no
    /// trace of it), and its transaction in a path (404, as an unknown id).
    pub(super) async fn foreign(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let others: Vec<&Arc<Household>> = shared
            .households
            .iter()
            .filter(|h| !Arc::ptr_eq(h, &self.household))
            .collect();
        let Some(other) = others.choose(&mut rand::rng()).copied() else {
            return Ok(());
        };
        shared.foreign_tries.fetch_add(1, Ordering::Relaxed);
        let marker = self.key(shared);
        let category = pick(&other.categories);
        let body = json!({
            "account_id": self.household.accounts[0].id, "date": self.date(), "memo": marker,
            "amount": -1_000, "category_id": category,
        });
        let outcome = self.create_one(shared, body, marker, 1, 0).await?;
        if let Some(answer) = outcome.answer().filter(|a| a.status != 422) {
            shared.leak(format!(
                "another household's category in a body answered {}",
                answer.status
            ));
        }

        let theirs = other.members[0].access();
        let list = Call::new("GET", "/transactions").token(&theirs).query("limit", 5);
        let Some(id) = shared.client.send(&list).await?.answer().and_then(|a| {
            a.body["transactions"].as_array()?.first()?["id"]
                .as_str()
                .map(str::to_owned)
        }) else {
            return Ok(());
        };
        let read = Call::new("GET", format!("/transactions/{id}")).token(&self.me().access());
        if let Some(answer) = shared
            .client
            .send(&read)
            .await?
            .answer()
            .filter(|a| a.status != 404)
        {
            shared.leak(format!(
                "another household's transaction {id} answered {}",
                answer.status
            ));
        }
        Ok(())
    }
}
