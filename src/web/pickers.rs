//! Choices a person picks rather than types: a mistyped post code ("MXE") is a dead end, a
//! list of the posts by name is not.

use maud::{html, Markup};

use crate::reference::Post;
use crate::web::i18n::Lang;

/// A `<select>` of the posts by city and code, `selected` chosen; with `all`, a first option
/// (value `all`) for every post.
pub fn post_select(
    lang: Lang,
    name: &str,
    id: &str,
    posts: &[Post],
    selected: Option<&str>,
    all: bool,
) -> Markup {
    html! {
        select id=(id) name=(name) {
            @if all {
                option value="all" selected[selected.is_none_or(|s| s == "all")] { (lang.t(("Every post", "Todas las sedes"))) }
            }
            @for post in posts {
                option value=(post.code) selected[selected == Some(post.code.as_str())] {
                    (post.city) " (" (post.code) ")"
                }
            }
        }
    }
}
