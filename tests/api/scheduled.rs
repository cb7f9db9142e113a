//! Scheduled transactions and the scheduler: schedules made through the API, runs started with the
//! real EventBridge "Scheduled Event" JSON, and each occurrence made once however the runs repeat
//! or overlap. Expected dates come from the test's own calendar arithmetic.

use chrono::{Datelike, Days, Months, NaiveDate, Utc};
use functions::registry::{
    HOUSEHOLD_UPDATE, SCHEDULED_TRANSACTIONS_CREATE, SCHEDULED_TRANSACTIONS_DELETE,
    SCHEDULED_TRANSACTIONS_GET, SCHEDULED_TRANSACTIONS_LIST, TRANSACTIONS_LIST,
};
use functions::scheduler::{self, Ran, ScheduledEvent};
use harness::TestApp;
use harness::app::{bearer_request, with_query};
use serde_json::{Value, json};

/// The event an EventBridge rule sends, as AWS documents it (`events/scheduled-event.json`, which
/// the README invokes the function with), for a run due at `time`.
fn scheduled_event(time: &str) -> Value {
    let time = chrono::DateTime::parse_from_rfc3339(time)
        .unwrap()
        .with_timezone(&Utc);
    harness::events::scheduled_event(time).unwrap()
}

async fn run_at(app: &TestApp, time: &str) -> Ran {
    let event: ScheduledEvent = serde_json::from_value(scheduled_event(time)).unwrap();
    scheduler::run(&app.app.db, &event).await.unwrap()
}

async fn schedule(app: &TestApp, session: &Value, body: Value) -> harness::TestResponse {
    app.send_json(
        &SCHEDULED_TRANSACTIONS_CREATE,
        "POST",
        "/scheduled-transactions",
        session,
        &body,
    )
    .await
}

async fn account(app: &TestApp, session: &Value, name: &str) -> String {
    app.create_account(session, &json!({"name": name, "kind": "checking"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The first day on or after `from` that is the 31st.
fn next_31st(from: NaiveDate) -> NaiveDate {
    (0..62)
        .filter_map(|n| from.checked_add_days(Days::new(n)))
        .find(|d| d.day() == 31)
        .unwrap()
}

/// `(schedule, date, amount, lines, other leg's amount)` of every transaction made from a
/// schedule, by date.
async fn made(app: &TestApp) -> Vec<(String, NaiveDate, i64, i64, Option<i64>)> {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT t.scheduled_transaction_id::text, t.scheduled_date, t.amount, \
               (SELECT count(*) FROM transactions l WHERE l.parent_id = t.id), o.amount \
             FROM transactions t LEFT JOIN transactions o ON o.id = t.transfer_transaction_id \
             WHERE t.scheduled_transaction_id IS NOT NULL ORDER BY t.scheduled_date, t.amount",
            vec![],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get(0).unwrap(),
                r.get(1).unwrap(),
                r.get(2).unwrap(),
                r.get(3).unwrap(),
                r.get(4).unwrap(),
            )
        })
        .collect()
}

fn midnight_after(date: NaiveDate) -> String {
    format!("{}T00:00:00Z", date.succ_opt().unwrap())
}

#[tokio::test]
async fn a_monthly_rent_on_the_31st_is_made_once_per_month_however_often_the_scheduler_runs() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let first = next_31st(Utc::now().date_naive());
    app.reset_calls();
    let rent = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": first, "frequency": "monthly",
               "amount": -1_200_000, "payee_name": "Landlord"}),
    )
    .await;
    assert_eq!(rent.status, 201, "{:?}", rent.body);
    assert_eq!(app.calls(), 1);
    let expected: Vec<NaiveDate> = (0..4)
        .map(|k| first.checked_add_months(Months::new(k)).unwrap())
        .collect();
    assert_eq!(rent.body["date_next"], json!(first));
    let upcoming: Vec<NaiveDate> = serde_json::from_value(rent.body["upcoming"].clone()).unwrap();
    assert_eq!(upcoming[..4], expected[..]);
    assert!(
        expected
            .iter()
            .all(|d| d.day() == 31 || d.succ_opt().unwrap().day() == 1)
    );

    // The day before: nothing is due.
    app.reset_calls();
    let early = run_at(&app, &format!("{}T23:59:59Z", first.pred_opt().unwrap())).await;
    assert_eq!((early.due, early.made), (0, 0));
    assert_eq!(app.calls(), 1);

    // The run after the first date makes it; its retry (the same event) and a later run make nothing more.
    let on_time = run_at(&app, &midnight_after(first)).await;
    assert_eq!((on_time.due, on_time.made, on_time.moved_on), (1, 1, 1));
    let retried = run_at(&app, &midnight_after(first)).await;
    assert_eq!((retried.due, retried.made), (0, 0));

    // Three months later, one run catches up on the two missed months, and the next date returns to the 31st.
    app.reset_calls();
    let later = run_at(&app, &midnight_after(expected[2])).await;
    assert_eq!((later.due, later.made), (2, 2));
    assert_eq!(app.calls(), 1);
    let dates: Vec<NaiveDate> = made(&app).await.iter().map(|m| m.1).collect();
    assert_eq!(dates, expected[..3]);
    let id = rent.body["id"].as_str().unwrap();
    let read = app
        .send(
            &SCHEDULED_TRANSACTIONS_GET,
            bearer_request("GET", &format!("/scheduled-transactions/{id}"), &ada),
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["date_next"], json!(expected[3]));
}

