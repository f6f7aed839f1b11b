//! The admins' staff accounts: open, reset a password, reassign, disable or enable. A refused
//! form comes back on the same page with what was typed and each error beside its field.

use super::*;
use crate::accounts::staff::StaffRecord;
use crate::http::HttpError;
use crate::reference::Post;
use crate::web::extract::{carries_csrf, CsrfForm, StaffPage};
use crate::web::field_errors::{worded, PageError};

#[derive(Deserialize, Default, Clone)]
pub struct AccountForm {
    csrf: String,
    username: String,
    password: String,
    role: String,
    post: Option<String>,
    /// Optional: where the messages about the account go.
    email: Option<String>,
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    password: String,
}

#[derive(Deserialize)]
pub struct AssignmentForm {
    csrf: String,
    role: String,
    post: Option<String>,
}

#[derive(Deserialize)]
pub struct EmailForm {
    csrf: String,
    /// Empty to remove the address.
    #[serde(default)]
    email: String,
}

carries_csrf!(AccountForm, ResetForm, AssignmentForm, EmailForm);

/// Which form on the page a refusal is about, with what was typed there.
enum Refused {
    Open(AccountForm),
    Password { username: String },
    Assignment { username: String, role: String, post: Option<String> },
    Email { username: String, email: String },
}

/// A refused form: the form, its errors by field, and a line for what belongs to no field.
struct Problem {
    status: StatusCode,
    form: Refused,
    errors: Vec<PageError>,
    general: Option<String>,
}

impl Problem {
    /// Splits an operation's refusal into field errors (in the page's language) and a line.
    fn of(lang: Lang, form: Refused, e: &AppError) -> Problem {
        let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        match e {
            AppError::Validation { errors, .. } => {
                Problem { status, form, errors: worded(lang, errors), general: None }
            }
            // The post the form names is unknown: said beside the post, not as "Not found".
            e if e.code() == Code::NotFound => Problem {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors: vec![PageError::new(
                    "form",
                    lang.t(("No post has that code.", "Ninguna sede tiene ese código.")),
                )],
                general: None,
            },
            e => Problem { status, form, errors: Vec::new(), general: Some(refusal(lang, e)) },
        }
    }

    /// The error beside `field` of the refused form `which`, in the page's language.
    fn beside(&self, which: &str, field: &str) -> Option<String> {
        let this = match &self.form {
            Refused::Open(_) => which == "open",
            Refused::Password { username }
            | Refused::Assignment { username, .. }
            | Refused::Email { username, .. } => which == format!("{}:{username}", self.kind()),
        };
        let error = self.errors.iter().find(|e| e.field == field || (e.field == "form" && field == "post"));
        this.then_some(error).flatten().map(|e| e.text.clone())
    }

    fn kind(&self) -> &'static str {
        match self.form {
            Refused::Open(_) => "open",
            Refused::Password { .. } => "password",
            Refused::Assignment { .. } => "assignment",
            Refused::Email { .. } => "email",
        }
    }
}

/// An error's text beside its input, tied to it for screen readers by `id`.
fn field_error(id: &str, error: &Option<String>) -> Markup {
    html! { @if let Some(error) = error { span.field-error id=(id) role="alert" { (error) } } }
}

async fn load(
    state: &AppState,
    admin: &crate::auth::StaffMember,
) -> Result<(Vec<StaffRecord>, Vec<Post>), AppError> {
    let reader = admin.clone();
    state
        .db(move |conn| Ok((staff_accounts::list(conn, &reader)?, crate::reference::list_posts(conn)?)))
        .await
}

