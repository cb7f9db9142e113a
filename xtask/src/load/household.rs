//! Setting up the households the load runs on: an owner who registers, members who join by
//! invitation, accounts on and off budget, and categories.

use std::sync::Mutex;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::client::{Call, Client, Outcome};

pub const PASSWORD: &str = "correct horse battery";

/// A signed-in member: the tokens of their session.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
}

impl Session {
    fn of(body: &Value) -> anyhow::Result<Self> {
        let text = |name: &str| {
            body[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("a session answer without {name}: {body}"))
        };
        Ok(Self {
            access: text("access_token")?,
            refresh: text("refresh_token")?,
        })
    }
}

pub struct Member {
    pub email: String,
    pub session: Mutex<Session>,
}

impl Member {
    pub fn access(&self) -> String {
        self.session().access
    }

    pub fn session(&self) -> Session {
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn replace_session(&self, session: Session) {
        *self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = session;
    }

    /// Signs in again (after a raced rotation revoked the session's family). A sign-in whose
    /// instance was killed is tried again after a growing pause; `false` when every try was lost
    /// (at a harsh fault rate that is an outcome to count, not a failure of the run).
    pub async fn login(&self, client: &Client) -> anyhow::Result<bool> {
        let call = Call::new("POST", "/auth/login").body(json!({"email": self.email, "password": PASSWORD}));
        for attempt in 0..5_u32 {
            let outcome = client.send(&call).await?;
            if outcome.answer().is_some() {
                let body = expect(outcome, 200, "login")?;
                self.replace_session(Session::of(&body)?);
                return Ok(true);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
        Ok(false)
    }
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub on_budget: bool,
}

pub struct Household {
    pub id: String,
    pub members: Vec<Member>,
    pub accounts: Vec<Account>,
    pub categories: Vec<String>,
    /// The months transactions are dated in and assigned to, `YYYY-MM`.
    pub months: Vec<String>,
}

/// The body of an answer that must be `status`; setup has no use for anything else.
pub fn expect(outcome: Outcome, status: u16, what: &str) -> anyhow::Result<Value> {
    match outcome {
        Outcome::Answered(answer) if answer.status == status => Ok(answer.body),
        Outcome::Answered(answer) => bail!("{what} answered {}: {}", answer.status, answer.text),
        Outcome::Unknown => bail!("{what} never got an answer"),
    }
}

/// Registers household `index` with `members` members, and sets up its accounts and categories.
pub async fn set_up(
    client: &Client,
    run: &str,
    index: usize,
    members: usize,
    months: &[String],
) -> anyhow::Result<Household> {
    let email = |n: usize| format!("load-{run}-{index}-{n}@example.com");
    let register = |email: String, invitation: Option<String>| {
        let mut body = json!({"email": email, "password": PASSWORD, "display_name": "Load"});
        if let Some(token) = invitation {
            body["invitation_token"] = json!(token);
        }
        Call::new("POST", "/auth/register").body(body)
    };
    let owner_body = expect(client.send(&register(email(0), None)).await?, 201, "register")?;
    let id = owner_body["household_id"]
        .as_str()
        .context("a registration without household_id")?
        .to_owned();
    let owner = Member {
        email: email(0),
        session: Mutex::new(Session::of(&owner_body)?),
    };
    let token = owner.access();
    let mut joined = vec![owner];
    for n in 1..members {
        let invite = Call::new("POST", "/household/invitations")
            .token(&token)
            .key(format!("{run}-invite-{index}-{n}"))
            .body(json!({"email": email(n), "role": "member"}));
        let invitation = expect(client.send(&invite).await?, 201, "invite")?;
        let invitation = invitation["invitation_token"].as_str().map(str::to_owned);
        let body = expect(client.send(&register(email(n), invitation)).await?, 201, "join")?;
        joined.push(Member {
            email: email(n),
            session: Mutex::new(Session::of(&body)?),
        });
    }

    let mut accounts = Vec::new();
    let plans = [
        json!({"name": "Checking", "kind": "checking", "opening_balance": 5_000_000}),
        json!({"name": "Savings", "kind": "savings", "opening_balance": 1_000_000}),
        json!({"name": "Brokerage", "kind": "investment", "on_budget": false, "opening_balance": 2_000_000}),
    ];
    for (n, plan) in plans.into_iter().enumerate() {
        let on_budget = plan["on_budget"].as_bool().unwrap_or(true);
        let call = Call::new("POST", "/accounts")
            .token(&token)
            .key(format!("{run}-account-{index}-{n}"))
            .body(plan);
        let body = expect(client.send(&call).await?, 201, "create an account")?;
        let id = body["id"].as_str().context("an account without id")?.to_owned();
        accounts.push(Account { id, on_budget });
    }

    let group = Call::new("POST", "/category-groups")
        .token(&token)
        .key(format!("{run}-group-{index}"))
        .body(json!({"name": "Load test"}));
    let group = expect(client.send(&group).await?, 201, "create a category group")?;
    let group = group["id"].as_str().context("a group without id")?.to_owned();
    let mut categories = Vec::new();
    for (n, name) in ["Groceries", "Rent", "Fun", "Gifts"].into_iter().enumerate() {
        let call = Call::new("POST", "/categories")
            .token(&token)
            .key(format!("{run}-category-{index}-{n}"))
            .body(json!({"category_group_id": group, "name": name}));
        let body = expect(client.send(&call).await?, 201, "create a category")?;
        categories.push(body["id"].as_str().context("a category without id")?.to_owned());
    }
    Ok(Household {
        id,
        members: joined,
        accounts,
        categories,
        months: months.to_vec(),
    })
}