#[tokio::test]
async fn overlapping_runs_make_each_occurrence_of_a_split_salary_and_a_transfer_once() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let savings = account(&app, &ada, "Savings").await;
    let category = app.first_category(&ada).await;
    let first = Utc::now().date_naive();
    let salary = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": first, "frequency": "twiceAMonth",
               "amount": 3_000_000, "payee_name": "Employer",
               "subtransactions": [{"amount": 2_500_000, "category_id": category},
                                   {"amount": 500_000, "memo": "bonus"}]}),
    )
    .await;
    assert_eq!(salary.status, 201, "{:?}", salary.body);
    assert_eq!(salary.body["subtransactions"].as_array().unwrap().len(), 2);
    let saving = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": first, "frequency": "weekly",
               "amount": -100_000, "transfer_account_id": savings, "end_count": 3}),
    )
    .await;
    assert_eq!(saving.status, 201, "{:?}", saving.body);
    assert_eq!(saving.body["upcoming"].as_array().unwrap().len(), 3);

    // Two months on, two runs of the same event at once, then a third.
    let until = first.checked_add_months(Months::new(2)).unwrap();
    let time = midnight_after(until);
    let (a, b) = tokio::join!(run_at(&app, &time), run_at(&app, &time));
    let c = run_at(&app, &time).await;
    let made_rows = made(&app).await;
    assert_eq!(a.made + b.made + c.made, made_rows.len() as i64);

    // The test's own count: the salary's twice-a-month dates and three weekly transfers up to `until`.
    let half =
        |k: u32| shared::domain::schedule::occurrence(first, shared::domain::Frequency::TwiceAMonth, k);
    let salaries = (0..).map_while(|k| half(k).filter(|d| *d <= until)).count();
    let salary_rows: Vec<_> = made_rows.iter().filter(|m| m.2 == 3_000_000).collect();
    let transfer_rows: Vec<_> = made_rows.iter().filter(|m| m.2 == -100_000).collect();
    assert_eq!(salary_rows.len(), salaries);
    assert_eq!(transfer_rows.len(), 3);
    assert!(
        salary_rows.iter().all(|m| m.3 == 2),
        "every salary split in two lines"
    );
    assert!(
        transfer_rows.iter().all(|m| m.4 == Some(100_000)),
        "every transfer has its other leg"
    );
    let mut keys: Vec<_> = made_rows.iter().map(|m| (m.0.clone(), m.1)).collect();
    keys.dedup();
    assert_eq!(keys.len(), made_rows.len(), "each occurrence once");

    // The transfer schedule has ended; the list says so and a delta sync brings the new rows.
    let list = app
        .send(
            &SCHEDULED_TRANSACTIONS_LIST,
            bearer_request("GET", "/scheduled-transactions", &ada),
        )
        .await;
    let ended = list.body["scheduled_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == saving.body["id"])
        .unwrap();
    assert_eq!(ended["date_next"], Value::Null);
    let delta = app
        .send(
            &TRANSACTIONS_LIST,
            with_query(
                bearer_request("GET", "/transactions", &ada),
                &[("last_knowledge_of_server", "0"), ("limit", "500")],
            ),
        )
        .await;
    let delta_count = delta.body["transactions"].as_array().unwrap().len();
    // Each made transaction, its transfer's other leg (the split lines ride inside their parent).
    assert_eq!(delta_count, made_rows.len() + transfer_rows.len());
}

