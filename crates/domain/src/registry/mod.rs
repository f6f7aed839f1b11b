//! The citizen registry (docs/REGISTRY.md): US citizens in Mexico register a stay so the
//! embassy can reach them in an emergency and, if they want it, send them its newsletter.
//! Anyone registers, without an account; the address is confirmed before anything else is
//! sent; a signed link in every message lets the person see, change or delete the
//! registration. Stays are kept until a set number of days after they end. Staff read only
//! their district's, and every read is audited. Emergency messages and newsletters
//! (`bulletins`) go to their recipients through the outbox, queued in one statement.

pub mod bulletins;
pub mod links;
pub mod states;
pub mod stays;
