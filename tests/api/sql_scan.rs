//! The SQL scanner on tricky text: what PostgreSQL treats as one statement, and where `:name`
//! placeholders really are.

use sql_scan::{rewrite_placeholders, split_statements};

#[test]
fn splits_at_semicolons_outside_literals_comments_and_dollar_quotes() {
    let sql = r#"
        -- a comment; with a semicolon
        CREATE TABLE "odd;name" (note text DEFAULT 'it''s; fine');
        /* block ; /* nested ; */ still comment ; */
        CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b'; $body$;
        DO $$ BEGIN RAISE NOTICE 'x;y'; END $$;
        SELECT E'escaped \' quote; still string';
        SELECT 1
    "#;
    let statements = split_statements(sql);
    assert_eq!(
        statements,
        vec![
            "-- a comment; with a semicolon\n        CREATE TABLE \"odd;name\" (note text DEFAULT 'it''s; fine')",
            "/* block ; /* nested ; */ still comment ; */\n        CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b'; $body$",
            "DO $$ BEGIN RAISE NOTICE 'x;y'; END $$",
            "SELECT E'escaped \\' quote; still string'",
            "SELECT 1",
        ]
    );
}

#[test]
fn comments_and_blank_pieces_are_not_statements() {
    assert!(split_statements("  ;; -- nothing\n /* here */ ;").is_empty());
    assert_eq!(split_statements("SELECT 1;"), vec!["SELECT 1"]);
}

#[test]
fn positional_parameters_and_identifiers_with_dollars_are_not_dollar_quotes() {
    assert_eq!(
        split_statements("SELECT $1; SELECT a$b$c FROM t"),
        vec!["SELECT $1", "SELECT a$b$c FROM t"]
    );
}

#[test]
fn rewrites_named_placeholders_in_order_of_first_use() {
    let rewritten = rewrite_placeholders(
        "UPDATE t SET a = :first, b = :second::uuid WHERE c = :first AND d = ':literal' AND e = \"x:y\" -- :c\n",
    );
    assert_eq!(
        rewritten.sql,
        "UPDATE t SET a = $1, b = $2::uuid WHERE c = $1 AND d = ':literal' AND e = \"x:y\" -- :c\n"
    );
    assert_eq!(rewritten.names, vec!["first", "second"]);
}

#[test]
fn casts_slices_and_assignments_are_not_placeholders() {
    let rewritten = rewrite_placeholders("SELECT x::int, arr[1:2], f(a := 1), $tag$ :no $tag$, :yes_1");
    assert_eq!(
        rewritten.sql,
        "SELECT x::int, arr[1:2], f(a := 1), $tag$ :no $tag$, $1"
    );
    assert_eq!(rewritten.names, vec!["yes_1"]);
}
