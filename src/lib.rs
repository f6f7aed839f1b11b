//! consular-desk: appointments, intake, fees and document tracking for a consulate's American
//! Citizen Services unit. See README.md for running it, docs/DOMAIN.md for the rules and
//! docs/ARCHITECTURE.md for how the modules fit together.
//!
//! This package is the HTTP side (API, pages, startup, the command line); the domain is the
//! crate `consular_desk_domain`, re-exported here so `consular_desk::booking` and the like
//! keep naming it.

pub use consular_desk_domain::{
    accounts, audit, auth, backup, blocking, booking, calendar, clock, config, counters, db, documents,
    error, feedback, fees, field_schemas, mail, ops, pdf, proxies, reference, registry, reports, rule,
    search, secrets, server_keys, throttle, window, wire, wording,
};

pub mod api;
pub mod cli;
pub mod http;
pub mod mail_sender;
pub mod maintenance;
pub mod metrics;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
