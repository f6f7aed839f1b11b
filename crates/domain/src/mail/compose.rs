//! A claimed outbox row made into a message: its template filled in, an appointment's details
//! read as they are now, its confirmation PDF and calendar file attached, and a `Message-ID`
//! made from the row so every try of one message carries the same id.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use crate::booking::appointments;
use crate::booking::ics;
use crate::booking::reference_code::Reference;
use crate::db::DbConn;
use crate::mail::outbox::Claimed;
use crate::mail::templates::MailTemplates;
use crate::mail::Kind;
use crate::pdf::Templates;
use crate::registry::links::{self, StayKey};
use crate::registry::{bulletins, stays};
use crate::wording::{self, Lang};

/// What composing needs besides the row: the words, the papers, the sender's address and the
/// public address links point to.
pub struct Composer {
    pub mail: Arc<MailTemplates>,
    pub papers: Arc<Templates>,
    pub from: Mailbox,
    pub public_url: String,
    /// Signs the registry's links (to manage a stay, to stop the newsletter).
    pub stay_links: Arc<StayKey>,
}

/// What a claimed row becomes: a message to send, or nothing, because what it was about is
/// gone or no longer wants it (a deleted registration; the newsletter turned off).
pub enum Composed {
    Message(Box<Message>, String),
    Withdrawn(&'static str),
}

/// RFC 2369 `List-Unsubscribe`, with RFC 8058's one-click `List-Unsubscribe-Post`.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

/// The message's id: the row's id and the time it was queued, at the public address's host;
/// the same on every try.
pub fn message_id(claimed: &Claimed, public_url: &str) -> String {
    let host = public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("consular-desk.invalid");
    format!("<outbox.{}.{}@{host}>", claimed.id, claimed.created_at.and_utc().timestamp())
}

impl Composer {
    /// The message for `claimed`, sent `now`. An error here (an appointment gone, a bad
    /// address) is the try's failure reason.
    pub fn compose(
        &self,
        conn: &mut DbConn,
        claimed: &Claimed,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Composed> {
        let kind = Kind::parse(&claimed.kind).with_context(|| format!("unknown kind {}", claimed.kind))?;
        let lang = Lang::parse(&claimed.language).unwrap_or(Lang::En);
        let payload: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&claimed.payload).context("the message's values")?;
        let mut values: HashMap<String, String> =
            payload.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
        let mut attachments = Vec::new();
        if kind.is_appointment() {
            self.appointment(conn, kind, lang, &mut values, &mut attachments, now)?;
        }
        if kind == Kind::DocumentReady {
            self.document(conn, &mut values)?;
        }
        let mut unsubscribe = None;
        if kind.is_registry() {
            match self.registry(conn, kind, lang, &mut values)? {
                Ok(link) => unsubscribe = link,
                Err(why) => return Ok(Composed::Withdrawn(why)),
            }
        }
        let drawn = self.mail.draw(kind, lang, &values)?;
        let id = message_id(claimed, &self.public_url);
        let to: Mailbox = claimed.recipient.parse().context("the recipient's address")?;
        let bodies = MultiPart::alternative_plain_html(drawn.text, drawn.html);
        let body = if attachments.is_empty() {
            bodies
        } else {
            attachments.into_iter().fold(MultiPart::mixed().multipart(bodies), |m, part| m.singlepart(part))
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(drawn.subject)
            .message_id(Some(id.clone()))
            .date(now.into());
        if let Some(url) = unsubscribe {
            builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
        }
        let message = builder.multipart(body).context("building the message")?;
        Ok(Composed::Message(Box::new(message), id))
    }

    /// Fills in a registry message from its stay (and bulletin): the link to manage the stay,
    /// and the newsletter's unsubscribe address, which it returns. `Err(why)` when the message
    /// must not go: the stay is deleted, or no longer wants it.
    fn registry(
        &self,
        conn: &mut DbConn,
        kind: Kind,
        lang: Lang,
        values: &mut HashMap<String, String>,
    ) -> anyhow::Result<Result<Option<String>, &'static str>> {
        let id: i64 =
            values.get("stay").and_then(|s| s.parse().ok()).context("a registry message without its stay")?;
        let Some(stay) = stays::recipient(conn, id)? else {
            return Ok(Err("the registration was deleted"));
        };
        let wanted = match kind {
            Kind::RegistryConfirm => !stay.confirmed,
            Kind::Emergency => stay.confirmed && stay.emergency_messages,
            _ => stay.confirmed && stay.newsletter,
        };
        if !wanted {
            return Ok(Err("the registration no longer asks for it"));
        }
        let url = |key: &StayKey| links::manage_url(&self.public_url, key, stay.id, &stay.email);
        values.insert("manage_url".into(), url(&self.stay_links));
        if kind == Kind::RegistryConfirm {
            values.insert(
                "travellers".into(),
                stay.travellers.iter().map(|t| format!("- {t}")).collect::<Vec<_>>().join("\n"),
            );
            values.insert("arrives".into(), stay.arrives.to_string());
            values.insert("departs".into(), stay.departs.to_string());
            let post = crate::reference::list_posts(conn)?.into_iter().find(|p| p.code == stay.district);
            values.insert("district".into(), post.map_or(stay.district.clone(), |p| p.name));
            return Ok(Ok(None));
        }
        let bulletin: i64 = values
            .get("bulletin")
            .and_then(|s| s.parse().ok())
            .context("a bulletin message without its bulletin")?;
        let (subject, body) =
            bulletins::words(conn, bulletin, lang == Lang::Es)?.context("the message is gone")?;
        values.insert("subject".into(), subject);
        values.insert("body".into(), body);
        if kind == Kind::Newsletter {
            let link = links::unsubscribe_url(&self.public_url, &self.stay_links, stay.id, &stay.email);
            values.insert("unsubscribe_url".into(), link.clone());
            return Ok(Ok(Some(link)));
        }
        Ok(Ok(None))
    }

