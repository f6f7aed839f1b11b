//! The mail tests' SMTP server (`tests/api/smtp_server.py`, Debian's python3-aiosmtpd) as a
//! child process of a benchmark, killed by its PID when dropped; and what it received.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};

/// The server, listening on 127.0.0.1:`port` and writing each message it accepts as one file
/// into `dir`.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl SmtpServer {
    /// Starts the server on `port` (0: one the kernel picks); returns once it listens.
    pub fn start(dir: &Path, port: u16) -> anyhow::Result<SmtpServer> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/smtp_server.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start /usr/bin/python3 for the SMTP server")?;
        let stdout = child.stdout.take().context("the SMTP server's stdout")?;
        let mut first = String::new();
        let read = BufReader::new(stdout).read_line(&mut first);
        match (read, first.trim().parse::<u16>()) {
            (Ok(_), Ok(port)) => Ok(SmtpServer { child, port, dir: dir.to_path_buf() }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the SMTP server did not print its port (is python3-aiosmtpd installed?): {first:?}")
            }
        }
    }

    /// `smtp://127.0.0.1:PORT`, for `CONSULAR_DESK_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many finished messages `dir` holds (hidden files are still being written).
pub fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_str().is_some_and(|n| n.starts_with('.')))
                .count()
        })
        .unwrap_or(0)
}

/// The distinct Message-IDs of the messages in `dir`, read from their headers, and how many
/// files there are.
pub fn distinct_message_ids(dir: &Path) -> anyhow::Result<(usize, usize)> {
    let mut ids = HashSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        let raw = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let headers = mail_parser::MessageParser::default()
            .parse_headers(&raw)
            .with_context(|| format!("{} has no headers", path.display()))?;
        ids.insert(headers.message_id().unwrap_or_default().to_string());
        files += 1;
    }
    Ok((ids.len(), files))
}

/// CPU time (user + system) process `pid` has used, in seconds; `/proc/<pid>/stat` counts in
/// clock ticks, 100 a second on Linux.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).context("cannot read /proc/<pid>/stat")?;
    // The command name may hold spaces; the fields after its closing parenthesis don't.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("unexpected /proc/<pid>/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i).context("short /proc/<pid>/stat")?.parse::<u64>()? as f64)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}
