//! The one rule for where the pages send a browser back to (a `next` parameter, a redirect
//! after a form): only a path on this site. Browsers are lenient readers of `Location`: they
//! drop tabs and line breaks, take `\` for `/` and `//host` for another site, so what passes
//! here is plain: it starts with one `/`, holds only visible ASCII, and neither it nor its
//! percent-decoded forms hold `//`, `\`, controls or anything outside ASCII (a fullwidth
//! solidus is a slash to some readers). Everything else goes to the home page. Pure rules.

/// Where a redirect goes when what it was given is not a path of this site.
pub const HOME: &str = "/";

/// `raw` when it is a path of this site that any browser reads as one; `None` otherwise.
pub fn local_path(raw: &str) -> Option<&str> {
    if !plain(raw) {
        return None;
    }
    // `%2f%2f` and `%5c` read as `//` and `\` by some proxies and browsers; `%252f` decodes to
    // `%2f`: every decoding must be as plain as the original.
    let mut decoded = raw.to_string();
    for _ in 0..3 {
        let next = percent_decoded(&decoded)?;
        if !plain(&next) {
            return None;
        }
        if next == decoded {
            return Some(raw);
        }
        decoded = next;
    }
    None
}

/// `raw` when it is a path of this site, else [`HOME`].
pub fn or_home(raw: &str) -> &str {
    local_path(raw).unwrap_or(HOME)
}

/// One `/`, then only visible ASCII, no `\` and no `//` anywhere.
fn plain(text: &str) -> bool {
    text.starts_with('/') && text.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') && !text.contains("//")
}

/// `%XX` decoded once; `None` when a `%` is not followed by two hex digits or the bytes are
/// not UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_this_site_pass_as_they_are() {
        for ok in
            ["/", "/track", "/staff/admin/closures?post=MEX", "/my/ABC123", "/staff/receipts/MEX-2026-000001"]
        {
            assert_eq!(local_path(ok), Some(ok), "{ok}");
        }
        assert_eq!(local_path("/caf%C3%A9"), None, "decoded, not ASCII");
        assert_eq!(local_path("/a%20b"), None, "decoded, a space");
        assert_eq!(local_path("/track%3Fnumber%3D1"), Some("/track%3Fnumber%3D1"));
    }

    #[test]
    fn anything_that_could_leave_the_site_or_break_the_header_goes_home() {
        let payloads = [
            "",
            "evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example/x",
            "/%09/evil.example",
            "/%2f%2fevil.example",
            "/%2F%2Fevil.example",
            "/%252f%252fevil.example",
            "/%5cevil.example",
            "/%5Cevil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "/\r\nSet-Cookie: x=1",
            "/%0d%0aSet-Cookie:%20x=1",
            "/\u{FF0F}evil.example",
            "/%EF%BC%8Fevil.example",
            "/\u{2215}evil.example",
            "/ /evil.example",
            "/%",
            "/%zz",
            "/%FF",
            "/a\u{0}b",
            "/a//b",
        ];
        for bad in payloads {
            assert_eq!(local_path(bad), None, "{bad:?}");
            assert_eq!(or_home(bad), HOME);
        }
    }
}
