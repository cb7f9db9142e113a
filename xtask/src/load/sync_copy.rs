//! A phone's offline copy, kept with delta sync (`?last_knowledge_of_server=`): read whole once,
//! then only what changed, deletions as tombstones. At the end it must equal a fresh full read.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::{Call, Client, Outcome};

/// The lists a phone keeps: path, and the field of the answer that holds the rows.
const LISTS: [(&str, &str); 3] = [
    ("/accounts", "accounts"),
    ("/payees", "payees"),
    ("/transactions", "transactions"),
];

#[derive(Default)]
struct List {
    knowledge: Option<i64>,
    rows: BTreeMap<String, Value>,
}

#[derive(Default)]
pub struct Copy {
    lists: BTreeMap<&'static str, List>,
    pub delta_reads: u64,
}

/// Every row of `path` (walking the pages), changed after `since` when given, and the
/// `server_knowledge` the walk answered; `None` when a page did not answer 200 (try later).
async fn read(
    client: &Client,
    token: &str,
    path: &str,
    field: &str,
    since: Option<i64>,
) -> anyhow::Result<Option<(Vec<Value>, i64)>> {
    let mut rows = Vec::new();
    let mut knowledge = None;
    let mut cursor: Option<String> = None;
    loop {
        let mut call = Call::new("GET", path).token(token);
        if let Some(since) = since {
            call = call.query("last_knowledge_of_server", since);
        }
        if path == "/accounts" {
            call = call.query("include_closed", "true");
        }
        if path == "/transactions" {
            call = call.query("limit", 500);
        }
        if let Some(cursor) = &cursor {
            call = call.query("cursor", cursor);
        }
        let Outcome::Answered(answer) = client.send(&call).await? else {
            return Ok(None);
        };
        if answer.status != 200 {
            return Ok(None);
        }
        rows.extend(answer.body[field].as_array().cloned().unwrap_or_default());
        knowledge = knowledge.or(answer.body["server_knowledge"].as_i64());
        match answer.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(knowledge.map(|k| (rows, k)))
}

fn id(row: &Value) -> String {
    row["id"].as_str().unwrap_or_default().to_owned()
}

impl Copy {
    /// Brings every list up to date: whole the first time, then by delta.
    pub async fn sync(&mut self, client: &Client, token: &str) -> anyhow::Result<()> {
        for (path, field) in LISTS {
            let list = self.lists.entry(path).or_default();
            let Some((rows, knowledge)) = read(client, token, path, field, list.knowledge).await? else {
                continue;
            };
            if list.knowledge.is_none() {
                list.rows = rows.into_iter().map(|row| (id(&row), row)).collect();
            } else {
                self.delta_reads += 1;
                for row in rows {
                    if row["deleted"] == Value::Bool(true) {
                        list.rows.remove(&id(&row));
                    } else {
                        list.rows.insert(id(&row), row);
                    }
                }
            }
            list.knowledge = Some(knowledge);
        }
        Ok(())
    }

    /// Syncs once more, then compares every list with a fresh full read; returns the differences.
    pub async fn differences(&mut self, client: &Client, token: &str) -> anyhow::Result<Vec<String>> {
        self.sync(client, token).await?;
        let mut differences = Vec::new();
        for (path, field) in LISTS {
            let Some((rows, _)) = read(client, token, path, field, None).await? else {
                anyhow::bail!("the full read of {path} failed after the load stopped");
            };
            let fresh: BTreeMap<String, Value> = rows.into_iter().map(|row| (id(&row), row)).collect();
            let copy = &self.lists.entry(path).or_default().rows;
            for (id, row) in &fresh {
                match copy.get(id) {
                    None => differences.push(format!("{path}: {id} is missing from the copy")),
                    Some(kept) if kept != row => {
                        differences.push(format!("{path}: {id} differs: copy {kept}, server {row}"));
                    }
                    Some(_) => {}
                }
            }
            for id in copy.keys().filter(|id| !fresh.contains_key(*id)) {
                differences.push(format!("{path}: {id} is in the copy but no longer on the server"));
            }
        }
        Ok(differences)
    }
}
