//! The staff search: one text, everything it can name within the caller's posts.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::AnyStaff;
use crate::http::{Guarded, HttpError, Staff};
use crate::search::{self as finder, SearchResults};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// A booking reference (as typed or as the confirmation's QR code holds it), a receipt or
    /// register entry number (`MEX-2027-000123`), a tracking number, a name or the start of
    /// one (`lop` finds López), a phone number, or the last four of a document number. 1 to
    /// 100 characters.
    #[param(required = true, min_length = 1, max_length = 100, pattern = r"\S")]
    q: Option<String>,
    /// For staff bound to no post: search this post only (every post by default). Staff bound
    /// to a post search it, and naming another is refused.
    post: Option<String>,
}

/// Finds visits, receipts, register entries and documents by what a clerk has at hand: at
/// most 50, numbers first, then names (each word a prefix of a word of the name, accents and
/// case aside), newest first.
#[utoipa::path(tag = "search", security(("staff_token" = [])), params(SearchQuery), responses(
    (status = 200, body = SearchResults),
    (status = 400, description = "No text, or more than 100 characters: `invalid_query`", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, description = "`post` names no post", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/search")]
pub async fn search_all(
    state: web::Data<AppState>,
    request: Guarded<Staff<AnyStaff>, web::Query<SearchQuery>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(member, query) = request;
    let SearchQuery { q, post } = query.into_inner();
    run(&state, member, q, post).await
}

/// The same search within one post (the contract's form of it).
#[utoipa::path(tag = "search", security(("staff_token" = [])), params(("post" = String, Path,), SearchQuery), responses(
    (status = 200, body = SearchResults),
    (status = 400, description = "No text, or more than 100 characters: `invalid_query`", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, description = "No such post", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/search")]
pub async fn search_post(
    state: web::Data<AppState>,
    request: Guarded<Staff<AnyStaff>, web::Query<SearchQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let Guarded(member, query) = request;
    run(&state, member, query.into_inner().q, Some(post.into_inner())).await
}

async fn run(
    state: &AppState,
    member: Staff<AnyStaff>,
    q: Option<String>,
    post: Option<String>,
) -> Result<HttpResponse, HttpError> {
    let query = finder::parse(q.as_deref().unwrap_or_default()).map_err(finder::refusal)?;
    let actor = member.actor();
    let found = state
        .db(move |conn| {
            let posts = finder::scope(conn, &actor, post.as_deref())?;
            finder::search(conn, &posts, &query)
        })
        .await?;
    Ok(HttpResponse::Ok().json(found))
}
