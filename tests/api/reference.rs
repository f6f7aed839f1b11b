use crate::helpers::{assert_problem, spawn_app};

#[actix_web::test]
async fn the_ten_posts_have_their_own_zones() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/api/v1/posts", None).await;
    assert_eq!(r.status, 200);
    let posts = r.body.as_array().expect("array");
    assert_eq!(posts.len(), 10);
    let zone = |code: &str| {
        posts.iter().find(|p| p["code"] == code).map(|p| p["timezone"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(zone("MEX").as_deref(), Some("America/Mexico_City"));
    assert_eq!(zone("TIJ").as_deref(), Some("America/Tijuana"));
    assert_eq!(zone("CJS").as_deref(), Some("America/Ciudad_Juarez"));
    assert_eq!(zone("NLD").as_deref(), Some("America/Matamoros"));
    assert_eq!(zone("NOG").as_deref(), Some("America/Hermosillo"));
}

#[actix_web::test]
async fn five_services_with_durations() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/api/v1/services", None).await;
    assert_eq!(r.status, 200);
    let mut codes: Vec<&str> =
        r.body.as_array().expect("array").iter().filter_map(|s| s["code"].as_str()).collect();
    codes.sort();
    assert_eq!(codes, ["crba", "notarial", "passport-correction", "passport-new", "passport-renewal"]);
    assert!(r.body.as_array().into_iter().flatten().all(|s| s["duration_minutes"].as_i64().unwrap_or(0) > 0));
}

#[actix_web::test]
async fn fee_schedule_in_force_today_and_on_a_date() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/api/v1/fees", None).await;
    assert_eq!(r.status, 200);
    let fees = r.body.as_array().expect("array");
    let cents = |code: &str| fees.iter().find(|f| f["code"] == code).and_then(|f| f["amount_cents"].as_i64());
    assert_eq!(cents("passport-execution"), Some(3_500));
    assert_eq!(cents("passport-book-adult"), Some(5_000));
    assert_eq!(cents("passport-book-security-surcharge"), Some(8_000));
    assert_eq!(cents("crba"), Some(10_000));
    assert_eq!(cents("notarial-certificate"), Some(5_000));
    assert!(fees.iter().all(|f| f["currency"] == "USD"));

    // The day before the 2021 schedule took effect, none of the seeded versions applies.
    let r = app.get("/api/v1/fees?date=2021-12-26", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_array().map(Vec::len), Some(0));

    let r = app.get("/api/v1/fees?date=27-12-2021", None).await;
    assert_problem(&r, 400, "invalid_query");
}

#[actix_web::test]
async fn seeding_twice_adds_nothing() {
    let (app, db) = spawn_app().await;
    let second = crate::helpers::spawn_on(&db, &[]).await;
    for path in ["/api/v1/posts", "/api/v1/services", "/api/v1/fees"] {
        let a = app.get(path, None).await;
        let b = second.get(path, None).await;
        assert_eq!(a.body, b.body, "{path} changed after a second start");
    }
    assert_eq!(second.get("/api/v1/posts", None).await.body.as_array().map(Vec::len), Some(10));
}