    /// Fills in where to collect a document and the links to its state and to the account's
    /// settings (where the notices are turned off).
    fn document(&self, conn: &mut DbConn, values: &mut HashMap<String, String>) -> anyhow::Result<()> {
        let code = values.get("post_code").cloned().unwrap_or_default();
        let post = crate::reference::list_posts(conn)?.into_iter().find(|p| p.code == code);
        let base = self.public_url.trim_end_matches('/');
        let number = values.get("tracking_number").cloned().unwrap_or_default();
        let (name, address) = post.map_or((code, String::new()), |p| (p.name, p.address));
        values.insert("post".into(), name);
        values.insert("address".into(), address);
        values.insert("track_url".into(), format!("{base}/track?number={number}"));
        values.insert("settings_url".into(), format!("{base}/my/settings"));
        Ok(())
    }

    /// Fills in the appointment's details as they are now and attaches its papers: the
    /// confirmation PDF while it is kept, and the calendar file (a cancellation's removes it).
    fn appointment(
        &self,
        conn: &mut DbConn,
        kind: Kind,
        lang: Lang,
        values: &mut HashMap<String, String>,
        attachments: &mut Vec<SinglePart>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let reference = values.get("reference").context("an appointment message without its reference")?;
        let reference = Reference::parse(reference).context("the message's reference")?;
        let view = appointments::view(conn, &reference)?.context("the appointment is gone")?;
        let sequence = appointments::sequence(conn, &reference)?;
        let post = crate::reference::list_posts(conn)?.into_iter().find(|p| p.code == view.post);
        let event = ics::appointment_event(&view, post.as_ref(), sequence, lang, now)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let confirmation = crate::pdf::confirmation::of(conn, view.clone(), lang, &self.public_url)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let base = self.public_url.trim_end_matches('/');
        let service = wording::service(&view.service).map_or(view.service.clone(), |w| lang.t(w).to_string());
        let bring: Vec<String> = crate::pdf::confirmation::to_bring(&self.papers.confirmation, &confirmation)
            .into_iter()
            .map(|item| format!("- {item}"))
            .collect();
        let address = match &post {
            Some(p) if !p.address.is_empty() => format!("{}, {}", p.name, p.address),
            _ => confirmation.post_name.clone(),
        };
        for (name, value) in [
            ("service", service),
            ("post", confirmation.post_name.clone()),
            ("when", crate::calendar::printed(confirmation.starts)),
            ("address", address),
            ("manage_url", format!("{base}/my/{}", view.reference)),
            ("book_url", format!("{base}/book")),
            ("bring", bring.join("\n")),
        ] {
            values.insert(name.to_string(), value);
        }
        let calendar = ics::calendar(&event);
        let ics_type = if event.cancelled {
            "text/calendar; charset=utf-8; method=CANCEL"
        } else {
            "text/calendar; charset=utf-8; method=PUBLISH"
        };
        attachments.push(
            Attachment::new(format!("appointment-{}.ics", view.reference))
                .body(calendar, ContentType::parse(ics_type).context("calendar type")?),
        );
        if matches!(kind, Kind::AppointmentBooked | Kind::AppointmentRescheduled | Kind::AppointmentReminder)
        {
            let pdf = crate::pdf::confirmation::render(&self.papers, &confirmation);
            attachments.push(
                Attachment::new(format!("appointment-{}.pdf", view.reference))
                    .body(pdf, ContentType::parse("application/pdf").context("pdf type")?),
            );
        }
        Ok(())
    }
}
