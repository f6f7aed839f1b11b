//! What a refused form shows: each rule's error beside its field, in the page's language, and
//! a line at the top for what belongs to no field. Pages re-render the form with what was
//! typed and these, instead of a page that only says what went wrong.

use maud::{html, Markup};

use crate::error::{AppError, FieldError};
use crate::web::i18n::{Lang, PageLang};

/// An error a page shows beside `field`, already in the page's language: a broken rule's
/// words, or what the page says itself (a form that expired, an address already taken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub field: String,
    pub text: String,
}

impl PageError {
    pub fn new(field: impl Into<String>, text: impl Into<String>) -> PageError {
        PageError { field: field.into(), text: text.into() }
    }
}

/// A rule's errors in the page's language.
pub fn worded(lang: Lang, errors: &[FieldError]) -> Vec<PageError> {
    errors.iter().map(|e| PageError::new(e.field.clone(), lang.rule(&e.rule))).collect()
}

/// Errors by field name (`form` for the page's own line), already in the page's language.
#[derive(Debug, Default, Clone)]
pub struct Shown(Vec<(String, String)>, Option<u16>);

impl Shown {
    /// An operation's refusal: a rule's errors by field; anything else as the page's line.
    pub fn of(lang: Lang, e: &AppError) -> Shown {
        match e {
            AppError::Validation { errors, .. } => {
                Shown(errors.iter().map(|f| (f.field.clone(), lang.rule(&f.rule))).collect(), Some(422))
            }
            e => Shown(vec![("form".into(), crate::web::staff::refusal(lang, e))], Some(e.code().status())),
        }
    }

    /// One error the page found itself, beside `field`.
    pub fn on(field: &str, text: &str) -> Shown {
        Shown(vec![(field.into(), text.into())], Some(422))
    }

    /// A line about the whole form, in the page's words, with the refusal's status (a form
    /// that expired, a throttle).
    pub fn said(text: &str, status: u16) -> Shown {
        Shown(vec![("form".into(), text.into())], Some(status))
    }

    /// The page's status: 200 with nothing refused, else the refusal's (422 for a rule).
    pub fn status(&self) -> actix_web::http::StatusCode {
        let code = if self.0.is_empty() { 200 } else { self.1.unwrap_or(422) };
        actix_web::http::StatusCode::from_u16(code)
            .unwrap_or(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
    }

    /// The same errors with the rule's field `from` named as the form's input `to`.
    pub fn renamed(mut self, from: &str, to: &str) -> Shown {
        for (field, _) in &mut self.0 {
            if field == from {
                *field = to.to_string();
            }
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn text(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, t)| t.as_str())
    }

    /// `aria-invalid` of the input for `field`.
    pub fn invalid(&self, field: &str) -> Option<&'static str> {
        self.text(field).map(|_| "true")
    }

    /// The error's id, for the input's `aria-describedby`.
    pub fn described_by(&self, field: &str, input_id: &str) -> Option<String> {
        self.text(field).map(|_| format!("{input_id}-error"))
    }

    /// The error beside the input `input_id` for `field`, if any.
    pub fn beside(&self, field: &str, input_id: &str) -> Markup {
        html! { @if let Some(text) = self.text(field) { span.field-error id={ (input_id) "-error" } { (text) } } }
    }

    /// The page's line (errors of no field, or of fields the form doesn't show), announced.
    pub fn general(&self, shown_fields: &[&str]) -> Markup {
        let lines: Vec<&str> = self
            .0
            .iter()
            .filter(|(f, _)| !shown_fields.contains(&f.as_str()))
            .map(|(_, t)| t.as_str())
            .collect();
        html! { @if !lines.is_empty() { p.error role="alert" { @for line in lines { (line) " " } } } }
    }
}
