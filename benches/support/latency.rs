//! Counting answers and their latencies, and the percentiles the reports print.

use std::collections::BTreeMap;
use std::time::Duration;

/// Answers and latencies of one kind of request.
#[derive(Default)]
pub struct Tally {
    pub latencies: Vec<Duration>,
    /// Answers that are what was asked for (a 201, a 200 with slots, a token).
    pub ok: usize,
    /// Refusals the run expects, not failures (a `409 slot_full` once a slot is full).
    pub refused: usize,
    /// Anything unexpected, keyed by a short description; the first detail of each key is
    /// printed to stderr when it happens.
    pub unexpected: BTreeMap<String, usize>,
}

impl Tally {
    pub fn record_unexpected(&mut self, key: String, detail: &str) {
        let seen = self.unexpected.entry(key.clone()).or_default();
        if *seen == 0 {
            eprintln!("{}: unexpected answer {key}: {detail:.300}", env!("CARGO_CRATE_NAME"));
        }
        *seen += 1;
    }

    pub fn merge(mut self, other: Tally) -> Tally {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.refused += other.refused;
        for (key, n) in other.unexpected {
            *self.unexpected.entry(key).or_default() += n;
        }
        self
    }

    pub fn finish(mut self, elapsed: Duration) -> Load {
        self.latencies.sort_unstable();
        Load { elapsed, tally: self }
    }
}

/// A finished run of requests: its tally (latencies sorted) and its wall time.
pub struct Load {
    pub elapsed: Duration,
    pub tally: Tally,
}

impl Load {
    /// Requests answered, whatever the answer.
    pub fn requests(&self) -> usize {
        self.tally.latencies.len()
    }

    /// Requests answered, whatever the answer, per second of wall time.
    pub fn per_second(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    /// Good answers per second of wall time.
    pub fn ok_per_second(&self) -> f64 {
        self.tally.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Latency at quantile `q` (nearest rank), in milliseconds.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        let sorted = &self.tally.latencies;
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1000.0
    }

    /// `p50 / p99 ms`, e.g. `1.2 / 4.5 ms`.
    pub fn p50_p99(&self) -> String {
        format!("{:.1} / {:.1} ms", self.percentile_ms(0.50), self.percentile_ms(0.99))
    }

    pub fn unexpected(&self) -> usize {
        self.tally.unexpected.values().sum()
    }
}

/// Latencies sorted, as (p50, p99, max) in milliseconds; the quantile is the `⌊n·q⌋`-th
/// latency counted from 0 (not [`Load::percentile_ms`]'s nearest rank: the benchmarks that
/// print these have always counted so, and their earlier figures stay comparable).
pub fn percentiles(latencies: &mut [Duration]) -> (f64, f64, f64) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| {
        latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1))).copied()
    };
    (
        at(0.5).map(ms).unwrap_or(0.0),
        at(0.99).map(ms).unwrap_or(0.0),
        latencies.last().copied().map(ms).unwrap_or(0.0),
    )
}
