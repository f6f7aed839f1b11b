//! The OpenAPI schemas of request fields the server checks, one function per rule, each
//! stating exactly what the parser beside the rule accepts (`accounts::fields`,
//! `calendar`, `booking::party`, ...). Used with `#[schema(schema_with = ...)]` and
//! `#[param(schema_with = ...)]`. schemathesis in CI holds the two together.
//!
//! It stands below the API, not in it, because the domain's own request types (a booking's
//! party, an intake, a fee) carry these schemas, and the domain does not import the API.
//!
//! Patterns keep to what ECMA-262, Python's `re` and Rust's `regex` read alike: ASCII classes
//! and `\uXXXX` escapes.

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type,
};

/// Controls and the invisible format characters a name may not hold, as a character-class
/// body; the same set as `accounts::fields::invisible` below U+10000 (above it, tags and
/// private use are refused too, which no portable pattern can say).
const INVISIBLE: &str = r"\u0000-\u001F\u007F-\u009F\u00AD\u034F\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uE000-\uF8FF\uFDD0-\uFDEF\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// `accounts::fields::Email`.
pub fn email() -> Object {
    string()
        .max_length(Some(254))
        .pattern(Some(
            r"^[^\s@\u0000-\u001F\u007F-\u009F\u00AD\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        ))
        .description(Some("an e-mail address; stored lower-cased"))
        .examples(["ana.lopez@example.mx"])
        .build()
}

/// An optional `accounts::fields::Email`: null (or absent, or empty) for none. The same
/// local part as [`email`]: the invisible characters an address refuses are refused here too.
pub fn optional_email() -> Object {
    nullable_string()
        .max_length(Some(254))
        .pattern(Some(
            r"^$|^[^\s@\u0000-\u001F\u007F-\u009F\u00AD\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        ))
        .description(Some("an e-mail address, stored lower-cased; null, absent or empty for none"))
        .examples(["ana.lopez@example.mx"])
        .build()
}

/// `accounts::fields::NewPassword`: 10 to 128 characters, not only spaces.
pub fn new_password() -> Object {
    string()
        .min_length(Some(10))
        .max_length(Some(128))
        .pattern(Some(r"\S"))
        .description(Some("10 to 128 characters, not only spaces"))
        .build()
}

/// `accounts::fields::PersonName`: 1 to 200 characters with a visible one, no controls or
/// invisible format characters; stored NFC with inner spaces collapsed.
pub fn person_name() -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(200))
        .pattern(Some(visible_text()))
        .examples(["José Núñez"])
        .build()
}

/// `accounts::fields::Username`.
pub fn username() -> Object {
    string().pattern(Some(r"^[A-Za-z0-9._-]{3,64}$")).description(Some("stored lower-cased")).build()
}

/// A post code in a body (`accounts::staff::parse_post`); null for every post.
pub fn optional_post() -> Object {
    nullable_string()
        .pattern(Some(r"^[A-Za-z]{3}$"))
        .description(Some("a post code such as MEX; null or absent for every post"))
        .build()
}

/// `calendar::clock_time`: exactly `HH:MM`.
const CLOCK_TIME: &str = r"^([01][0-9]|2[0-3]):[0-5][0-9]$";

/// `calendar::clock_time`.
pub fn clock_time() -> Object {
    string().pattern(Some(CLOCK_TIME)).examples(["08:00"]).build()
}

/// An optional `calendar::clock_time`.
pub fn optional_clock_time() -> Object {
    nullable_string().pattern(Some(CLOCK_TIME)).examples(["12:00"]).build()
}

const YEARS_2000_TO_2200: &str = r"^(2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// `calendar::plausible`: a date from 2000 to 2200.
pub fn plausible_date() -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(YEARS_2000_TO_2200))
        .build()
}

