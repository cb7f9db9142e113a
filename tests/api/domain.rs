//! Domain values parse input strictly, and every one survives a trip through the Data API into
//! its own column type and back.

use chrono::{DateTime, NaiveDate, Utc};
use harness::TestDataApi;
use shared::db::{FromField, SqlColumn, ToParam, param};
use shared::domain::{
    AccountId, AccountKind, Cleared, CurrencyCode, Email, HouseholdId, Milliunits, Month, Name, ParseError,
    Role, SqlEnum,
};

#[test]
fn email_is_trimmed_lower_cased_and_checked() {
    assert_eq!(
        Email::parse("  Ada@Example.COM ").unwrap().as_str(),
        "ada@example.com"
    );
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a da@example.com",
        "ada@.com",
        "ada@example..com",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad:?}");
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert_eq!(Email::parse(&long), Err(ParseError::TooLong { max: 254 }));
}

#[test]
fn currency_codes_are_three_letters() {
    assert_eq!(CurrencyCode::parse("eur").unwrap().as_str(), "EUR");
    for bad in ["EU", "EURO", "E1R", ""] {
        assert_eq!(
            CurrencyCode::parse(bad),
            Err(ParseError::InvalidCurrency),
            "{bad:?}"
        );
    }
}

#[test]
fn months_are_written_year_dash_month() {
    let month = Month::parse("2024-02").unwrap();
    assert_eq!(month.to_string(), "2024-02");
    assert_eq!(month.first_day(), NaiveDate::from_ymd_opt(2024, 2, 1).unwrap());
    for bad in ["2024-13", "2024-2", "24-02", "2024-02-01", "2024/02"] {
        assert_eq!(Month::parse(bad), Err(ParseError::InvalidMonth), "{bad:?}");
    }
}

#[test]
fn names_are_trimmed_and_bounded() {
    assert_eq!(Name::parse("  Groceries ").unwrap().as_str(), "Groceries");
    assert_eq!(Name::parse("   "), Err(ParseError::Empty));
    assert!(Name::parse(&"é".repeat(100)).is_ok(), "characters, not bytes");
    assert_eq!(
        Name::parse(&"x".repeat(101)),
        Err(ParseError::TooLong { max: 100 })
    );
}

#[test]
fn money_is_checked_milliunits() {
    assert_eq!(Milliunits::from_units(12).unwrap(), Milliunits::new(12_000));
    assert_eq!(Milliunits::new(-12_345).to_string(), "-12.345");
    assert_eq!(Milliunits::new(5).to_string(), "0.005");
    assert_eq!(Milliunits::new(i64::MAX).checked_add(Milliunits::new(1)), None);
    assert_eq!(Milliunits::from_units(i64::MAX), Err(ParseError::OutOfRange));
    assert!(Milliunits::new(-1).is_outflow());
}

#[test]
fn ids_are_uuid_v7_and_typed() {
    let id = AccountId::new();
    assert_eq!(AccountId::parse(&id.to_string()).unwrap(), id);
    assert_eq!(
        AccountId::parse("3f2b8a3c-9a6e-4f0e-8a55-0c1f6f1d2e3a"),
        Err(ParseError::InvalidId),
        "v4 is not ours"
    );
    assert_eq!(AccountId::parse("not-a-uuid"), Err(ParseError::InvalidId));
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(serde_json::from_str::<AccountId>(&json).unwrap(), id);
}

#[test]
fn enums_list_their_values_and_refuse_others() {
    assert_eq!(Role::VALUES, ["owner", "member"]);
    assert_eq!(
        <AccountKind as SqlEnum>::parse("credit_card"),
        Ok(AccountKind::CreditCard)
    );
    assert_eq!(
        <Cleared as SqlEnum>::parse("maybe"),
        Err(ParseError::NotOneOf {
            allowed: Cleared::VALUES
        })
    );
}

/// Stores `value` in a column of its own SQL type through the Data API and reads it back.
async fn round_trip<T>(api: &TestDataApi, value: T)
where
    T: SqlColumn + ToParam + FromField + PartialEq + std::fmt::Debug,
{
    let db = api.db();
    let null = if T::NULLABLE { "" } else { " NOT NULL" };
    db.execute(&format!("CREATE TABLE rt (v {}{null})", T::SQL_TYPE), Vec::new())
        .await
        .unwrap();
    db.execute("INSERT INTO rt VALUES (:v)", vec![param("v", &value)])
        .await
        .unwrap();
    let rows = db
        .execute(
            "SELECT v FROM rt WHERE v IS NOT DISTINCT FROM :v",
            vec![param("v", &value)],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{value:?} compares equal to itself in SQL");
    assert_eq!(rows.first().unwrap().get::<T>(0).unwrap(), value);
    db.execute("DROP TABLE rt", Vec::new()).await.unwrap();
}

#[tokio::test]
async fn every_domain_type_round_trips_through_the_data_api() {
    let api = TestDataApi::start().await.unwrap();
    round_trip(&api, HouseholdId::new()).await;
    round_trip(&api, Some(AccountId::new())).await;
    round_trip(&api, None::<AccountId>).await;
    round_trip(&api, Milliunits::new(-9_223_372_036_854_775_807)).await;
    round_trip(&api, Email::parse("ada@example.com").unwrap()).await;
    round_trip(&api, CurrencyCode::parse("EUR").unwrap()).await;
    round_trip(&api, Name::parse("Rent & utilities 'n' stuff").unwrap()).await;
    round_trip(&api, Month::parse("2024-02").unwrap()).await;
    round_trip(&api, Role::Member).await;
    round_trip(&api, AccountKind::LineOfCredit).await;
    round_trip(&api, Cleared::Reconciled).await;
    round_trip(&api, NaiveDate::from_ymd_opt(1999, 12, 31).unwrap()).await;
    let instant: DateTime<Utc> = "2024-03-04T05:06:07.123456Z".parse().unwrap();
    round_trip(&api, instant).await;
    round_trip(&api, true).await;
    round_trip(&api, 42_i32).await;
    round_trip(&api, String::from("plain text")).await;
    round_trip(&api, vec![0_u8, 1, 254, 255]).await;
}
