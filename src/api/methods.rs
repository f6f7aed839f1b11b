//! Requests no route took: 405 with `Allow` when the path exists under other methods, else 404.
//!
//! The paths and their methods come from the OpenAPI document the routes generate, so the two
//! can't disagree.

use actix_web::dev::ResourceDef;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::error::AppError;
use crate::http::HttpError;

/// Every documented path template with the methods it answers.
pub struct Methods(Vec<(ResourceDef, String)>);

impl Methods {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Methods {
        let paths = spec.paths.paths.iter().map(|(template, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ];
            let allow: Vec<&str> = methods.iter().filter(|(_, on)| *on).map(|(m, _)| *m).collect();
            (ResourceDef::new(template.as_str()), allow.join(", "))
        });
        Methods(paths.collect())
    }

    /// The `Allow` value for `path`, when some route has that path.
    fn allowed(&self, path: &str) -> Option<&str> {
        self.0.iter().find(|(def, _)| def.is_match(path)).map(|(_, allow)| allow.as_str())
    }
}

/// The default service: problem JSON, never an HTML page.
pub async fn not_found_or_not_allowed(req: HttpRequest, methods: web::Data<Methods>) -> HttpResponse {
    match methods.allowed(req.path()) {
        Some(allow) => {
            let error = AppError::MethodNotAllowed { method: req.method().to_string() };
            let mut response = HttpError(error).error_response();
            if let Ok(value) = header::HeaderValue::from_str(allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        None => {
            let error = AppError::not_found(format!("no such endpoint: {} {}", req.method(), req.path()));
            HttpError(error).error_response()
        }
    }
}