/// A date of birth (`booking::party`): from 1900, not in the future; empty means not given.
pub fn birth_date() -> Object {
    nullable_string()
        .pattern(Some(r"^$|^(19[0-9]{2}|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
        .description(Some("YYYY-MM-DD, from 1900 to today; empty or absent when not given"))
        .build()
}

/// `booking::party::parse_phone`: 7 to 20 digits, with spaces and `+ ( ) - .` between.
pub fn phone() -> Object {
    nullable_string()
        .pattern(Some(r"^[ +().-]*([0-9][ +().-]*){7,20}$"))
        .examples(["+52 55 5080 2000"])
        .build()
}

/// `booking::free_text`: 1 to `max` characters, not only white space, none of the control or
/// invisible characters names refuse.
fn free_text(max: usize) -> ObjectBuilder {
    string().min_length(Some(1)).max_length(Some(max)).pattern(Some(visible_text()))
}

/// Not only white space, and none of [`INVISIBLE`]: names' and `booking::free_text`'s pattern.
fn visible_text() -> String {
    format!("^[^{INVISIBLE}]*[^{INVISIBLE}\\s][^{INVISIBLE}]*$")
}

/// An emergency message's or newsletter's subject: one visible line of up to 150 characters.
pub fn bulletin_subject() -> Object {
    free_text(150).build()
}

/// An emergency message's or newsletter's body: up to 10 000 characters with a visible one;
/// line breaks allowed, other controls and invisible format characters not.
pub fn bulletin_body() -> Object {
    let hidden = INVISIBLE.replacen(r"\u0000-\u001F", r"\u0000-\u0009\u000B\u000C\u000E-\u001F", 1);
    string()
        .min_length(Some(1))
        .max_length(Some(10_000))
        .pattern(Some(format!("^[^{hidden}]*[^{hidden}\\s][^{hidden}]*$")))
        .build()
}

/// A closure's reason: `booking::free_text` up to 200 characters.
pub fn reason() -> Object {
    free_text(200).build()
}

/// ISO weekdays of an opening: 1 (Monday) to 7 (Sunday), each at most once.
pub fn weekdays() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(7)))
        .min_items(Some(1))
        .max_items(Some(7))
        .unique_items(true)
        .build()
}

/// `audit::Action`: the actions the trail records.
pub fn audit_action() -> Object {
    string()
        .enum_values(Some(crate::audit::Action::ALL.iter().map(|a| a.as_str())))
        .description(Some("what happened, as `<entity>.<verb>`"))
        .build()
}

/// `window::rules::LINES`: the services the window has a line for.
pub fn window_service() -> Object {
    string()
        .enum_values(Some(crate::window::rules::LINES.iter().map(|(code, _)| *code)))
        .description(Some("a service the window serves"))
        .build()
}

/// A walk-in's, a late check-in's or a staff change's reason: `booking::free_text` up to
/// 500 characters.
pub fn window_reason() -> Object {
    free_text(crate::window::rules::MAX_REASON_CHARS).build()
}

/// An optional reason or note: `booking::free_text` up to 500 characters, or absent/null.
pub fn window_reason_optional() -> Object {
    nullable_string()
        .min_length(Some(1))
        .max_length(Some(crate::window::rules::MAX_REASON_CHARS))
        .pattern(Some(visible_text()))
        .build()
}

/// `window::rules::WalkIn`: a walk-in's kind.
pub fn walk_in_kind() -> Object {
    string().enum_values(Some(["routine", "emergency"])).build()
}

/// `window::rules::EMERGENCY_REASONS`: an emergency walk-in's reason code.
pub fn walk_in_reason() -> Object {
    let mut codes: Vec<Option<&str>> =
        crate::window::rules::EMERGENCY_REASONS.iter().map(|(code, _)| Some(*code)).collect();
    codes.push(None);
    nullable_string().enum_values(Some(codes)).build()
}

/// A window's label: `booking::free_text` up to 20 characters.
pub fn window_label() -> Object {
    free_text(20).examples(["3"]).build()
}

/// `documents::identity::DocumentNumber`: 5 to 20 letters and digits, spaces and dashes
/// between.
const DOCUMENT_NUMBER: &str = r"^[ -]*([A-Za-z0-9][ -]*){5,20}$";

/// An optional `documents::identity::DocumentNumber`.
pub fn document_number() -> Object {
    nullable_string()
        .pattern(Some(DOCUMENT_NUMBER))
        .description(Some("kept only masked (last 4) with a keyed hash"))
        .build()
}

