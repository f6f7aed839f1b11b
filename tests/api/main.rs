//! The one integration-test binary: every behaviour through real HTTP (and the real CLI).

mod accounts;
mod audit;
mod authorization;
mod availability;
mod bad_input;
mod booking;
mod booking_races;
mod browser;
mod cli;
mod counters;
mod documents;
mod fees;
mod hardening;
mod health;
mod helpers;
mod intake_pages;
mod pages;
mod reference;
mod reports;
mod restart;
mod schedules;
mod sessions;
mod staff_scope;
mod throttles;
mod window;