#[tokio::test]
async fn the_households_time_zone_decides_when_a_day_begins() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let zone = app
        .send_json(
            &HOUSEHOLD_UPDATE,
            "PATCH",
            "/household",
            &ada,
            &json!({"time_zone": "Pacific/Auckland"}),
        )
        .await;
    assert_eq!(zone.status, 200, "{:?}", zone.body);
    assert_eq!(zone.body["time_zone"], "Pacific/Auckland");
    let unknown = app
        .send_json(
            &HOUSEHOLD_UPDATE,
            "PATCH",
            "/household",
            &ada,
            &json!({"time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.invalid_fields()),
        (422, vec!["time_zone"])
    );
    // Two days on, so that the date is ahead of today in every zone.
    let first = Utc::now().date_naive().checked_add_days(Days::new(2)).unwrap();
    let daily = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": first, "frequency": "daily", "amount": -5_000}),
    )
    .await;
    assert_eq!(daily.status, 201, "{:?}", daily.body);
    // Auckland is 12 or 13 hours ahead of UTC: at 10:30 UTC the day before, it is not yet the day
    // there; at 13:30 UTC it is.
    let before = first.pred_opt().unwrap();
    let not_yet = run_at(&app, &format!("{before}T10:30:00Z")).await;
    assert_eq!(not_yet.made, 0);
    let begun = run_at(&app, &format!("{before}T13:30:00Z")).await;
    assert_eq!(begun.made, 1);
    assert_eq!(made(&app).await[0].1, first);
}

#[tokio::test]
async fn schedules_obey_the_transaction_rules_and_foreign_ids_answer_like_unknown_ones() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let bobs = account(&app, &bob, "Bob's").await;
    let today = Utc::now().date_naive();
    let body = |account: &str| json!({"account_id": account, "date_first": today, "frequency": "monthly", "amount": -1_000});
    let foreign = schedule(&app, &ada, body(&bobs)).await;
    let unknown = schedule(&app, &ada, body(&shared::domain::AccountId::new().to_string())).await;
    assert_eq!(foreign.status, 422);
    assert_eq!(foreign.body, unknown.body);

    let past = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": today.pred_opt().unwrap() - Days::new(1),
               "frequency": "monthly", "amount": -1_000}),
    )
    .await;
    assert_eq!((past.status, past.invalid_fields()), (422, vec!["date_first"]));
    let bad = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": today, "frequency": "fortnightly", "amount": -1_000,
               "end_date": today, "end_count": 2, "transfer_account_id": checking,
               "subtransactions": [{"amount": -400}, {"amount": -500}]}),
    )
    .await;
    assert_eq!(bad.status, 422);
    let fields = bad.invalid_fields();
    for field in ["frequency", "end_count", "subtransactions"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    let to_itself = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": today, "frequency": "monthly", "amount": -1_000,
               "transfer_account_id": checking}),
    )
    .await;
    assert_eq!(to_itself.status, 422, "{:?}", to_itself.body);
    let count = app
        .api
        .db()
        .execute("SELECT count(*) FROM scheduled_transactions", vec![])
        .await
        .unwrap();
    assert_eq!(
        count.first().unwrap().get::<i64>(0).unwrap(),
        0,
        "nothing refused is stored"
    );

    // Bob's schedule is not Ada's to read or delete; unknown and malformed ids answer alike.
    let bobs_schedule = schedule(&app, &bob, body(&bobs)).await;
    let id = bobs_schedule.body["id"].as_str().unwrap();
    for path_id in [
        id.to_owned(),
        shared::domain::ScheduledTransactionId::new().to_string(),
        "nope".to_owned(),
    ] {
        let path = format!("/scheduled-transactions/{path_id}");
        let read = app
            .send(&SCHEDULED_TRANSACTIONS_GET, bearer_request("GET", &path, &ada))
            .await;
        let gone = app
            .send(
                &SCHEDULED_TRANSACTIONS_DELETE,
                bearer_request("DELETE", &path, &ada),
            )
            .await;
        assert_eq!((read.status, gone.status), (404, 404), "{path_id}");
    }
    // Bob deletes it: the scheduler makes nothing from it, and the list shows it no more.
    let path = format!("/scheduled-transactions/{id}");
    assert_eq!(
        app.send(
            &SCHEDULED_TRANSACTIONS_DELETE,
            bearer_request("DELETE", &path, &bob)
        )
        .await
        .status,
        204
    );
    let ran = run_at(&app, &midnight_after(today)).await;
    assert_eq!(ran.made, 0);
    let list = app
        .send(
            &SCHEDULED_TRANSACTIONS_LIST,
            bearer_request("GET", "/scheduled-transactions", &bob),
        )
        .await;
    assert_eq!(list.body["scheduled_transactions"], json!([]));
    let read = app
        .send(&SCHEDULED_TRANSACTIONS_GET, bearer_request("GET", &path, &bob))
        .await;
    assert_eq!(
        (read.body["deleted"].clone(), read.body["upcoming"].clone()),
        (json!(true), json!([]))
    );
}

