//! Concurrent HTTP loads from the benchmark's own thread: one keep-alive client shared by many
//! tasks, each requesting back to back.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::latency::{Load, Tally};

/// One keep-alive HTTP/1.1 client for every task on the benchmark's thread, with room for
/// every connection.
pub fn http_client(connections: usize) -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().limit(connections.max(64) * 2))
        .timeout(Duration::from_secs(60))
        .finish()
}

/// What a GET answer must look like to count as good.
#[derive(Clone, Copy)]
pub enum Expect {
    /// 200, whatever the body.
    Any,
    /// 200 and a slot list with at least one slot.
    Slots,
}

impl Expect {
    /// Whether `body` passes. Cheap on purpose (the client shares the cores with the server):
    /// a compact serde_json availability answer with a slot contains `"slot_id":`.
    fn accepts(self, body: &[u8]) -> bool {
        const MARK: &[u8] = b"\"slot_id\":";
        match self {
            Expect::Any => true,
            Expect::Slots => body.windows(MARK.len()).any(|w| w == MARK),
        }
    }
}

/// `clients` tasks requesting `url` back to back until `done()` says stop; every answer is
/// read to the end.
pub async fn get_load(
    client: &awc::Client,
    url: &str,
    expect: Expect,
    clients: usize,
    done: &dyn Fn() -> bool,
) -> Load {
    let started = Instant::now();
    let tallies = join_all((0..clients).map(|_| async {
        let mut tally = Tally::default();
        while !done() {
            let sent = Instant::now();
            let answer = match client.get(url).send().await {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    response
                        .body()
                        .limit(16 << 20)
                        .await
                        .map(|body| (status, body))
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            tally.latencies.push(sent.elapsed());
            match answer {
                Ok((200, body)) if expect.accepts(&body) => tally.ok += 1,
                Ok((200, body)) => {
                    tally.record_unexpected("200 without slots".into(), &String::from_utf8_lossy(&body))
                }
                Ok((status, body)) => {
                    tally.record_unexpected(status.to_string(), &String::from_utf8_lossy(&body))
                }
                Err(e) => tally.record_unexpected("transport error".into(), &e),
            }
        }
        tally
    }))
    .await;
    let elapsed = started.elapsed();
    tallies.into_iter().fold(Tally::default(), Tally::merge).finish(elapsed)
}
