//! consular-desk's domain: the rules for appointments, intake, fees and document tracking,
//! their storage, papers and reports. It knows nothing of HTTP: no actix, no routes, no pages
//! (the root package `consular-desk` serves it). See docs/DOMAIN.md for the rules and
//! docs/ARCHITECTURE.md for how the modules fit together.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod blocking;
pub mod booking;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod counters;
pub mod db;
pub mod documents;
pub mod error;
pub mod feedback;
pub mod fees;
pub mod field_schemas;
pub mod mail;
pub mod ops;
pub mod pdf;
pub mod proxies;
pub mod reference;
pub mod registry;
pub mod reports;
pub mod rule;
pub mod search;
pub mod secrets;
pub mod server_keys;
pub mod throttle;
pub mod window;
pub mod wire;
pub mod wording;
