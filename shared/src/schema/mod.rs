//! The schema as code: the table mappings ([`tables`]), rendered to DDL ([`render`]), compared with
//! what a database holds ([`introspect`], [`diff`], [`check`]), and migrations generated from the
//! differences ([`plan`]).

pub mod check;
pub mod diff;
pub mod introspect;
pub mod model;
pub mod plan;
pub mod render;
pub mod sync;
pub mod tables;
