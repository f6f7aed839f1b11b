//! The key file (`CONSULAR_DESK_KEY_FILE`): one key a line, `name = value`, blank lines and
//! `#` comments allowed. The value is the key's text as is (at least 32 bytes, no surrounding
//! spaces). The file must be its owner's alone (0600 or stricter) and owned by the user the
//! server runs as: a key others can read is no safer than one in the database.
//!
//! Errors never repeat a line of the file: a botched line may be a key.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};

use super::KeyName;
use crate::config::{Secret, MIN_SECRET_BYTES};

/// The keys a key file holds (not necessarily all of them: variables may give the others).
pub struct KeyFile {
    path: PathBuf,
    keys: Vec<(KeyName, Secret)>,
}

impl KeyFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, name: KeyName) -> Option<&Secret> {
        self.keys.iter().find(|(k, _)| *k == name).map(|(_, secret)| secret)
    }
}

/// Reads the key file, refusing one that others could read or that someone else owns.
pub fn read(path: &Path) -> anyhow::Result<KeyFile> {
    let shown = path.display();
    check_private(path)?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read CONSULAR_DESK_KEY_FILE {shown}"))?;
    let keys = parse(&text).map_err(|reason| anyhow!("CONSULAR_DESK_KEY_FILE {shown}: {reason}"))?;
    Ok(KeyFile { path: path.to_path_buf(), keys })
}

fn check_private(path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read CONSULAR_DESK_KEY_FILE {shown}"))?;
    if !meta.is_file() {
        bail!("CONSULAR_DESK_KEY_FILE {shown} is not a file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!("CONSULAR_DESK_KEY_FILE {shown} is mode {mode:04o}; it must be 0600 or stricter (chmod 600 it)");
        }
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            bail!(
                "CONSULAR_DESK_KEY_FILE {shown} is owned by uid {}, not by uid {me} that the server runs as",
                meta.uid()
            );
        }
    }
    Ok(())
}

/// The keys of a key file's text; a reason naming the line when it is not one.
pub fn parse(text: &str) -> Result<Vec<(KeyName, Secret)>, String> {
    let mut keys: Vec<(KeyName, Secret)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let number = index + 1;
        let (name, value) =
            line.split_once('=').ok_or_else(|| format!("line {number} is not `name = value`"))?;
        let name = KeyName::parse(name.trim()).ok_or_else(|| {
            format!("line {number} names no key (the keys are {})", KeyName::list(&KeyName::ALL))
        })?;
        if keys.iter().any(|(k, _)| *k == name) {
            return Err(format!("line {number}: {} appears twice", name.as_str()));
        }
        let value = value.trim();
        if value.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "line {number}: {} must be at least {MIN_SECRET_BYTES} bytes",
                name.as_str()
            ));
        }
        keys.push((name, Secret::new(value.to_string())));
    }
    Ok(keys)
}

/// A key file's text holding `keys`; refuses a value the format can't carry.
pub fn render(keys: &[(KeyName, Secret)]) -> anyhow::Result<String> {
    let mut text = String::from(
        "# consular-desk server keys (docs/OPERATIONS.md, \"Server keys\"). Keep this file 0600\n\
         # and out of backups of the database: whoever holds both can recover document numbers.\n",
    );
    for (name, secret) in keys {
        let value = secret.expose_text();
        if value.trim() != value || value.contains(['\n', '\r']) {
            bail!("{} has spaces at an end or a line break, which a key file can't hold", name.as_str());
        }
        text.push_str(&format!("{} = {value}\n", name.as_str()));
    }
    Ok(text)
}

/// Writes a new key file, readable by its owner only, and makes it durable (the file and its
/// directory entry) before returning, so the keys may then leave the database. Never replaces
/// a file; a file left half-written is removed.
pub fn create(path: &Path, text: &str) -> anyhow::Result<()> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow!("{shown} already exists; keys export never overwrites a file")
        }
        _ => anyhow!("cannot create {shown}: {e}"),
    })?;
    let written = file.write_all(text.as_bytes()).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        bail!("cannot write {shown}: {e}");
    }
    let directory = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::File::open(directory)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot make {shown} durable (syncing its directory)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> String {
        c.to_string().repeat(40)
    }

    #[test]
    fn a_rendered_file_parses_back() {
        let keys: Vec<(KeyName, Secret)> =
            KeyName::ALL.iter().zip(['a', 'b', 'c', 'd']).map(|(n, c)| (*n, Secret::new(key(c)))).collect();
        let text = render(&keys).expect("renders");
        assert_eq!(parse(&text).expect("parses"), keys);
    }

    #[test]
    fn comments_blank_lines_and_spaces_are_allowed() {
        let text = format!("# mine\n\n  jwt_staff=   {}  \n", key('s'));
        assert_eq!(parse(&text), Ok(vec![(KeyName::JwtStaff, Secret::new(key('s')))]));
    }

    #[test]
    fn bad_lines_are_named_without_their_content() {
        let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
        for (text, wanted) in [
            (secret.to_string(), "line 1 is not"),
            (format!("\n{secret}== = {}", key('x')), "line 2 names no key"),
            (
                format!("jwt_public = {}\njwt_public = {}", key('a'), key('b')),
                "line 2: jwt_public appears twice",
            ),
            ("receipt_signing = short".to_string(), "line 1: receipt_signing must be at least 32 bytes"),
        ] {
            let reason = parse(&text).expect_err(&text);
            assert!(reason.starts_with(wanted), "{reason}");
            assert!(!reason.contains("s3cr3t"), "{reason}");
        }
    }

    #[test]
    fn values_a_file_cannot_carry_are_refused() {
        let keys = [(KeyName::JwtPublic, Secret::new(format!(" {}", key('a'))))];
        assert!(render(&keys).is_err());
    }
}
