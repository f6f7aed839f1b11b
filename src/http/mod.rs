//! What the JSON API and the pages share of HTTP: who the client is and who is signed in, and
//! the answers that carry a paper or a file. Both layers stand on this; neither imports the other for it.

pub mod client;
pub mod downloads;
pub mod export;
pub mod extractors;
pub mod problem;

pub use client::client_address;
pub use downloads::{csv_response, ics_response, pdf_response, register_csv};
pub use export::export_response;
pub use extractors::{Applicant, Guarded, Staff};
pub use problem::HttpError;
