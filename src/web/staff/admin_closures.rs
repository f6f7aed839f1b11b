//! The admins' closures: a day or part of one closed, or opened again.

use super::*;
use crate::http::HttpError;
use crate::web::extract::{CsrfForm, StaffPage};
use crate::web::field_errors::Shown;
use crate::web::i18n::PageLang;

/// A post's closures from today over the booking horizon, and a form to close a day or part
/// of one.
#[get("/staff/admin/closures")]
pub async fn closures(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, HttpError> {
    let post = post_of(&admin, query.into_inner().post);
    closures_page(&state, &req, &admin, post, &ClosureForm::default(), &Shown::default()).await
}

/// The closures page; after a refused closure, with the form as typed and its errors.
async fn closures_page(
    state: &AppState,
    req: &HttpRequest,
    admin: &StaffPage<AdminOnly>,
    post: String,
    typed: &ClosureForm,
    shown: &Shown,
) -> Result<HttpResponse, HttpError> {
    let (lang, now) = (admin.lang, state.clock.naive());
    let horizon = i64::from(state.settings.booking.horizon_days);
    let (reader, asked) = ((*admin).clone(), post.clone());
    let found = state
        .db(move |conn| {
            let tz = calendar::post_zone(conn, &asked)?;
            let from = calendar::local_date(now, tz);
            closures_op::list(conn, &reader, &asked, tz, from, from + chrono::Duration::days(horizon))
        })
        .await;
    let list = match found {
        Ok(list) => list,
        Err(e) => return refused(req, lang, e),
    };
    let title = format!("{} · {}", lang.t(("Closures", "Cierres")), post);
    let status = shown.status();
    Ok(form_page(req, status, lang, &title, "/staff/admin/closures", |csrf| {
        html! {
            @if admin.post.is_none() { (crate::web::pickers::post_switch(lang, "/staff/admin/closures", &post)) }
            @if list.is_empty() { p { (lang.t(("No closures ahead.", "No hay cierres próximos."))) } }
            ul {
                @for c in &list {
                    li {
                        (lang.date(c.date))
                        @if let (Some(from), Some(to)) = (&c.from, &c.to) { " " (from) "–" (to) }
                        " · " (c.reason)
                        @if !c.to_rebook.is_empty() { " · " strong { (c.to_rebook.len()) " " (lang.t(("appointments to offer another time", "citas por reprogramar"))) } }
                        form method="post" action={ "/staff/admin/closures/" (c.id) "/remove" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="post" value=(post);
                            button type="submit" aria-label={ (lang.t(("Remove the closure of", "Quitar el cierre del"))) " " (lang.date(c.date)) } { (lang.t(("Remove", "Quitar"))) }
                        }
                    }
                }
            }
            h2 { (lang.t(("Close a day or part of one", "Cerrar un día o parte de él"))) }
            form #close method="post" action="/staff/admin/closures" {
                (shown.general(&["date", "from", "to", "reason"]))
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(post);
                label for="closure_date" { (lang.t(("Date (the post's)", "Fecha (de la sede)"))) }
                input #closure_date name="date" type="date" required value=(typed.date)
                    aria-invalid=[shown.invalid("date")] aria-describedby=[shown.described_by("date", "closure_date")];
                (shown.beside("date", "closure_date"))
                label for="closure_from" { (lang.t(("From (HH:MM, empty for the whole day)", "Desde (HH:MM, vacío para todo el día)"))) }
                input #closure_from name="from" type="text" maxlength="5" placeholder="HH:MM" value=(typed.from.clone().unwrap_or_default())
                    aria-invalid=[shown.invalid("from")] aria-describedby=[shown.described_by("from", "closure_from")];
                (shown.beside("from", "closure_from"))
                label for="closure_to" { (lang.t(("To (HH:MM)", "Hasta (HH:MM)"))) }
                input #closure_to name="to" type="text" maxlength="5" placeholder="HH:MM" value=(typed.to.clone().unwrap_or_default())
                    aria-invalid=[shown.invalid("to")] aria-describedby=[shown.described_by("to", "closure_to")];
                (shown.beside("to", "closure_to"))
                label for="closure_reason" { (lang.t(("Reason", "Motivo"))) }
                input #closure_reason name="reason" type="text" maxlength="200" required value=(typed.reason)
                    aria-invalid=[shown.invalid("reason")] aria-describedby=[shown.described_by("reason", "closure_reason")];
                (shown.beside("reason", "closure_reason"))
                button type="submit" { (lang.t(("Close", "Cerrar"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize, Default)]
pub struct ClosureForm {
    csrf: String,
    post: String,
    /// As typed: an empty or unreadable date comes back beside the field, not as a bad form.
    #[serde(default)]
    date: String,
    from: Option<String>,
    to: Option<String>,
    reason: String,
}

#[post("/staff/admin/closures")]
pub async fn close_day(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: CsrfForm<ClosureForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = admin.lang;
    let form = form.into_inner();
    let post = crate::reference::normalise_post(&form.post);
    let Ok(date) = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d") else {
        let shown = Shown::on("date", lang.t(("Choose the date.", "Elija la fecha.")));
        return closures_page(&state, &req, &admin, post, &form, &shown).await;
    };
    let blank = |t: &Option<String>| t.clone().filter(|t| !t.trim().is_empty());
    let request =
        ClosureRequest { date, from: blank(&form.from), to: blank(&form.to), reason: form.reason.clone() };
    match closures_op::close(
        &state.pool,
        &state.availability,
        state.clock.naive(),
        admin.actor(),
        post.clone(),
        request,
    )
    .await
    {
        Ok(_) => Ok(redirect(&format!("/staff/admin/closures?post={post}"))),
        Err(e) if e.code().status() < 500 && e.code() != Code::WrongPost => {
            closures_page(&state, &req, &admin, post, &form, &Shown::of(lang, &e)).await
        }
        Err(e) => refused(&req, lang, e),
    }
}

#[post("/staff/admin/closures/{id}/remove")]
pub async fn remove_closure(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    id: web::Path<String>,
    form: CsrfForm<PostForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let PostForm { post, .. } = form.into_inner();
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let post = crate::reference::normalise_post(&post);
    match closures_op::reopen(
        &state.pool,
        &state.availability,
        state.clock.naive(),
        admin.actor(),
        post.clone(),
        id,
    )
    .await
    {
        Ok(()) => Ok(redirect(&format!("/staff/admin/closures?post={post}"))),
        Err(e) => refused(&req, lang, e),
    }
}

crate::web::extract::carries_csrf!(ClosureForm);
