//! The cash close sheet (PDF) through the API; the closes themselves are in [`crate::api::fees`].

use actix_web::{get, web, HttpResponse};

use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::ClerkPlus;
use crate::error::AppError;
use crate::http::{HttpError, Staff};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

/// A cash close's sheet, to keep with the cash: A4, English and Spanish, with the post, the
/// day, the clerk, each method's expected, counted and difference, the explanation, the
/// receipts it covers, who signed and when, and the signature lines. Staff of the post.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("post" = String, Path,), ("id" = i64, Path,)), responses(
    (status = 200, description = "the PDF", content_type = "application/pdf", body = Vec<u8>),
    Denied,
    (status = 404, description = "no such close at the post", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/closeouts/{id}/sheet.pdf")]
pub async fn close_sheet(
    state: web::Data<AppState>,
    staff: Staff<ClerkPlus>,
    post: PostCode,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let id: i64 = path.1.parse().map_err(|_| AppError::not_found("no such cash close"))?;
    let (pdf, name) =
        crate::pdf::close_sheet::printed(&state.pool, &state.templates, staff.actor(), post.into_inner(), id)
            .await?;
    Ok(crate::http::pdf_response(pdf, &name))
}