#[tokio::test]
async fn the_sql_occurrence_agrees_with_the_rust_one_for_a_year_of_every_frequency() {
    use shared::domain::Frequency;
    use shared::domain::schedule::{occurrence, occurrence_sql};
    const OCCURRENCES: u32 = 27;
    let app = TestApp::spawn().await.unwrap();
    // Every frequency from first dates around each month's middle and end, over a common and a
    // leap year, each with its first 27 occurrences (more than a year of twiceAMonth) in one row.
    let sql = format!(
        "SELECT f.frequency, f.first, string_agg(COALESCE(({expression})::text, '-'), ',' ORDER BY k) \
         FROM (SELECT d::date AS first, fr AS frequency \
               FROM generate_series('2027-01-01'::date, '2028-03-31', interval '1 day') AS d, \
                    unnest(ARRAY[{names}]) AS fr \
               WHERE extract(day FROM d) IN (1, 14, 15, 16, 28, 29, 30, 31)) AS f, \
              generate_series(0, {last}) AS k \
         GROUP BY f.frequency, f.first",
        expression = occurrence_sql("f.first", "f.frequency", "k"),
        names = Frequency::ALL
            .iter()
            .map(|f| format!("'{f}'"))
            .collect::<Vec<_>>()
            .join(", "),
        last = OCCURRENCES - 1,
    );
    let rows = app.api.db().execute(&sql, vec![]).await.unwrap();
    let mut compared = 0;
    for row in rows.iter() {
        let frequency: String = row.get(0).unwrap();
        let first: NaiveDate = row.get(1).unwrap();
        let in_sql: String = row.get(2).unwrap();
        let frequency = <Frequency as shared::domain::SqlEnum>::parse(&frequency).unwrap();
        let in_rust: Vec<String> = (0..OCCURRENCES)
            .map(|k| occurrence(first, frequency, k).map_or("-".to_owned(), |d| d.to_string()))
            .collect();
        assert_eq!(in_sql, in_rust.join(","), "{frequency} from {first}");
        compared += 1;
    }
    let days = [1, 14, 15, 16, 28, 29, 30, 31];
    let firsts = NaiveDate::from_ymd_opt(2027, 1, 1)
        .unwrap()
        .iter_days()
        .take_while(|d| *d <= NaiveDate::from_ymd_opt(2028, 3, 31).unwrap())
        .filter(|d| days.contains(&d.day()))
        .count();
    assert_eq!(
        compared,
        firsts * Frequency::ALL.len(),
        "every first date, by frequency"
    );
}