fn accounts_page(
    req: &HttpRequest,
    lang: Lang,
    admin: &str,
    (records, posts): (Vec<StaffRecord>, Vec<Post>),
    problem: Option<Problem>,
) -> HttpResponse {
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let title = lang.t(("Staff accounts", "Cuentas del personal"));
    let typed = match problem.as_ref().map(|p| &p.form) {
        Some(Refused::Open(form)) => form.clone(),
        _ => AccountForm::default(),
    };
    let beside = |which: &str, field: &str| problem.as_ref().and_then(|p| p.beside(which, field));
    form_page(req, status, lang, title, "/staff/admin/accounts", |csrf| {
        html! {
            @if let Some(line) = problem.as_ref().and_then(|p| p.general.clone()) {
                p.error role="alert" { (line) }
            }
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
                            td { (names::role(lang, r.role)) }
                            td { (r.post_code.as_deref().unwrap_or("—")) }
                            td { @if r.disabled_at.is_some() { (lang.t(("disabled", "deshabilitada"))) } @else { (lang.t(("active", "activa"))) } }
                            td {
                                @if r.username != admin {
                                    @let password_key = format!("password:{}", r.username);
                                    @let password_error = beside(&password_key, "password");
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/password" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @let id = format!("password-{}", r.username);
                                        @let error_id = format!("{id}-error");
                                        label for=(id) { (lang.t(("New password for", "Contraseña nueva para"))) " " (r.username) }
                                        input id=(id) name="password" type="password" autocomplete="new-password" required
                                            aria-invalid=[password_error.as_ref().map(|_| "true")] aria-describedby=[password_error.as_ref().map(|_| error_id.as_str())];
                                        (field_error(&error_id, &password_error))
                                        button type="submit" { (lang.t(("Reset", "Restablecer"))) }
                                    }
                                    @let assignment_key = format!("assignment:{}", r.username);
                                    @let (role_now, post_now) = match problem.as_ref().map(|p| &p.form) {
                                        Some(Refused::Assignment { username, role, post }) if *username == r.username => (Role::parse(role).unwrap_or(r.role), post.clone()),
                                        _ => (r.role, r.post_code.clone()),
                                    };
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/assignment" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @let role_id = format!("role-{}", r.username);
                                        label for=(role_id) { (lang.t(("Role of", "Función de"))) " " (r.username) }
                                        select id=(role_id) name="role" {
                                            @for role in Role::ALL { option value=(role.as_str()) selected[role == role_now] { (names::role(lang, role)) } }
                                        }
                                        @let post_id = format!("post-{}", r.username);
                                        label for=(post_id) { (lang.t(("Post of", "Sede de"))) " " (r.username) }
                                        (post_choice(lang, &post_id, &posts, post_now.as_deref()))
                                        (field_error(&format!("{post_id}-error"), &beside(&assignment_key, "post")))
                                        button type="submit" { (lang.t(("Move", "Cambiar"))) }
                                    }
                                    @let email_key = format!("email:{}", r.username);
                                    @let email_error = beside(&email_key, "email");
                                    @let email_now = match problem.as_ref().map(|p| &p.form) {
                                        Some(Refused::Email { username, email }) if *username == r.username => email.clone(),
                                        _ => r.email.clone().unwrap_or_default(),
                                    };
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/email" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @let id = format!("email-{}", r.username);
                                        @let error_id = format!("{id}-error");
                                        label for=(id) { (lang.t(("E-mail address of", "Correo electrónico de"))) " " (r.username) }
                                        input id=(id) name="email" type="email" maxlength="254" autocomplete="off" value=(email_now)
                                            aria-invalid=[email_error.as_ref().map(|_| "true")] aria-describedby=[email_error.as_ref().map(|_| error_id.as_str())];
                                        (field_error(&error_id, &email_error))
                                        button type="submit" { (lang.t(("Save the address", "Guardar el correo"))) }
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
            h2 #open { (lang.t(("Open an account", "Abrir una cuenta"))) }
            form method="post" action="/staff/admin/accounts" {
                input type="hidden" name="csrf" value=(csrf);
                @let username_error = beside("open", "username");
                label for="new_username" { (lang.t(("Username", "Usuario"))) }
                input #new_username name="username" type="text" maxlength="64" autocomplete="off" required value=(typed.username)
                    aria-invalid=[username_error.as_ref().map(|_| "true")] aria-describedby=[username_error.as_ref().map(|_| "new_username-error")];
                (field_error("new_username-error", &username_error))
                @let password_error = beside("open", "password");
                label for="new_password" { (lang.t(("Password (10 characters or more)", "Contraseña (10 caracteres o más)"))) }
                input #new_password name="password" type="password" autocomplete="new-password" required
                    aria-invalid=[password_error.as_ref().map(|_| "true")] aria-describedby=[password_error.as_ref().map(|_| "new_password-error")];
                (field_error("new_password-error", &password_error))
                label for="new_role" { (lang.t(("Role", "Función"))) }
                select #new_role name="role" {
                    @for role in Role::ALL { option value=(role.as_str()) selected[typed.role == role.as_str()] { (names::role(lang, role)) } }
                }
                (field_error("new_role-error", &beside("open", "role")))
                label for="new_post" { (lang.t(("Post", "Sede"))) }
                (post_choice(lang, "new_post", &posts, typed.post.as_deref()))
                (field_error("new_post-error", &beside("open", "post")))
                @let email_error = beside("open", "email");
                label for="new_email" { (lang.t(("E-mail address for messages about the account (optional)", "Correo electrónico para los mensajes sobre la cuenta (opcional)"))) }
                input #new_email name="email" type="email" maxlength="254" autocomplete="off" value=(typed.email.clone().unwrap_or_default())
                    aria-invalid=[email_error.as_ref().map(|_| "true")] aria-describedby=[email_error.as_ref().map(|_| "new_email-error")];
                (field_error("new_email-error", &email_error))
                button type="submit" { (lang.t(("Open the account", "Abrir la cuenta"))) }
            }
            (sign_out_button(lang, csrf))
        }
    })
}