/// `documents::identity::DocumentNumber`.
pub fn required_document_number() -> Object {
    string()
        .pattern(Some(DOCUMENT_NUMBER))
        .description(Some("kept only masked (last 4) with a keyed hash"))
        .build()
}

/// A date in the past (`documents::intake`): from 1900, not after the appointment's day.
pub fn past_date() -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(r"^(19[0-9]{2}|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
        .build()
}

/// A document's title or a venue: optional `booking::free_text` up to 200 characters.
pub fn title() -> Object {
    nullable_string().min_length(Some(1)).max_length(Some(200)).pattern(Some(visible_text())).build()
}

/// A transition's note: optional `booking::free_text` up to 500 characters.
pub fn note() -> Object {
    nullable_string()
        .min_length(Some(1))
        .max_length(Some(crate::documents::tracking::MAX_NOTE_CHARS))
        .pattern(Some(visible_text()))
        .build()
}

/// A document's title: `booking::free_text` up to 200 characters.
pub fn required_title() -> Object {
    free_text(200).build()
}

/// An optional `calendar::plausible` date; empty means not given.
pub fn optional_plausible_date() -> Object {
    nullable_string().pattern(Some(format!("^$|{YEARS_2000_TO_2200}"))).build()
}

/// An online payment's reference (`fees::receipts`): 4 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn payment_reference() -> Object {
    nullable_string().pattern(Some(r"^[A-Za-z0-9._-]{4,64}$")).examples(["PAY-2026-88412"]).build()
}

/// An optional booking reference (`K7Q-M4X-PT9`); one that names nothing is 404.
pub fn optional_reference() -> Object {
    nullable_string().max_length(Some(64)).examples(["K7Q-M4X-PT9"]).build()
}

/// An optional tracking number (`7KQM-4XPT-9ABCD`); one that names nothing is 404.
pub fn optional_tracking_number() -> Object {
    nullable_string().max_length(Some(64)).examples(["7KQM-4XPT-9ABCD"]).build()
}

/// An optional `accounts::fields::PersonName`.
pub fn optional_person_name() -> Object {
    nullable_string().min_length(Some(1)).max_length(Some(200)).pattern(Some(visible_text())).build()
}

/// `fees::money::LOCAL_CURRENCY`: the one currency exchange rates are set for.
pub fn local_currency() -> Object {
    string().enum_values(Some([crate::fees::money::LOCAL_CURRENCY.as_str()])).build()
}

/// What `feedback::FeedbackText` refuses: [`INVISIBLE`] less the tab, the line feed and the
/// carriage return, which a text of several lines holds.
const INVISIBLE_IN_LINES: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u034F\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uE000-\uF8FF\uFDD0-\uFDEF\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF";

/// `feedback::FeedbackText`: 1 to 4,000 characters with a visible one; line breaks and tabs
/// allowed, no other control or invisible format character.
pub fn feedback_text() -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(crate::feedback::MAX_TEXT_CHARS))
        .pattern(Some(format!("^[^{INVISIBLE_IN_LINES}]*[^{INVISIBLE}\\s][^{INVISIBLE_IN_LINES}]*$")))
        .description(Some(
            "what the person thinks: 1 to 4000 characters, line breaks allowed; kept trimmed, \
             with line ends as LF",
        ))
        .examples(["La cita fue puntual y el personal muy amable."])
        .build()
}

/// A feedback's optional service: a code of `GET /api/v1/services`; null, absent or empty
/// for none.
pub fn optional_service() -> Object {
    nullable_string()
        .max_length(Some(64))
        .description(Some("a service code (GET /api/v1/services); null, absent or empty for none"))
        .examples(["passport-renewal"])
        .build()
}

/// A post code in a body: three letters, any case (`reference::post_code`).
pub fn post() -> Object {
    string().pattern(Some(r"^[A-Za-z]{3}$")).description(Some("a post code such as MEX")).build()
}

/// `wording::Lang`: `en` or `es`; null or absent for `en`.
pub fn optional_language() -> Object {
    nullable_string()
        .enum_values(Some([Some("en"), Some("es"), None]))
        .description(Some("`en` or `es`, the language the text is written in; `en` by default"))
        .build()
}