#[tokio::test]
async fn sql_made_ids_are_uuid_v7_that_the_api_reads() {
    let app = TestApp::spawn().await.unwrap();
    let sql = format!(
        "SELECT ({})::text FROM generate_series(1, 100)",
        shared::domain::NEW_ID_SQL
    );
    let rows = app.api.db().execute(&sql, vec![]).await.unwrap();
    let now_ms = Utc::now().timestamp_millis();
    for row in rows.iter() {
        let text: String = row.get(0).unwrap();
        let id = shared::domain::TransactionId::parse(&text).unwrap();
        let (seconds, nanos) = id.as_uuid().get_timestamp().unwrap().to_unix();
        let ms = i64::try_from(seconds).unwrap() * 1000 + i64::from(nanos / 1_000_000);
        assert!((now_ms - ms).abs() < 60_000, "{text} is of now");
    }
}

#[tokio::test]
async fn deleting_a_category_or_payee_a_schedule_uses_clears_it_there_and_its_account_stays() {
    use functions::registry::{ACCOUNTS_DELETE, CATEGORIES_DELETE, PAYEES_DELETE};
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let category = app.first_category(&ada).await;
    let today = Utc::now().date_naive();
    let split = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": today, "frequency": "monthly", "amount": -3_000,
               "payee_name": "Grocer",
               "subtransactions": [{"amount": -1_000, "category_id": category}, {"amount": -2_000}]}),
    )
    .await;
    assert_eq!(split.status, 201, "{:?}", split.body);
    let payee = split.body["payee_id"].as_str().unwrap();
    let deleted = app
        .send(
            &CATEGORIES_DELETE,
            bearer_request("DELETE", &format!("/categories/{category}"), &ada),
        )
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    let unlinked = app
        .send(
            &PAYEES_DELETE,
            bearer_request("DELETE", &format!("/payees/{payee}"), &ada),
        )
        .await;
    assert_eq!(unlinked.status, 200, "{:?}", unlinked.body);
    let id = split.body["id"].as_str().unwrap();
    let read = app
        .send(
            &SCHEDULED_TRANSACTIONS_GET,
            bearer_request("GET", &format!("/scheduled-transactions/{id}"), &ada),
        )
        .await;
    assert_eq!(read.body["payee_id"], Value::Null);
    assert_eq!(read.body["subtransactions"][0]["category_id"], Value::Null);
    assert_ne!(
        read.headers["etag"], split.headers["etag"],
        "the change reaches sync clients"
    );
    let refused = app
        .send(
            &ACCOUNTS_DELETE,
            bearer_request("DELETE", &format!("/accounts/{checking}"), &ada),
        )
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
}

