//! Staff sign-in and sign-out: the staff session cookie.

use super::*;

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    pub(super) csrf: String,
}

fn sign_in_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let title = lang.t(("Staff sign-in", "Acceso del personal"));
    form_page(req, status, lang, title, "/staff/sign-in", |csrf| {
        html! {
            form method="post" action="/staff/sign-in" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                label for="username" { (lang.t(("Username", "Usuario"))) }
                @if let Some(error) = error {
                    p.error id="username-error" { (error) }
                    input #username name="username" type="text" value=(username) autocomplete="username" aria-invalid="true" aria-describedby="username-error" required;
                } @else {
                    input #username name="username" type="text" value=(username) autocomplete="username" required;
                }
                label for="password" { (lang.t(("Password", "Contraseña"))) }
                input #password name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (lang.t(("Sign in", "Iniciar sesión"))) }
            }
        }
    })
}

#[get("/staff/sign-in")]
pub async fn sign_in_form(req: HttpRequest) -> HttpResponse {
    sign_in_page(&req, Lang::of(&req), StatusCode::OK, "", None)
}

#[post("/staff/sign-in")]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let SignInForm { username, password, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        let expired = lang.t((
            "This form has expired. Please sign in again.",
            "Este formulario caducó. Inicie sesión de nuevo.",
        ));
        return Ok(sign_in_page(&req, lang, StatusCode::FORBIDDEN, &username, Some(expired)));
    }
    let checked = login_flow::check_password(
        &state.account_tools(),
        Actor::Anonymous,
        Audience::Staff,
        &username,
        password,
        client_address(&req),
    )
    .await;
    let signed_in = match checked {
        Ok(signed_in) => signed_in,
        Err(e) if e.code() == Code::InvalidCredentials => {
            let wrong = lang.t((
                "The username or the password is not correct.",
                "El usuario o la contraseña no son correctos.",
            ));
            return Ok(sign_in_page(&req, lang, StatusCode::UNAUTHORIZED, &username, Some(wrong)));
        }
        Err(e) if e.code() == Code::TooManyRequests => {
            let wait = lang.t((
                "Too many attempts. Please wait a few minutes.",
                "Demasiados intentos. Espere unos minutos.",
            ));
            return Ok(sign_in_page(&req, lang, StatusCode::TOO_MANY_REQUESTS, &username, Some(wait)));
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now();
    let (token, expires_at) = state
        .keys
        .issue(Audience::Staff, &signed_in.subject.to_string(), signed_in.credential_version, now)
        .map_err(AppError::internal)?;
    let cookie = Cookie::build(STAFF_SESSION, token)
        .path("/staff")
        .http_only(true)
        .secure(session::over_tls(&req))
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds((expires_at - now).num_seconds()))
        .finish();
    let home =
        signed_in.role.as_deref().and_then(Role::parse).map_or("/staff", crate::web::layout::start_page);
    let mut response = redirect(home);
    let _ = response.add_cookie(&cookie);
    let _ = response.add_cookie(&session::renewed_csrf(&req));
    // A new session starts at no window: the last person's window is not this one's.
    let _ = response.add_cookie(&forgotten_window());
    Ok(response)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    /// Present when "Sign out everywhere" was pressed.
    everywhere: Option<String>,
}

/// Ends this session (or, with `everywhere`, every session of the account) on the server, not
/// only in this browser: the cookie's token stops working on the API too.
#[post("/staff/sign-out")]
pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, HttpError> {
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(redirect("/staff"));
    }
    if let Ok(who) = member::<AnyStaff>(&state, &req).await {
        match form.everywhere {
            Some(_) => sessions::sign_out_everywhere(&state.pool, state.clock.naive(), who.actor()).await?,
            None => {
                sessions::sign_out(
                    &state.pool,
                    state.clock.naive(),
                    who.actor(),
                    Audience::Staff,
                    who.session.clone(),
                )
                .await?
            }
        }
    }
    let mut removal = Cookie::build(STAFF_SESSION, "").path("/staff").finish();
    removal.make_removal();
    let mut response = redirect("/staff/sign-in");
    let _ = response.add_cookie(&removal);
    let _ = response.add_cookie(&forgotten_window());
    let _ = response.add_cookie(&session::renewed_csrf(&req));
    Ok(response)
}

/// The window remembered for a session, removed when the session ends or another begins.
fn forgotten_window() -> Cookie<'static> {
    let mut removal = Cookie::build(crate::web::extract::WINDOW_COOKIE, "").path("/staff").finish();
    removal.make_removal();
    removal
}

pub(crate) fn sign_out_button(lang: Lang, csrf: &str) -> Markup {
    crate::web::layout::sign_out_form(lang, csrf, "/staff/sign-out")
}
