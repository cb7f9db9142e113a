//! The schema as code: the table mappings ([`tables`]), rendered to DDL ([`render`]), compared with
//! what a database holds ([`introspect`], [`diff`], [`check`]).

pub mod check;
pub mod diff;
pub mod introspect;
pub mod model;
pub mod render;
pub mod tables;
