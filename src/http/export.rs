//! The fee report as a download: checked and audited, then streamed as it is written. The API
//! and the auditors' page both answer through here.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;

use crate::auth::roles::AuditorOrAdmin;
use crate::auth::Staff;
use crate::error::AppError;
use crate::reports::export::{self, Format, Job};
use crate::reports::fee_report::Scope;
use crate::state::AppState;

/// Checks and audits the export of `scope`, then streams it in `format`: the API and the
/// auditors' page both answer through here.
pub async fn export_response(
    state: &AppState,
    auditor: Staff<AuditorOrAdmin>,
    scope: Scope,
    format: Format,
    bom: bool,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let member = (*auditor).clone();
    let actor = auditor.actor();
    let scope = state
        .db(move |conn| {
            let scope = scope.check(conn, Some(&member))?;
            export::record(conn, &actor, &scope, format, now)?;
            Ok(scope)
        })
        .await?;
    let mut response = HttpResponse::Ok();
    response.content_type(format.content_type());
    if format != Format::Json {
        let name = export::file_name(&scope, format);
        response.insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")));
    }
    // Wait for a turn, then take the connection before answering: a busy pool is a 503, not a
    // 200 that breaks off.
    let turn = state.exports.clone().acquire_owned().await.map_err(AppError::internal)?;
    let pool = state.pool.clone();
    let mut conn = crate::blocking::run(move || pool.get()).await??;
    // Written on a blocking thread into a channel the response reads: the client gets the
    // report as it is made, and memory holds a few chunks, not the file.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, AppError>>(4);
    let (templates, generated_at) = (state.templates.clone(), state.clock.now());
    let producer = actix_web::rt::task::spawn_blocking(move || {
        let _turn = turn;
        let mut run = || -> Result<(), AppError> {
            let job = Job { scope: &scope, format, bom, generated_at, templates: &templates };
            export::write(&mut conn, &job, ChannelWriter(&sender), |_| ())?;
            Ok(())
        };
        if let Err(e) = run() {
            let _ = sender.blocking_send(Err(e));
        }
    });
    Ok(response.body(ChannelBody { chunks: receiver, producer: Some(producer) }))
}

/// Sends what is written down the channel; fails once the client has gone, which stops the
/// export.
struct ChannelWriter<'a>(&'a tokio::sync::mpsc::Sender<Result<Bytes, AppError>>);

impl std::io::Write for ChannelWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A response body fed by a channel: chunks as the producer sends them, then the end, only
/// once the producer has returned. An error (sent down the channel) or a panic (the producer
/// gone without returning) is an error of the body, so the response breaks off rather than
/// ending like a whole report: a truncated CSV would otherwise look like a shorter one.
struct ChannelBody {
    chunks: tokio::sync::mpsc::Receiver<Result<Bytes, AppError>>,
    producer: Option<actix_web::rt::task::JoinHandle<()>>,
}

impl MessageBody for ChannelBody {
    type Error = AppError;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if let Some(chunk) = ready!(this.chunks.poll_recv(cx)) {
            return Poll::Ready(Some(chunk));
        }
        // The channel closed: the producer has returned, or panicked.
        let Some(producer) = this.producer.as_mut() else { return Poll::Ready(None) };
        let ended = ready!(Pin::new(producer).poll(cx));
        this.producer = None;
        Poll::Ready(ended.err().map(|e| Err(AppError::internal(e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a body to its end, or to its first error.
    async fn read(body: ChannelBody) -> Result<Bytes, AppError> {
        actix_web::body::to_bytes(body).await
    }

    fn body(
        produce: impl FnOnce(&tokio::sync::mpsc::Sender<Result<Bytes, AppError>>) + Send + 'static,
    ) -> ChannelBody {
        let (sender, chunks) = tokio::sync::mpsc::channel(4);
        let producer = actix_web::rt::task::spawn_blocking(move || produce(&sender));
        ChannelBody { chunks, producer: Some(producer) }
    }

    #[actix_web::test]
    async fn a_body_ends_only_when_its_producer_returned() {
        let whole = body(|out| {
            let _ = out.blocking_send(Ok(Bytes::from_static(b"kind,date\r\n")));
        });
        assert_eq!(read(whole).await.expect("the whole body"), Bytes::from_static(b"kind,date\r\n"));
        let panicked = body(|out| {
            let _ = out.blocking_send(Ok(Bytes::from_static(b"kind,date\r\n")));
            panic!("half-way");
        });
        assert!(read(panicked).await.is_err(), "a producer that panicked breaks the body off");
        let failed = body(|out| {
            let _ = out.blocking_send(Ok(Bytes::from_static(b"{\"rows\":[")));
            let _ = out.blocking_send(Err(AppError::internal(anyhow::anyhow!("the database went away"))));
        });
        assert!(read(failed).await.is_err(), "an error breaks the body off");
    }
}
