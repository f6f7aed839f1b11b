//! Mail that is never lost (docs/MAIL.md).
//!
//! A message is a row of the `outbox`, written in the transaction of the event that causes it
//! ([`outbox::enqueue`]), so a booking that commits has its confirmation queued and one that
//! rolls back has none. A sender on every instance ([`sender::send_due`]) claims due rows,
//! draws each message from `mail_templates/` ([`compose`]), hands it to SMTP or writes it as
//! an `.eml` file ([`transport`]) and marks it. Delivery is at least once: a crash between
//! sending and marking sends that message again after its claim runs out, with the same
//! `Message-ID` (made from the row), so a reader's mail program shows it once.

pub mod admin;
pub mod compose;
pub mod kind;
pub mod notices;
pub mod outbox;
pub mod pace;
pub mod reminders;
pub mod sender;
pub mod templates;
pub mod transport;

pub use kind::Kind;
pub use outbox::{enqueue, Letter};
