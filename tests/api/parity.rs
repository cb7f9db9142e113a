//! Local is AWS where a deploy depends on it: the tests run on the PostgreSQL major that
//! template.yaml deploys, and "the master" is a login made like Aurora's, not a superuser.

use harness::TestDataApi;
use harness::aurora::{MASTER_ROLE, RDS_SUPERUSER};

#[tokio::test]
async fn the_tests_run_on_the_postgresql_major_the_template_deploys() {
    let api = TestDataApi::start().await.unwrap();
    let rows = api
        .db()
        .execute("SELECT current_setting('server_version_num')::int", Vec::new())
        .await
        .unwrap();
    let version: i64 = rows.first().unwrap().get(0).unwrap();
    let template = harness::postgres::template_major().unwrap();
    assert_eq!(
        version / 10_000,
        i64::from(template),
        "template.yaml deploys PostgreSQL {template}; the tests must run on it"
    );
}

#[tokio::test]
async fn the_master_login_is_made_like_auroras() {
    let api = TestDataApi::start().await.unwrap();
    let rows = api
        .db()
        .execute(
            &format!(
                "SELECT current_user::text, rolsuper, rolcreatedb, rolcreaterole, rolreplication, \
                   pg_has_role(current_user, '{RDS_SUPERUSER}', 'MEMBER'), \
                   (SELECT pg_get_userbyid(datdba) = current_user FROM pg_database WHERE datname = current_database()) \
                 FROM pg_roles WHERE rolname = current_user"
            ),
            Vec::new(),
        )
        .await
        .unwrap();
    let row = rows.first().unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), MASTER_ROLE);
    let flags: Vec<bool> = (1..7).map(|i| row.get(i).unwrap()).collect();
    assert_eq!(
        flags,
        [false, true, true, false, true, true],
        "not a superuser; CREATEDB, CREATEROLE; no REPLICATION; in rds_superuser; owns its database"
    );
}
