//! consular-desk: appointments, intake, fees and document tracking for a consulate's American
//! Citizen Services unit. See README.md for running it, docs/DOMAIN.md for the rules and
//! docs/ARCHITECTURE.md for how the modules fit together.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod blocking;
pub mod booking;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod counters;
pub mod db;
pub mod documents;
pub mod error;
pub mod fees;
pub mod field_schemas;
pub mod http;
pub mod maintenance;
pub mod pdf;
pub mod proxies;
pub mod reference;
pub mod reports;
pub mod rule;
pub mod search;
pub mod secrets;
pub mod server_keys;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod web;
pub mod window;
pub mod wire;
pub mod wording;