#[tokio::test]
async fn a_change_of_date_or_frequency_starts_again_and_never_makes_a_date_twice() {
    use functions::registry::SCHEDULED_TRANSACTIONS_UPDATE;
    use harness::app::{json_request, with_if_match};
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let category = app.first_category(&ada).await;
    let today = Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let created = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": today, "frequency": "daily", "amount": -2_000,
               "subtransactions": [{"amount": -500, "category_id": category}, {"amount": -1_500}]}),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scheduled-transactions/{id}");
    let ran = run_at(&app, &format!("{tomorrow}T00:00:01Z")).await;
    assert_eq!(ran.made, 2, "today and tomorrow");

    let patch = |body: Value, tag: Option<&str>| {
        with_if_match(
            json_request("PATCH", &path, &body, Some(harness::app::access_token(&ada))),
            tag,
        )
    };
    // A stale version is refused and changes nothing.
    let stale = app
        .send(
            &SCHEDULED_TRANSACTIONS_UPDATE,
            patch(json!({"amount": -9}), Some("\"1\"")),
        )
        .await;
    assert_eq!(stale.status, 412);
    // The lines' sum is checked against the stored amount; replacing them with none un-splits.
    let mismatch = app
        .send(
            &SCHEDULED_TRANSACTIONS_UPDATE,
            patch(json!({"amount": -3_000}), None),
        )
        .await;
    assert_eq!(
        (mismatch.status, mismatch.invalid_fields()),
        (422, vec!["amount"])
    );
    let current = app
        .send(&SCHEDULED_TRANSACTIONS_GET, bearer_request("GET", &path, &ada))
        .await;
    assert_ne!(
        current.headers["etag"], created.headers["etag"],
        "the run moved it on"
    );
    app.reset_calls();
    let weekly = app
        .send(
            &SCHEDULED_TRANSACTIONS_UPDATE,
            patch(
                json!({"frequency": "weekly", "date_first": today, "amount": -3_000, "subtransactions": [],
                       "category_id": category, "end_count": 3}),
                current.headers["etag"].to_str().ok(),
            ),
        )
        .await;
    assert_eq!(weekly.status, 200, "{:?}", weekly.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(weekly.body["subtransactions"], json!([]));
    assert_eq!(weekly.body["date_next"], json!(today));
    let week = |k: u64| today.checked_add_days(Days::new(7 * k)).unwrap();
    assert_eq!(weekly.body["upcoming"], json!([week(0), week(1), week(2)]));

    // Today was made already: the new series does not make it again, and goes on a week later.
    let again = run_at(&app, &format!("{tomorrow}T00:00:01Z")).await;
    assert_eq!((again.due, again.made), (1, 0));
    let read = app
        .send(&SCHEDULED_TRANSACTIONS_GET, bearer_request("GET", &path, &ada))
        .await;
    assert_eq!(read.body["date_next"], json!(week(1)));
    let later = run_at(&app, &format!("{}T00:00:01Z", week(3))).await;
    assert_eq!(later.made, 2, "the second and third weeks, then the end");
    let dates: Vec<NaiveDate> = made(&app).await.iter().map(|m| m.1).collect();
    assert_eq!(dates, vec![today, tomorrow, week(1), week(2)]);
    let ended = app
        .send(&SCHEDULED_TRANSACTIONS_GET, bearer_request("GET", &path, &ada))
        .await;
    assert_eq!(
        (ended.body["date_next"].clone(), ended.body["upcoming"].clone()),
        (Value::Null, json!([]))
    );

    // An end date before the first date is refused; one end replaces the other.
    let before = app
        .send(
            &SCHEDULED_TRANSACTIONS_UPDATE,
            patch(json!({"end_date": today.pred_opt().unwrap()}), None),
        )
        .await;
    assert_eq!((before.status, before.invalid_fields()), (422, vec!["end_date"]));
    let by_date = app
        .send(
            &SCHEDULED_TRANSACTIONS_UPDATE,
            patch(json!({"end_date": week(10)}), None),
        )
        .await;
    assert_eq!(by_date.status, 200, "{:?}", by_date.body);
    assert_eq!(
        (
            by_date.body["end_count"].clone(),
            by_date.body["date_next"].clone()
        ),
        (Value::Null, json!(week(3)))
    );

    // Another household's schedule answers as an unknown one.
    let foreign = app
        .send_json(
            &SCHEDULED_TRANSACTIONS_UPDATE,
            "PATCH",
            &path,
            &bob,
            &json!({"amount": -1}),
        )
        .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn the_month_shows_what_its_schedules_will_still_bring_to_each_category() {
    use functions::registry::MONTHS_GET;
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let groceries = app.first_category(&ada).await;
    // Next month, so that every occurrence in it is still to come.
    let month_start = Utc::now()
        .date_naive()
        .with_day(1)
        .unwrap()
        .checked_add_months(Months::new(1))
        .unwrap();
    let month_end = month_start
        .checked_add_months(Months::new(1))
        .unwrap()
        .pred_opt()
        .unwrap();
    let weekly = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": Utc::now().date_naive(), "frequency": "weekly",
               "amount": -10_000, "subtransactions": [{"amount": -7_000, "category_id": groceries},
                                                      {"amount": -3_000}]}),
    )
    .await;
    assert_eq!(weekly.status, 201, "{:?}", weekly.body);
    let rent = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": month_start, "frequency": "monthly",
               "amount": -1_200_000, "category_id": groceries, "end_count": 1}),
    )
    .await;
    assert_eq!(rent.status, 201, "{:?}", rent.body);
    let first = Utc::now().date_naive();
    let weeks_in_month = (0..)
        .map(|k| first.checked_add_days(Days::new(7 * k)).unwrap())
        .take_while(|d| *d <= month_end)
        .filter(|d| *d >= month_start)
        .count() as i64;
    let path = format!("/months/{}", month_start.format("%Y-%m"));
    app.reset_calls();
    let month = app.send(&MONTHS_GET, bearer_request("GET", &path, &ada)).await;
    assert_eq!(month.status, 200, "{:?}", month.body);
    assert_eq!(app.calls(), 1);
    let expected = -7_000 * weeks_in_month - 1_200_000;
    let category = month.body["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category_id"] == json!(groceries))
        .unwrap();
    assert_eq!(category["scheduled"], json!(expected));
    assert_eq!(month.body["scheduled"], json!(expected));

    // Once the scheduler has made the month's first days, they are activity, no longer scheduled.
    run_at(&app, &midnight_after(month_start)).await;
    let made_in_month = made(&app).await.iter().filter(|m| m.1 >= month_start).count() as i64;
    let after = app.send(&MONTHS_GET, bearer_request("GET", &path, &ada)).await;
    let category = after.body["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category_id"] == json!(groceries))
        .unwrap()
        .clone();
    let weekly_made = made_in_month - 1;
    assert_eq!(
        category["scheduled"],
        json!(-7_000 * (weeks_in_month - weekly_made))
    );
    assert_eq!(category["activity"], json!(-7_000 * weekly_made - 1_200_000));
}

