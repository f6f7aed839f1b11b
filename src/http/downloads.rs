//! Papers and files as HTTP answers: the API and the pages hand out the same bytes under the
//! same headers.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::documents::register::{self, RegisterPage};

/// A PDF shown in the browser, under the paper's own file name.
pub fn pdf_response(pdf: Vec<u8>, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")))
        .body(pdf)
}

/// A calendar file to save, never cached (it changes with the appointment).
pub fn ics_response(text: String, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text)
}

/// A CSV file to save under `name`, never cached.
pub fn csv_response(text: String, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text)
}

/// The register as a CSV download: the API and the staff page answer with it.
pub fn register_csv(page: &RegisterPage) -> HttpResponse {
    let name = format!("notarial-register-{}-{}-{}.csv", page.post, page.from, page.to);
    csv_response(register::to_csv(page), &name)
}
