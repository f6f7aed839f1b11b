//! The admins' staff accounts: open, reset a password, reassign, disable or enable.

use super::*;

/// Staff accounts: every one the admin may manage, with a form to open one and a button to
/// disable or enable each.
#[get("/staff/admin/accounts")]
pub async fn accounts(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let reader = (*admin).clone();
    let records = state.db(move |conn| Ok(staff_accounts::list(conn, &reader)?)).await?;
    let title = lang.t(("Staff accounts", "Cuentas del personal"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/admin/accounts", |csrf| {
        html! {
            table {
                thead { tr {
                    th scope="col" { (lang.t(("Username", "Usuario"))) }
                    th scope="col" { (lang.t(("Role", "Función"))) }
                    th scope="col" { (lang.t(("Post", "Sede"))) }
                    th scope="col" { (lang.t(("State", "Estado"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                } }
                tbody {
                    @for r in &records {
                        tr {
                            td { (r.username) }
                            td { (r.role.as_str()) }
                            td { (r.post_code.as_deref().unwrap_or("—")) }
                            td { @if r.disabled_at.is_some() { (lang.t(("disabled", "deshabilitada"))) } @else { (lang.t(("active", "activa"))) } }
                            td {
                                @if r.username != admin.username {
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/password" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @let id = format!("password-{}", r.username);
                                        label for=(id) { (lang.t(("New password for", "Contraseña nueva para"))) " " (r.username) }
                                        input id=(id) name="password" type="password" autocomplete="new-password" required;
                                        button type="submit" { (lang.t(("Reset", "Restablecer"))) }
                                    }
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/assignment" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @let role_id = format!("role-{}", r.username);
                                        label for=(role_id) { (lang.t(("Role of", "Función de"))) " " (r.username) }
                                        select id=(role_id) name="role" {
                                            @for role in Role::ALL { option value=(role.as_str()) selected[role == r.role] { (role.as_str()) } }
                                        }
                                        @let post_id = format!("post-{}", r.username);
                                        label for=(post_id) { (lang.t(("Post of", "Sede de"))) " " (r.username) }
                                        input id=(post_id) name="post" type="text" maxlength="3" value=(r.post_code.as_deref().unwrap_or(""));
                                        button type="submit" { (lang.t(("Move", "Cambiar"))) }
                                    }
                                    @let (verb, text) = if r.disabled_at.is_some() { ("enable", lang.t(("Enable", "Habilitar"))) } else { ("disable", lang.t(("Disable", "Deshabilitar"))) };
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/" (verb) } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" aria-label={ (text) " " (r.username) } { (text) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (lang.t(("Open an account", "Abrir una cuenta"))) }
            form method="post" action="/staff/admin/accounts" {
                input type="hidden" name="csrf" value=(csrf);
                label for="new_username" { (lang.t(("Username", "Usuario"))) }
                input #new_username name="username" type="text" maxlength="64" autocomplete="off" required;
                label for="new_password" { (lang.t(("Password (10 characters or more)", "Contraseña (10 caracteres o más)"))) }
                input #new_password name="password" type="password" autocomplete="new-password" required;
                label for="new_role" { (lang.t(("Role", "Función"))) }
                select #new_role name="role" {
                    @for role in Role::ALL { option value=(role.as_str()) { (role.as_str()) } }
                }
                label for="new_post" { (lang.t(("Post (empty: every post)", "Sede (vacío: todas)"))) }
                input #new_post name="post" type="text" maxlength="3";
                button type="submit" { (lang.t(("Open the account", "Abrir la cuenta"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize)]
pub struct AccountForm {
    csrf: String,
    username: String,
    password: String,
    role: String,
    post: Option<String>,
}

#[post("/staff/admin/accounts")]
pub async fn open_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let post = form.post.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let opened = match NewStaff::parse(&form.username, &form.password, &form.role, post) {
        Ok(new) => staff_accounts::open_account(&state, admin.actor(), new).await,
        Err(e) => Err(e),
    };
    match opened {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}

#[post("/staff/admin/accounts/{username}/{verb}")]
pub async fn switch_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let (username, verb) = path.into_inner();
    let disabled = match verb.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró.")))),
    };
    let actor = admin.actor();
    let done = state
        .db(move |conn| {
            staff_accounts::set_disabled(conn, &actor, &username, disabled, Utc::now().naive_utc())
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    password: String,
}

/// Sets a new password on a staff account: every session of it ends.
#[post("/staff/admin/accounts/{username}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    username: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let ResetForm { csrf, password } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let password = match crate::accounts::fields::NewPassword::parse(&password) {
        Ok(password) => password,
        Err(message) => return Ok(said(&req, StatusCode::UNPROCESSABLE_ENTITY, lang, &message)),
    };
    match staff_accounts::reset_password(&state, &admin.actor(), username.into_inner(), password).await {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct AssignmentForm {
    csrf: String,
    role: String,
    post: Option<String>,
}

/// Gives a staff account another role or post: its sessions end, so the next page it opens
/// is under the new assignment.
#[post("/staff/admin/accounts/{username}/assignment")]
pub async fn reassign(
    state: web::Data<AppState>,
    req: HttpRequest,
    username: web::Path<String>,
    form: web::Form<AssignmentForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let AssignmentForm { csrf, role, post } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let post = post.filter(|p| !p.trim().is_empty());
    let assignment = match staff_accounts::Assignment::parse(&role, post.as_deref()) {
        Ok(assignment) => assignment,
        Err(e) => return refused(&req, lang, e),
    };
    let (actor, username) = (admin.actor(), username.into_inner());
    let done = state
        .db(move |conn| {
            staff_accounts::reassign(conn, &actor, &username, &assignment, Utc::now().naive_utc())
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}
