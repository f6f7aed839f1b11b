//! Resident memory of a process from `/proc/<pid>/status` (Linux): what the benchmarks report
//! as peak (`VmHWM`) and current (`VmRSS`) memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context};

/// The two figures of `/proc/<pid>/status` that matter here, in KiB.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident now.
    pub rss_kib: u64,
    /// The peak resident size since the process started (or since its count was reset).
    pub hwm_kib: u64,
}

impl Memory {
    /// The memory of process `pid`.
    pub fn of(pid: u32) -> anyhow::Result<Memory> {
        Memory::read(&pid.to_string())
    }

    /// `pid` is a process id or `self`.
    fn read(pid: &str) -> anyhow::Result<Memory> {
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .with_context(|| format!("{path} has no {name}"))?;
            let kib = line.trim().trim_end_matches("kB").trim();
            kib.parse().with_context(|| format!("{path}: {name} is not a number: {line:?}"))
        };
        Ok(Memory { rss_kib: field("VmRSS:")?, hwm_kib: field("VmHWM:")? })
    }
}

/// KiB as the reports print them, e.g. `85.3 MiB`.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `VmHWM` of process `pid`, e.g. `61.2 MiB`.
pub fn peak_of(pid: u32) -> Option<String> {
    Memory::of(pid).ok().map(|m| mib(m.hwm_kib))
}

/// `VmHWM` of this process.
pub fn own_peak_memory() -> Option<String> {
    Memory::read("self").ok().map(|m| mib(m.hwm_kib))
}

/// Samples a process's `VmRSS` on a thread of its own until [`finish`](Self::finish): the peak
/// of a phase, where `VmHWM` only knows the peak since start.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<anyhow::Result<Samples>>,
}

/// What the sampler saw.
pub struct Samples {
    pub count: usize,
    pub max_rss_kib: u64,
}

impl Sampler {
    pub fn start(pid: u32, every: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut samples = Samples { count: 0, max_rss_kib: 0 };
            while !stopped.load(Ordering::Relaxed) {
                let memory = Memory::of(pid)?;
                samples.count += 1;
                samples.max_rss_kib = samples.max_rss_kib.max(memory.rss_kib);
                thread::sleep(every);
            }
            Ok(samples)
        });
        Sampler { stop, thread }
    }

    pub fn finish(self) -> anyhow::Result<Samples> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.join() {
            Ok(samples) => samples.context("memory sampling failed"),
            Err(_) => bail!("the memory sampler panicked"),
        }
    }
}
