//! Members come and go under load: a household's owner invites a visitor, who registers and
//! records a transaction while, at the same moment, the owner removes them or they accept another
//! household's invitation. The token they had must be refused by the next request (after joining,
//! the new one works in the new household), and a transaction of theirs that got in must stay,
//! under their name (a former member's record), while the books still add up.

use std::sync::atomic::Ordering;

use rand::seq::IndexedRandom;
use serde_json::json;

use super::client::{Call, Outcome};
use super::household::PASSWORD;
use super::ledger::{Write, id_of};
use super::workload::{Phone, Shared};

/// The rule the visits check, as the report names it.
pub const RULE: &str = "a member removed or gone elsewhere during writes is refused at once, and their transactions keep their name";

/// What a visitor is called, to find it again on their transactions.
const VISITOR: &str = "Visitor";

impl Shared {
    fn removal_finding(&self, what: String) {
        self.removal_findings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(what);
    }
}

impl Phone {
    /// Half the time, another household's owner invites `email`: that household's id and the
    /// token (none when that owner's session is just being renewed).
    async fn invitation_elsewhere(
        &self,
        shared: &Shared,
        email: &str,
    ) -> anyhow::Result<Option<(String, String)>> {
        let others: Vec<_> = shared
            .households
            .iter()
            .filter(|h| !std::sync::Arc::ptr_eq(h, &self.household))
            .collect();
        let Some(other) = others
            .choose(&mut rand::rng())
            .filter(|_| rand::random_range(0..2) == 0)
        else {
            return Ok(None);
        };
        let invite = Call::new("POST", "/household/invitations")
            .token(&other.members[0].access())
            .body(json!({"email": email, "role": "member"}));
        let answer = shared.client.send(&invite).await?;
        let token = answer
            .answer()
            .filter(|a| a.status == 201)
            .and_then(|a| a.body["invitation_token"].as_str().map(str::to_owned));
        Ok(token.map(|token| (other.id.clone(), token)))
    }

    /// A visit, by the owner's phone (the others sync instead). Faults are part of the load: a
    /// visit whose set-up got no answer ends there.
    pub(super) async fn visit(&mut self, shared: &Shared) -> anyhow::Result<()> {
        if self.member != 0 {
            return self.copy.sync(&shared.client, &self.me().access()).await;
        }
        let number = shared.removals.fetch_add(1, Ordering::Relaxed);
        let email = format!("visitor-{}-{number}@example.com", shared.run);
        let owner = self.me().access();
        let invite = Call::new("POST", "/household/invitations")
            .token(&owner)
            .key(self.key(shared))
            .body(json!({"email": email, "role": "member"}));
        let invited = shared.client.send(&invite).await?;
        let Some(token) = invited
            .answer()
            .filter(|a| a.status == 201)
            .and_then(|a| a.body["invitation_token"].as_str().map(str::to_owned))
        else {
            return Ok(());
        };
        let register = Call::new("POST", "/auth/register").body(json!({
            "email": email, "password": PASSWORD, "display_name": VISITOR, "invitation_token": token,
        }));
        let registered = shared.client.send(&register).await?;
        let Some(visitor) = registered
            .answer()
            .filter(|a| a.status == 201)
            .map(|a| a.body.clone())
        else {
            return Ok(());
        };
        let (Some(access), Some(user)) = (visitor["access_token"].as_str(), visitor["user_id"].as_str())
        else {
            anyhow::bail!("a registration without a session: {visitor}");
        };

        let marker = self.key(shared);
        let spend = Call::new("POST", "/transactions")
            .token(access)
            .key(self.key(shared))
            .body(json!({
                "account_id": self.household.accounts[0].id, "date": self.date(), "memo": marker,
                "amount": -rand::random_range(1_000..90_000_i64), "category_id": super::workload::pick(&self.household.categories),
            }));
        let elsewhere = self.invitation_elsewhere(shared, &email).await?;
        let leave = match &elsewhere {
            Some((_, token)) => Call::new("POST", "/invitations/accept")
                .token(access)
                .body(json!({"invitation_token": token})),
            None => Call::new("DELETE", format!("/household/members/{user}"))
                .token(&owner)
                .key(self.key(shared)),
        };
        let mut outcomes = shared.client.send_all([&spend, &leave]).await?.into_iter();
        let (Some(spent), Some(left)) = (outcomes.next(), outcomes.next()) else {
            anyhow::bail!("two calls sent, fewer answers");
        };
        let created = spent.answer().filter(|a| a.ok()).and_then(|a| id_of(&a.body));
        // A retry of the visitor's write after they left answers 401 whether or not its first
        // try got in (their keys went with them): the ledger then only knows "whole or absent".
        let spent = match spent {
            Outcome::Answered(a) if a.status == 401 => Outcome::Unknown,
            other => other,
        };
        shared.ledger.push(Write::Create {
            marker,
            legs: 1,
            lines: 0,
            outcome: spent,
        });
        // An acceptance whose instance died has no answer to check (it takes no key).
        let Some(left) = left.answer() else {
            return Ok(());
        };
        let expected = if elsewhere.is_some() { 201 } else { 204 };
        if left.status != expected {
            shared.removal_finding(format!(
                "{} {} answered {} {}",
                leave.method, leave.path, left.status, left.text
            ));
            return Ok(());
        }
        let me = Call::new("GET", "/me").token(access);
        if let Some(answer) = shared
            .client
            .send(&me)
            .await?
            .answer()
            .filter(|a| a.status != 401)
        {
            shared.removal_finding(format!(
                "a departed member's old token answered {}",
                answer.status
            ));
        }
        if let Some((household, _)) = &elsewhere {
            let token = left.body["access_token"].as_str().unwrap_or_default();
            let me = Call::new("GET", "/me").token(token);
            let answer = shared.client.send(&me).await?;
            let joined = answer
                .answer()
                .map(|a| (a.status, a.body["household_id"].clone()));
            if joined
                .as_ref()
                .is_some_and(|(status, id)| *status != 200 || id != household)
            {
                shared.removal_finding(format!("a member who joined elsewhere reads {joined:?}"));
            }
        }
        if let Some(id) = created {
            let read = Call::new("GET", format!("/transactions/{id}")).token(&self.me().access());
            if let Some(answer) = shared.client.send(&read).await?.answer() {
                let kept = answer.status == 200 && answer.body["recorded_by_name"] == VISITOR;
                if !kept {
                    shared.removal_finding(format!(
                        "a removed member's transaction {id} answered {} {}",
                        answer.status, answer.text
                    ));
                }
            }
        }
        Ok(())
    }
}
