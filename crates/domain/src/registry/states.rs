//! Mexico's states and the consular district each belongs to: seeded by the registry's
//! migration from DESIGN.md's map, corrected by admins. A stay registered by its state takes
//! the state's district; correcting a state's district moves its stays with it.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::db::schema::{mexican_states, posts, stays};
use crate::db::{write_transaction, DbConn};
use crate::error::AppError;
use crate::rule::Rule;

/// A state and its district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = mexican_states)]
pub struct MexicanState {
    /// ISO 3166-2:MX code without the country, e.g. `JAL`.
    pub code: String,
    pub name: String,
    /// The post whose consular district the state is in.
    #[diesel(column_name = post_code)]
    pub district: String,
}

/// Every state, by name.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<MexicanState>> {
    mexican_states::table.order(mexican_states::name).select(MexicanState::as_select()).load(conn)
}

/// Moves `code` to `district`, with every stay registered by that state; audited. 404 for an
/// unknown state, 422 for an unknown post.
pub fn reassign(
    conn: &mut DbConn,
    actor: &Actor,
    code: &str,
    district: &str,
    now: chrono::NaiveDateTime,
) -> Result<MexicanState, AppError> {
    let code = code.trim().to_uppercase();
    let district = district.trim().to_uppercase();
    write_transaction(conn, |c| {
        let post_exists: i64 = posts::table.filter(posts::code.eq(&district)).count().get_result(c)?;
        if post_exists == 0 {
            return Err(AppError::invalid_field("district", Rule::NotAPost));
        }
        let before: Option<String> =
            mexican_states::table.find(&code).select(mexican_states::post_code).first(c).optional()?;
        let Some(before) = before else {
            return Err(AppError::not_found(format!("no state {code}")));
        };
        diesel::update(mexican_states::table.find(&code))
            .set(mexican_states::post_code.eq(&district))
            .execute(c)?;
        let moved = diesel::update(stays::table.filter(stays::state_code.eq(&code)))
            .set(stays::district.eq(&district))
            .execute(c)?;
        let event = Event {
            change: serde_json::json!({"from": before, "to": district, "stays_moved": moved}),
            ..Event::new(Action::MexicanStateReassigned, &code)
        };
        audit::record(c, actor, event, now)?;
        Ok(mexican_states::table.find(&code).select(MexicanState::as_select()).first(c)?)
    })
}
