//! The sender every instance runs: rounds of [`mail::sender::send_due`] off the async workers,
//! one after another while there is mail, then every `CONSULAR_DESK_MAIL_POLL_MS`.

use std::sync::Arc;

use anyhow::Context;

use crate::clock::Clock;
use crate::config::MailSettings;
use crate::db::Pool;
use crate::mail::compose::Composer;
use crate::mail::sender::{self, Policy};
use crate::mail::templates::MailTemplates;
use crate::mail::transport::Transport;
use crate::pdf::Templates;
use crate::registry::links::StayKey;

/// Everything a round needs, built (and checked) at start-up.
pub struct Sender {
    pool: Pool,
    transport: Transport,
    composer: Composer,
    policy: Policy,
    poll: std::time::Duration,
    clock: Clock,
}

impl Sender {
    /// Loads the mail templates and opens the transport: a bad template, address or URL stops
    /// the start.
    pub fn new(
        pool: Pool,
        settings: &MailSettings,
        papers: Arc<Templates>,
        public_url: &str,
        stay_links: Arc<StayKey>,
        clock: Clock,
    ) -> anyhow::Result<Sender> {
        let mail = MailTemplates::load(&settings.templates)?;
        let transport =
            Transport::new(settings.smtp_url.as_ref().map(|s| s.expose_text()), &settings.folder)?;
        let from = settings.from.parse().context("CONSULAR_DESK_MAIL_FROM is not an address")?;
        Ok(Sender {
            pool,
            transport,
            composer: Composer {
                mail: Arc::new(mail),
                papers,
                from,
                public_url: public_url.to_string(),
                stay_links,
            },
            policy: Policy {
                batch: i64::from(settings.batch),
                lease: settings.lease,
                max_tries: settings.max_tries,
                retry_base: settings.retry_base,
                rate_per_second: settings.rate_per_second,
            },
            poll: settings.poll,
            clock,
        })
    }

    /// Sends until the process ends.
    pub async fn run_forever(self) {
        tracing::info!(transport = %self.transport.describe(), "mail sender started");
        let sender = Arc::new(self);
        loop {
            let round = sender.clone();
            let outcome = actix_web::web::block(move || {
                sender::send_due(&round.pool, &round.transport, &round.composer, &round.policy, &round.clock)
            })
            .await;
            let full = match outcome {
                // The shared pace allows the next claim soon: wait for it, not a whole poll.
                Ok(Ok(round)) if round.paced.is_some() => {
                    let wait = round.paced.unwrap_or_default().min(sender.poll);
                    actix_web::rt::time::sleep(wait).await;
                    continue;
                }
                Ok(Ok(round)) => {
                    round.claimed as i64 == sender.policy.batch
                        || round.claimed > 0 && sender.policy.rate_per_second > 0
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %format!("{e:#}"), "mail round failed; will retry");
                    false
                }
                Err(e) => {
                    tracing::warn!(error = %e, "mail round panicked; will retry");
                    false
                }
            };
            // A full batch means more may be due: go on at once.
            if !full {
                actix_web::rt::time::sleep(sender.poll).await;
            }
        }
    }
}
