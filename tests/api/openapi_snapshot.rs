//! The OpenAPI document is part of the contract, so a copy is committed (`docs/openapi.json`)
//! and this test fails when the served document differs: every API change then shows in
//! review as a change to that file. `UPDATE_OPENAPI=1 cargo test --test api openapi_snapshot`
//! rewrites it.

use serde_json::Value;

use crate::helpers::spawn_app;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

/// JSON pointers where `old` and `new` differ, at most `max` of them.
fn differences(old: &Value, new: &Value, at: &str, max: usize, out: &mut Vec<String>) {
    if out.len() >= max || old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let path = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differences(x, y, &path, max, out),
                    (Some(_), None) => out.push(format!("{path}: removed")),
                    (None, _) => out.push(format!("{path}: added")),
                }
                if out.len() >= max {
                    return;
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{at}/{i}"), max, out);
            }
        }
        _ => out.push(format!("{at}: {old} became {new}")),
    }
}

#[actix_web::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let served = r.body;
    let pretty = serde_json::to_string_pretty(&served).expect("serialize") + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(SNAPSHOT, &pretty).expect("write docs/openapi.json");
        return;
    }
    let committed: Value = std::fs::read_to_string(SNAPSHOT)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    let mut changed = Vec::new();
    differences(&committed, &served, "", 20, &mut changed);
    assert!(
        changed.is_empty(),
        "the served OpenAPI document differs from docs/openapi.json (UPDATE_OPENAPI=1 cargo test \
         --test api openapi_snapshot rewrites it, for review):\n{}",
        changed.join("\n")
    );
}
