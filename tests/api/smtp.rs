//! A real SMTP server for the mail tests (`smtp_server.py`, Debian's python3-aiosmtpd) as a
//! child process killed by its PID when dropped, the messages it received read back with
//! `mail-parser`, and waits with a deadline (a test fails when the deadline passes, never on
//! how long something took).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the server answers each message's DATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 250: written to the folder.
    Accept,
    /// 451: a temporary failure; the sender should try again later.
    Temporary,
    /// 550: a permanent failure.
    Refuse,
}

impl Mode {
    fn arg(self) -> &'static str {
        match self {
            Mode::Accept => "accept",
            Mode::Temporary => "451",
            Mode::Refuse => "550",
        }
    }
}

/// The server, listening on 127.0.0.1:`port` and writing what it accepts into a folder.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
}

impl SmtpServer {
    /// Starts the server on a port the kernel picks, writing into `dir`.
    pub fn start(dir: &Path, mode: Mode) -> SmtpServer {
        SmtpServer::start_on(0, dir, mode)
    }

    /// Starts the server on `port` (0: any), writing into `dir`; returns once it listens.
    pub fn start_on(port: u16, dir: &Path, mode: Mode) -> SmtpServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/smtp_server.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .arg(mode.arg())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("/usr/bin/python3 starts (python3-aiosmtpd installed?)");
        let stdout = child.stdout.take().expect("the server's stdout");
        let mut first = String::new();
        let read = BufReader::new(stdout).read_line(&mut first);
        let port = match (read, first.trim().parse::<u16>()) {
            (Ok(_), Ok(port)) => port,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the SMTP server did not print its port (python3-aiosmtpd installed?): {first:?}");
            }
        };
        SmtpServer { child, port }
    }

    /// `smtp://127.0.0.1:PORT`, for `CONSULAR_DESK_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL, by its PID) and waits for it to end.
    pub fn stop(mut self) {
        self.end();
    }

    fn end(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.end();
    }
}

/// One received message, as the tests look at it.
#[derive(Debug, Clone)]
pub struct Received {
    pub file: PathBuf,
    /// Without the angle brackets, as `mail-parser` gives it.
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The `text/plain` part, if the message has one of its own.
    pub text: Option<String>,
    /// The `text/html` part, if the message has one of its own.
    pub html: Option<String>,
}

/// Parses one message's raw bytes.
pub fn parse(file: &Path, raw: &[u8]) -> Received {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .unwrap_or_else(|| panic!("{} is not a message", file.display()));
    let first_address = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string()
    };
    let part_of = |subtype: &str| {
        message.parts.iter().find_map(|part| {
            let ct = part.content_type()?;
            let is = ct.ctype().eq_ignore_ascii_case("text")
                && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case(subtype))
                && !part.content_disposition().is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"));
            is.then(|| part.text_contents().map(str::to_string)).flatten()
        })
    };
    Received {
        file: file.to_path_buf(),
        message_id: message.message_id().unwrap_or_default().to_string(),
        from: first_address(message.from()),
        to: first_address(message.to()),
        subject: message.subject().unwrap_or_default().to_string(),
        text: part_of("plain"),
        html: part_of("html"),
    }
}

/// The messages in a folder, read as they arrive: only each new file's headers, once, however
/// often the folder is looked at (a wait over ten thousand messages looks many times); the
/// whole messages when a test asks for them.
#[derive(Default)]
pub struct Inbox {
    dir: PathBuf,
    read: HashSet<PathBuf>,
    /// Each file and its Message-ID (without brackets), in the order they were found.
    files: Vec<(PathBuf, String)>,
    /// How many times each Message-ID arrived.
    counts: HashMap<String, usize>,
}

impl Inbox {
    pub fn new(dir: &Path) -> Inbox {
        Inbox { dir: dir.to_path_buf(), ..Inbox::default() }
    }

    /// Reads the files that arrived since the last look (hidden ones are being written) and
    /// returns how many messages there are now.
    pub fn refresh(&mut self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return self.files.len() };
        let mut new: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
            .filter(|p| !self.read.contains(p))
            .collect();
        new.sort();
        for path in new {
            let raw = std::fs::read(&path).expect("read a received message");
            let headers = mail_parser::MessageParser::default()
                .parse_headers(&raw)
                .unwrap_or_else(|| panic!("{} has no headers", path.display()));
            let id = headers.message_id().unwrap_or_default().to_string();
            *self.counts.entry(id.clone()).or_insert(0) += 1;
            self.files.push((path.clone(), id));
            self.read.insert(path);
        }
        self.files.len()
    }

    /// How many messages arrived (a message sent twice counts twice).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// How many times each Message-ID arrived.
    pub fn counts(&self) -> &HashMap<String, usize> {
        &self.counts
    }

    /// How many distinct Message-IDs arrived.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// Every message that arrived, parsed whole.
    pub fn messages(&self) -> Vec<Received> {
        self.files
            .iter()
            .map(|(path, _)| parse(path, &std::fs::read(path).expect("read a received message")))
            .collect()
    }

    /// Waits until `done` holds for the inbox, looking every 20 ms; panics naming `what` and
    /// what arrived when `deadline` passes first.
    pub async fn wait_until(&mut self, what: &str, deadline: Duration, mut done: impl FnMut(&Inbox) -> bool) {
        let started = Instant::now();
        loop {
            self.refresh();
            if done(self) {
                return;
            }
            assert!(
                started.elapsed() < deadline,
                "waited {deadline:?} for {what}; {} messages ({} distinct) arrived in {}",
                self.len(),
                self.distinct(),
                self.dir.display()
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Waits until `check` returns `Some`, calling it every 20 ms; panics naming `what` when
/// `deadline` passes first.
pub async fn wait_for<T>(what: &str, deadline: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < deadline, "waited {deadline:?} for {what}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}
