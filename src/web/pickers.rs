//! Choices a person picks rather than types: a mistyped post code ("MXE") is a dead end, a
//! list of the posts by city is not. The posts are the seeded reference set.

use maud::{html, Markup};

use crate::reference::seed::POSTS;
use crate::web::i18n::Lang;

/// A `<select>` of the posts by city and code, `selected` chosen; with `all`, a first option
/// (value `all`) for every post.
pub fn post_select(lang: Lang, name: &str, id: &str, selected: Option<&str>, all: bool) -> Markup {
    html! {
        select id=(id) name=(name) {
            @if all {
                option value="all" selected[selected.is_none_or(|s| s == "all")] { (lang.t(("Every post", "Todas las sedes"))) }
            }
            @for post in POSTS {
                option value=(post.code) selected[selected == Some(post.code)] { (crate::web::names::city(lang, post.code, post.city)) " (" (post.code) ")" }
            }
        }
    }
}

/// For staff who work at every post: a small form that opens `action` for another post.
pub fn post_switch(lang: Lang, action: &str, current: &str) -> Markup {
    html! {
        form.post-switch method="get" action=(action) {
            label for="switch-post" { (lang.t(("Post", "Sede"))) }
            " " (post_select(lang, "post", "switch-post", Some(current), false)) " "
            button type="submit" { (lang.t(("Show", "Mostrar"))) }
        }
    }
}