/// A post picked from the list, or none (the account works at every post).
fn post_choice(lang: Lang, id: &str, posts: &[Post], chosen: Option<&str>) -> Markup {
    let chosen = chosen.map(str::trim).filter(|p| !p.is_empty());
    html! {
        select id=(id) name="post" {
            option value="" selected[chosen.is_none()] { (lang.t(("Every post", "Todas las sedes"))) }
            @for post in posts {
                option value=(post.code) selected[chosen == Some(post.code.as_str())] { (post.city) " (" (post.code) ")" }
            }
        }
    }
}

/// Staff accounts: every one the admin may manage, with a form to open one and a button to
/// disable or enable each.
#[get("/staff/admin/accounts")]
pub async fn accounts(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
) -> Result<HttpResponse, HttpError> {
    let found = load(&state, &admin.member).await?;
    Ok(accounts_page(&req, admin.lang, &admin.username, found, None))
}

/// The page again after a refusal, with the refused form as it was typed.
async fn refused_form(
    state: &AppState,
    req: &HttpRequest,
    admin: &StaffPage<AdminOnly>,
    form: Refused,
    e: AppError,
) -> Result<HttpResponse, HttpError> {
    if e.code().status() >= 500 {
        return Err(e.into());
    }
    let problem = Problem::of(admin.lang, form, &e);
    let found = load(state, &admin.member).await?;
    Ok(accounts_page(req, admin.lang, &admin.username, found, Some(problem)))
}

#[post("/staff/admin/accounts")]
pub async fn open_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: CsrfForm<AccountForm>,
) -> Result<HttpResponse, HttpError> {
    let form = form.into_inner();
    let post = form.post.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let email = form.email.as_deref().map(str::trim);
    let opened = match NewStaff::parse(&form.username, &form.password, &form.role, post, email) {
        Ok(new) => staff_accounts::open_account(&state.account_tools(), admin.actor(), new).await,
        Err(e) => Err(e),
    };
    match opened {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => {
            let typed = AccountForm { password: String::new(), ..form };
            refused_form(&state, &req, &admin, Refused::Open(typed), e).await
        }
    }
}

#[post("/staff/admin/accounts/{username}/{verb}")]
pub async fn switch_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    path: web::Path<(String, String)>,
    _form: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, HttpError> {
    let (lang, now) = (admin.lang, state.clock.naive());
    let (username, verb) = path.into_inner();
    let disabled = match verb.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró.")))),
    };
    let actor = admin.actor();
    let done =
        state.db(move |conn| staff_accounts::set_disabled(conn, &actor, &username, disabled, now)).await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}

/// Sets a new password on a staff account: every session of it ends.
#[post("/staff/admin/accounts/{username}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    username: web::Path<String>,
    form: CsrfForm<ResetForm>,
) -> Result<HttpResponse, HttpError> {
    let username = username.into_inner();
    let password = match crate::accounts::fields::NewPassword::parse(&form.password) {
        Ok(password) => password,
        Err(rule) => {
            let e = AppError::invalid(vec![crate::error::FieldError::new("password", rule)]);
            return refused_form(&state, &req, &admin, Refused::Password { username }, e).await;
        }
    };
    match staff_accounts::reset_password(&state.account_tools(), &admin.actor(), username.clone(), password)
        .await
    {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused_form(&state, &req, &admin, Refused::Password { username }, e).await,
    }
}

/// Gives a staff account another role or post: its sessions end, so the next page it opens
/// is under the new assignment.
#[post("/staff/admin/accounts/{username}/assignment")]
pub async fn reassign(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    username: web::Path<String>,
    form: CsrfForm<AssignmentForm>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let AssignmentForm { role, post, .. } = form.into_inner();
    let post = post.filter(|p| !p.trim().is_empty());
    let username = username.into_inner();
    let typed = || Refused::Assignment { username: username.clone(), role: role.clone(), post: post.clone() };
    let assignment = match staff_accounts::Assignment::parse(&role, post.as_deref()) {
        Ok(assignment) => assignment,
        Err(e) => return refused_form(&state, &req, &admin, typed(), e).await,
    };
    let (actor, target) = (admin.actor(), username.clone());
    let done = state.db(move |conn| staff_accounts::reassign(conn, &actor, &target, &assignment, now)).await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused_form(&state, &req, &admin, typed(), e).await,
    }
}

/// Sets or removes (empty) the address a staff account's messages go to.
#[post("/staff/admin/accounts/{username}/email")]
pub async fn set_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    username: web::Path<String>,
    form: CsrfForm<EmailForm>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let typed = form.into_inner().email.trim().to_string();
    let username = username.into_inner();
    let refused_email = || Refused::Email { username: username.clone(), email: typed.clone() };
    let email = match staff_accounts::parse_email(Some(&typed)) {
        Ok(email) => email,
        Err(e) => {
            return refused_form(&state, &req, &admin, refused_email(), AppError::invalid(vec![e])).await
        }
    };
    let (actor, target) = (admin.actor(), username.clone());
    let done = state.db(move |conn| staff_accounts::set_email(conn, &actor, &target, email, now)).await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused_form(&state, &req, &admin, refused_email(), e).await,
    }
}
