//! The messages' words: `mail_templates/{kind}.{lang}.txt` (a `Subject:` line, a blank line,
//! the body with `{value}`s), one HTML layout per language and one footer per language with
//! the emergency numbers. The plain-text body is the filled template and the footer; the HTML
//! body is the same text in the layout, a paragraph per blank-line block, `- ` lines as a list
//! and web addresses as links, everything escaped. Loaded and checked once at start-up, like
//! the PDF templates: a missing file, a subject missing, or a `{value}` its kind doesn't have
//! stops the server with the file's name.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};

use crate::mail::Kind;
use crate::wording::Lang;

const LANGS: [Lang; 2] = [Lang::En, Lang::Es];

#[derive(Debug)]
struct Template {
    subject: String,
    body: String,
}

/// Every kind's template in both languages, the layouts and the footers.
#[derive(Debug)]
pub struct MailTemplates {
    messages: HashMap<(Kind, Lang), Template>,
    layouts: HashMap<Lang, String>,
    footers: HashMap<Lang, String>,
}

/// A message drawn from its template: what the sender puts in the mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MailTemplates {
    pub fn load(dir: &Path) -> anyhow::Result<MailTemplates> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("mail template {}", path.display()))
        };
        let mut messages = HashMap::new();
        let mut layouts = HashMap::new();
        let mut footers = HashMap::new();
        for lang in LANGS {
            let layout = read(&format!("layout.{}.html", lang.code()))?;
            for needed in ["{subject}", "{body}", "{footer}"] {
                if !layout.contains(needed) {
                    bail!("mail template layout.{}.html: {needed} is missing", lang.code());
                }
            }
            layouts.insert(lang, layout);
            footers.insert(lang, read(&format!("footer.{}.txt", lang.code()))?.trim().to_string());
            for kind in Kind::ALL {
                let name = format!("{}.{}.txt", kind.code(), lang.code());
                let template = parse(&read(&name)?).with_context(|| format!("mail template {name}"))?;
                for value in placeholders(&template.subject).chain(placeholders(&template.body)) {
                    if !kind.values().contains(&value) {
                        bail!("mail template {name}: {{{value}}} is not one of {}", kind.values().join(", "));
                    }
                }
                messages.insert((*kind, lang), template);
            }
        }
        Ok(MailTemplates { messages, layouts, footers })
    }

    /// `kind`'s message in `lang` with `values` filled in (a value not given prints empty).
    pub fn draw(&self, kind: Kind, lang: Lang, values: &HashMap<String, String>) -> anyhow::Result<Drawn> {
        let template = self.messages.get(&(kind, lang)).context("no template (checked at start)")?;
        let layout = self.layouts.get(&lang).context("no layout (checked at start)")?;
        let footer = self.footers.get(&lang).map_or("", String::as_str);
        // A header can't hold a line break.
        let subject = fill(&template.subject, values).replace(['\r', '\n'], " ");
        let body = fill(&template.body, values);
        let text = format!("{}\n\n-- \n{footer}\n", body.trim_end());
        let html = layout
            .replace("{subject}", &escape(&subject))
            .replace("{footer}", &to_html(footer))
            .replace("{body}", &to_html(&body));
        Ok(Drawn { subject, text, html })
    }
}

fn parse(raw: &str) -> anyhow::Result<Template> {
    let raw = raw.replace("\r\n", "\n");
    let (first, body) = raw.split_once('\n').unwrap_or((raw.as_str(), ""));
    let Some(subject) = first.strip_prefix("Subject:") else {
        bail!("the first line must be `Subject: …`");
    };
    let subject = subject.trim();
    if subject.is_empty() {
        bail!("the subject is empty");
    }
    Ok(Template { subject: subject.to_string(), body: body.trim().to_string() })
}

/// The names in `{name}` marks.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

fn fill(text: &str, values: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start + 1..].find('}') {
            Some(len) => {
                let name = &rest[start + 1..start + 1 + len];
                out.push_str(values.get(name).map_or("", String::as_str));
                rest = &rest[start + len + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text as HTML: blocks split by blank lines become paragraphs (or a list when every
/// line starts with `- `), line breaks inside a paragraph stay, addresses become links.
fn to_html(text: &str) -> String {
    let mut out = String::new();
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let lines: Vec<&str> = block.lines().map(str::trim).collect();
        if lines.iter().all(|l| l.starts_with("- ")) {
            out.push_str("<ul>");
            for line in lines {
                out.push_str(&format!("<li>{}</li>", linked(&escape(&line[2..]))));
            }
            out.push_str("</ul>\n");
        } else {
            let joined: Vec<String> = lines.iter().map(|l| linked(&escape(l))).collect();
            out.push_str(&format!("<p>{}</p>\n", joined.join("<br>")));
        }
    }
    out
}

/// Escaped text with every `http://` or `https://` word made a link.
fn linked(escaped: &str) -> String {
    escaped
        .split(' ')
        .map(|word| {
            if word.starts_with("http://") || word.starts_with("https://") {
                format!("<a href=\"{word}\">{word}</a>")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn fills_named_values_and_leaves_unknown_ones_empty() {
        let v = values(&[("name", "Ana"), ("link", "https://x/y?a=1&b=2")]);
        assert_eq!(fill("Hello {name}, open {link}. {other}!", &v), "Hello Ana, open https://x/y?a=1&b=2. !");
        assert_eq!(fill("a { b", &v), "a { b");
    }

    #[test]
    fn html_escapes_values_and_links_addresses() {
        let html =
            to_html("Hi <b>Ana</b> & co\nsecond line\n\n- one\n- two\n\nGo to https://a.b/c?x=1&y=2 now");
        assert_eq!(
            html,
            "<p>Hi &lt;b&gt;Ana&lt;/b&gt; &amp; co<br>second line</p>\n<ul><li>one</li><li>two</li></ul>\n\
             <p>Go to <a href=\"https://a.b/c?x=1&amp;y=2\">https://a.b/c?x=1&amp;y=2</a> now</p>\n"
        );
    }

    #[test]
    fn the_repository_templates_load_and_name_only_their_values() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mail_templates");
        let templates = MailTemplates::load(&dir).expect("mail_templates load");
        for kind in Kind::ALL {
            for lang in LANGS {
                let drawn = templates.draw(*kind, lang, &HashMap::new()).expect("draws");
                assert!(!drawn.subject.is_empty());
                // The footer's emergency line is in both bodies.
                assert!(drawn.text.contains("+52 55 5080 2000"), "{kind:?} {lang:?}");
                assert!(drawn.html.contains("+52 55 5080 2000"), "{kind:?} {lang:?}");
            }
        }
    }

    #[test]
    fn a_subject_line_is_required() {
        assert!(parse("Hello\n\nbody").is_err());
        assert!(parse("Subject:   \n\nbody").is_err());
        let t = parse("Subject: Hi {name}\r\n\r\nBody").expect("parses");
        assert_eq!((t.subject.as_str(), t.body.as_str()), ("Hi {name}", "Body"));
    }
}
