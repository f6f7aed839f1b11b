//! What the benchmarks share, one module a concern: fresh databases ([`db`]), the server under
//! load ([`server`]), concurrent HTTP loads ([`load`]), answers and latencies ([`latency`]),
//! resident memory ([`memory`]), bulk seeding ([`seed`]) and the SMTP server the mail bench
//! sends to ([`smtp`]).
// Each benchmark is its own crate and uses only part of this.
#![allow(dead_code)]

pub mod db;
pub mod latency;
pub mod load;
pub mod memory;
pub mod seed;
pub mod server;
pub mod smtp;
