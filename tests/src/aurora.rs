//! The cluster's master login made like Aurora's, so everything that runs as the master locally
//! (the migrate function, the schema template, the dev stack, the bench and the load test) meets
//! the privileges it has on AWS.
//!
//! Aurora PostgreSQL's master user is not a superuser: it has `LOGIN CREATEDB CREATEROLE`, owns
//! the database the cluster was created with and is a member of `rds_superuser`, a group role of
//! Aurora's own. Here the real superuser (`postgres`) only makes that role, the group and the
//! databases, each owned by the master; every statement the code under test runs as "the master"
//! runs as [`MASTER_ROLE`].

use anyhow::Context;

use crate::postgres::Server;

/// The master's name, as template.yaml's `MasterUsername` gives it.
pub const MASTER_ROLE: &str = "budget_admin";
/// Local PostgreSQL trusts local connections, so this only has to look like a password.
pub const MASTER_PASSWORD: &str = "local-only-aurora-like-master-password";
/// The stand-in for Aurora's group role of the master.
pub const RDS_SUPERUSER: &str = "rds_superuser";

/// Creates the group and the master login if missing (roles belong to the whole cluster).
///
/// On PostgreSQL 16+ a `CREATEROLE` role may alter only roles it holds `ADMIN OPTION` on, which it
/// gets for the roles it creates. The application role of a cluster set up before this module
/// (created by the superuser) is handed to the master the same way, as Aurora's master would hold it.
///
/// # Errors
/// When the superuser's statements fail.
pub async fn prepare(server: &Server) -> anyhow::Result<()> {
    let admin = server.connect(server.maintenance_database()).await?;
    // Test processes start in parallel; one of them makes the roles, under this lock.
    admin
        .execute(
            "SELECT pg_advisory_lock(hashtext('budget aurora-like roles'))",
            &[],
        )
        .await?;
    let statement = format!(
        r"DO $prepare$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RDS_SUPERUSER}') THEN
    CREATE ROLE {RDS_SUPERUSER} NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{MASTER_ROLE}') THEN
    CREATE ROLE {MASTER_ROLE};
  END IF;
  ALTER ROLE {MASTER_ROLE} WITH LOGIN NOSUPERUSER CREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD '{MASTER_PASSWORD}';
  GRANT {RDS_SUPERUSER} TO {MASTER_ROLE};
  IF current_setting('server_version_num')::int >= 160000
     AND EXISTS (SELECT FROM pg_roles WHERE rolname = '{app}')
     AND NOT EXISTS (
       SELECT FROM pg_auth_members m
       JOIN pg_roles granted ON granted.oid = m.roleid
       JOIN pg_roles member ON member.oid = m.member
       WHERE granted.rolname = '{app}' AND member.rolname = '{MASTER_ROLE}' AND m.admin_option
     ) THEN
    EXECUTE 'GRANT {app} TO {MASTER_ROLE} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE';
  END IF;
END
$prepare$",
        app = crate::data_api::APP_ROLE,
    );
    let outcome = admin.batch_execute(&statement).await;
    admin
        .execute(
            "SELECT pg_advisory_unlock(hashtext('budget aurora-like roles'))",
            &[],
        )
        .await?;
    outcome.context("making the Aurora-like master role")
}

/// `CREATE DATABASE name` (a copy of `template`) owned by the master, as the superuser runs it.
///
/// # Errors
/// When the statement fails (the name is taken, or someone is connected to `template`).
pub async fn create_database(server: &Server, name: &str, template: &str) -> anyhow::Result<()> {
    let admin = server.connect(server.maintenance_database()).await?;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\" OWNER {MASTER_ROLE}"
        ))
        .await
        .with_context(|| format!("creating database {name} from {template}"))
}