#[tokio::test]
async fn a_member_who_made_schedules_can_leave_and_they_go_on_but_wait_while_their_account_is_closed() {
    use functions::registry::{ACCOUNTS_UPDATE, HOUSEHOLD_MEMBER_REMOVE};
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.join(&ada, "bob@example.com", "member").await;
    let checking = account(&app, &ada, "Checking").await;
    let today = Utc::now().date_naive();
    let daily = schedule(
        &app,
        &bob,
        json!({"account_id": checking, "date_first": today, "frequency": "daily", "amount": -1_000}),
    )
    .await;
    assert_eq!(daily.status, 201, "{:?}", daily.body);
    let bob_id = bob["user_id"].as_str().unwrap();
    let removed = app
        .send(
            &HOUSEHOLD_MEMBER_REMOVE,
            bearer_request("DELETE", &format!("/household/members/{bob_id}"), &ada),
        )
        .await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    assert_eq!(
        run_at(&app, &midnight_after(today)).await.made,
        2,
        "today and tomorrow"
    );

    // Closed: the schedule waits; reopened: it catches up.
    let account_path = format!("/accounts/{checking}");
    let close = |closed: bool| {
        let body = json!({"closed": closed});
        let path = account_path.clone();
        let app = &app;
        let ada = &ada;
        async move { app.send_json(&ACCOUNTS_UPDATE, "PATCH", &path, ada, &body).await }
    };
    assert_eq!(close(true).await.status, 200);
    let later = today.checked_add_days(Days::new(3)).unwrap();
    assert_eq!(run_at(&app, &midnight_after(later)).await.made, 0);
    assert_eq!(close(false).await.status, 200);
    assert_eq!(run_at(&app, &midnight_after(later)).await.made, 3);
    let dates: Vec<NaiveDate> = made(&app).await.iter().map(|m| m.1).collect();
    let expected: Vec<NaiveDate> = (0..5)
        .map(|k| today.checked_add_days(Days::new(k)).unwrap())
        .collect();
    assert_eq!(dates, expected);
}

