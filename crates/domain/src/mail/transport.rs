//! Where messages go: an SMTP server (`CONSULAR_DESK_SMTP_URL`) or, without one, `.eml` files
//! in a folder that a person can open (`CONSULAR_DESK_MAIL_DIR`, the embedded default).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};

/// How long one SMTP exchange may take before the try counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

pub enum Transport {
    Smtp(SmtpTransport),
    Folder(PathBuf),
}

impl Transport {
    /// `smtp://user:password@host:port` (STARTTLS when the server offers it; add
    /// `?tls=required` to insist on it), or `smtps://…` (TLS from the first byte). Without a URL,
    /// the folder, made private (0700) if it doesn't exist.
    pub fn new(smtp_url: Option<&str>, folder: &Path) -> anyhow::Result<Transport> {
        match smtp_url {
            Some(url) => {
                let mut builder = SmtpTransport::from_url(url).context("CONSULAR_DESK_SMTP_URL")?;
                if url.starts_with("smtp://") && !url.contains("tls=") {
                    let host = url
                        .trim_start_matches("smtp://")
                        .rsplit('@')
                        .next()
                        .and_then(|h| h.split([':', '/', '?']).next())
                        .unwrap_or_default()
                        .to_string();
                    let params =
                        TlsParameters::new(host).context("CONSULAR_DESK_SMTP_URL: TLS parameters")?;
                    builder = builder.tls(Tls::Opportunistic(params));
                }
                Ok(Transport::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
            }
            None => {
                private_dir(folder)?;
                Ok(Transport::Folder(folder.to_path_buf()))
            }
        }
    }

    /// Hands one message over. The error is the reason kept with the message (no address or
    /// body in it beyond what the server replied).
    pub fn send(&self, message: &Message, message_id: &str) -> Result<(), String> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).map(|_| ()).map_err(|e| e.to_string()),
            Transport::Folder(dir) => write_file(dir, message, message_id).map_err(|e| format!("{e:#}")),
        }
    }

    /// What kind of transport this is, for the start-up log line.
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(_) => "smtp".into(),
            Transport::Folder(dir) => format!("folder {}", dir.display()),
        }
    }
}

/// Writes `<message-id>.eml` (0600) through a temporary file, so a reader never sees half a
/// message and a message sent again replaces its own file instead of adding a second.
fn write_file(dir: &Path, message: &Message, message_id: &str) -> anyhow::Result<()> {
    let name: String = message_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .collect();
    let path = dir.join(format!("{name}.eml"));
    let temp = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp).with_context(|| format!("writing {}", temp.display()))?;
    file.write_all(&message.formatted())?;
    file.sync_all()?;
    std::fs::rename(&temp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("CONSULAR_DESK_MAIL_DIR {}", dir.display()))
}
