//! The folder the test app writes its messages to (the embedded default transport), read back
//! with a real MIME parser: each `.eml` is one message.

use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};

/// A message as a reader sees it.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `(file name, content type with its parameters, bytes)`.
    pub attachments: Vec<(String, String, Vec<u8>)>,
    /// The header lines as sent, unfolded: `(name, value)`.
    pub headers: Vec<(String, String)>,
}

impl Received {
    /// The first header called `name` (any case), as sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first `https?://…` address in the text body that contains `path`.
    pub fn link(&self, path: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(path))
            .unwrap_or_else(|| panic!("a link to {path} in {}", self.text))
            .trim_end_matches(['.', ','])
            .to_string()
    }

    /// The `token` of the first link to `path`.
    pub fn token(&self, path: &str) -> String {
        let link = self.link(path);
        link.split("token=").nth(1).unwrap_or_else(|| panic!("a token in {link}")).to_string()
    }

    pub fn attachment(&self, suffix: &str) -> Option<&(String, String, Vec<u8>)> {
        self.attachments.iter().find(|(name, _, _)| name.ends_with(suffix))
    }
}

pub struct Mailbox {
    dir: tempfile::TempDir,
}

impl Mailbox {
    pub fn new() -> Mailbox {
        Mailbox { dir: tempfile::tempdir().expect("a mail folder") }
    }

    /// The settings that send the app's mail here, promptly.
    pub fn settings(&self) -> [(&'static str, String); 2] {
        [
            ("CONSULAR_DESK_MAIL_DIR", self.dir.path().display().to_string()),
            ("CONSULAR_DESK_MAIL_POLL_MS", "20".to_string()),
        ]
    }

    /// Every message in the folder now.
    pub fn all(&self) -> Vec<Received> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("the mail folder").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "eml") {
                out.push(parse(&std::fs::read(&path).expect("a message file")));
            }
        }
        out
    }

    /// Waits (up to 60 s: the whole suite shares two cores) until a message to `to` whose subject contains `subject` is here.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Received {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(found) = self.all().into_iter().find(|m| m.to == to && m.subject.contains(subject)) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no message to {to} about {subject:?}; have {:?}",
                self.subjects()
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The raw `.eml` of the first message to `to` whose subject contains `subject`, headers
    /// and all (what a header-level check reads).
    pub fn raw(&self, to: &str, subject: &str) -> Option<String> {
        std::fs::read_dir(self.dir.path()).expect("the mail folder").flatten().find_map(|entry| {
            let path = entry.path();
            let bytes = std::fs::read(&path).ok().filter(|_| path.extension().is_some_and(|e| e == "eml"))?;
            let message = parse(&bytes);
            (message.to == to && message.subject.contains(subject))
                .then(|| String::from_utf8_lossy(&bytes).into_owned())
        })
    }

    /// The messages to `to`, after giving the sender time to send what is queued.
    pub async fn settled_for(&self, to: &str) -> Vec<Received> {
        actix_web::rt::time::sleep(Duration::from_millis(400)).await;
        self.all().into_iter().filter(|m| m.to == to).collect()
    }

    fn subjects(&self) -> Vec<(String, String)> {
        self.all().into_iter().map(|m| (m.to, m.subject)).collect()
    }
}

pub fn parse(raw: &[u8]) -> Received {
    let message = MessageParser::default().parse(raw).expect("a parseable message");
    let head = String::from_utf8_lossy(raw);
    let head = head.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ").replace("\r\n\t", " ");
    let headers = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':').map(|(n, v)| (n.trim().to_string(), v.trim().to_string())))
        .collect();
    let address = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string()
    };
    Received {
        message_id: message.message_id().unwrap_or_default().to_string(),
        to: address(message.to()),
        from: address(message.from()),
        subject: message.subject().unwrap_or_default().to_string(),
        text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        attachments: message
            .attachments()
            .map(|part| {
                let kind = part
                    .content_type()
                    .map(|t| {
                        let mut s = format!("{}/{}", t.c_type, t.c_subtype.as_deref().unwrap_or(""));
                        if let Some(method) = t.attribute("method") {
                            s.push_str(&format!("; method={method}"));
                        }
                        s
                    })
                    .unwrap_or_default();
                (part.attachment_name().unwrap_or_default().to_string(), kind, part.contents().to_vec())
            })
            .collect(),
        headers,
    }
}