#[tokio::test]
async fn a_scheduled_transfer_puts_its_category_on_the_budget_leg_only() {
    use functions::registry::SCHEDULED_TRANSACTIONS_UPDATE;
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let savings = account(&app, &ada, "Savings").await;
    let brokerage = app
        .create_account(
            &ada,
            &json!({"name": "Brokerage", "kind": "investment", "on_budget": false}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let category = app.first_category(&ada).await;
    let today = Utc::now().date_naive();
    let to_brokerage = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": today, "frequency": "monthly", "amount": -70_000,
               "transfer_account_id": brokerage, "category_id": category}),
    )
    .await;
    assert_eq!(to_brokerage.status, 201, "{:?}", to_brokerage.body);
    let bill = schedule(
        &app,
        &ada,
        json!({"account_id": checking, "date_first": today, "frequency": "monthly", "amount": -30_000,
               "category_id": category}),
    )
    .await;
    // Made a transfer between two budget accounts, the bill loses its category.
    let id = bill.body["id"].as_str().unwrap();
    let moved = app
        .send_json(
            &SCHEDULED_TRANSACTIONS_UPDATE,
            "PATCH",
            &format!("/scheduled-transactions/{id}"),
            &ada,
            &json!({"transfer_account_id": savings}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["category_id"], Value::Null);
    run_at(&app, &midnight_after(today)).await;
    let rows = app
        .api
        .db()
        .execute(
            "SELECT t.amount, t.category_id IS NOT NULL, a.on_budget FROM transactions t \
             JOIN accounts a ON a.id = t.account_id ORDER BY t.amount",
            vec![],
        )
        .await
        .unwrap();
    let legs: Vec<(i64, bool, bool)> = rows
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect();
    assert_eq!(
        legs,
        vec![
            (-70_000, true, true),
            (-30_000, false, true),
            (30_000, false, true),
            (70_000, false, false)
        ]
    );
}

#[tokio::test]
async fn a_household_keeps_a_bounded_number_of_schedules_and_lists_them_in_pages_under_a_mebibyte() {
    use functions::scheduled::MAX_SCHEDULES;
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let today = Utc::now().date_naive();
    // The largest schedules: 25 lines, each memo 500 three-byte characters.
    let memo = "€".repeat(500);
    let lines: Vec<Value> = (0..25).map(|_| json!({"amount": -40, "memo": memo})).collect();
    let body = json!({"account_id": checking, "date_first": today, "frequency": "monthly", "amount": -1_000,
                      "memo": memo, "subtransactions": lines});
    let large = 30;
    for _ in 0..large {
        let made = schedule(&app, &ada, body.clone()).await;
        assert_eq!(made.status, 201, "{:?}", made.body);
    }
    let small = json!({"account_id": checking, "date_first": today, "frequency": "monthly", "amount": -1});
    let count = usize::try_from(MAX_SCHEDULES).unwrap();
    for _ in large..count {
        assert_eq!(schedule(&app, &ada, small.clone()).await.status, 201);
    }
    let over = schedule(&app, &ada, small.clone()).await;
    assert_eq!((over.status, over.invalid_fields()), (422, vec!["body"]));

    let mut seen = std::collections::BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = bearer_request("GET", "/scheduled-transactions", &ada);
        if let Some(cursor) = &cursor {
            request = with_query(request, &[("cursor", cursor)]);
        }
        let page = app.send(&SCHEDULED_TRANSACTIONS_LIST, request).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        pages += 1;
        for s in page.body["scheduled_transactions"].as_array().unwrap() {
            assert!(
                seen.insert(s["id"].as_str().unwrap().to_owned()),
                "each schedule once"
            );
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), count);
    assert!(pages > 1, "{pages} pages");
}

#[tokio::test]
async fn a_time_zone_the_database_no_longer_knows_holds_back_only_its_own_household() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let today = Utc::now().date_naive();
    for session in [&ada, &bob] {
        let checking = account(&app, session, "Checking").await;
        let daily =
            json!({"account_id": checking, "date_first": today, "frequency": "daily", "amount": -1_000});
        assert_eq!(schedule(&app, session, daily).await.status, 201);
    }
    // As after a tzdata upgrade dropped the zone Bob's household was set to.
    let bobs = bob["household_id"].as_str().unwrap();
    app.api
        .db()
        .execute(
            &format!("UPDATE households SET time_zone = 'Mars/Olympus' WHERE id = '{bobs}'"),
            vec![],
        )
        .await
        .unwrap();
    let ran = run_at(&app, &midnight_after(today)).await;
    assert_eq!(ran.made, 2, "Ada's today and tomorrow; Bob's household waits");
}
