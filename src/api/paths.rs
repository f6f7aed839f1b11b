//! Path segments normalised in one place.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::http::HttpError;

/// The `{post}` segment of a path as a post code: trimmed and upper-cased here, once, so
/// `mex`, ` MEX` and `MEX` are the same post everywhere. It never refuses by itself: actix
/// runs extractors side by side, and a 404 here could answer before the token check does.
/// The operation's lookup answers 404 for a code that names no post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostCode(pub String);

impl PostCode {
    pub fn normalise(raw: &str) -> PostCode {
        PostCode(crate::reference::normalise_post(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl FromRequest for PostCode {
    type Error = HttpError;
    type Future = Ready<Result<PostCode, HttpError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(PostCode::normalise(req.match_info().get("post").unwrap_or_default())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_codes() {
        assert_eq!(PostCode::normalise(" mex"), PostCode("MEX".into()));
        assert_eq!(PostCode::normalise("Gdl"), PostCode("GDL".into()));
        // Only ASCII is folded: `ß` doesn't become `SS` and name another post.
        assert_eq!(PostCode::normalise("ßx"), PostCode("ßX".into()));
    }
}
