//! The steps most tests take, said in types: sign in, book a party, record a fee. Each sends
//! the request the API documents, asserts the status a success answers, and returns the answer
//! read into a type, so a test says what it means (`receipt.total.amount_cents`) instead of digging
//! in `serde_json::Value`, and a change to the JSON breaks here once, not in every test. The
//! answers are read into types of their own, written from the OpenAPI document, not the
//! server's: a field the server renames fails here.

use consular_desk::booking::appointments::AppointmentView;
use consular_desk::booking::party::PersonInput;
use consular_desk::fees::money::Money;
use consular_desk::fees::receipts::Method;
use consular_desk::window::visits::VisitView;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{Reply, TestApp, STAFF_PASSWORD};

impl Reply {
    /// The JSON body read as `T`; a test fails here, with the body, when it isn't one.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("{} is not a {}: {e}", self.body, std::any::type_name::<T>()))
    }

    /// As [`Reply::json`], after asserting the status.
    pub fn expect<T: DeserializeOwned>(&self, status: u16, what: &str) -> T {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        self.json()
    }
}

/// One person of a party.
pub fn someone(given: &str, surname: &str) -> PersonInput {
    PersonInput { given_names: given.into(), surname: surname.into(), date_of_birth: None }
}

/// A receipt as the API answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct Receipt {
    pub receipt_number: String,
    pub post: String,
    pub reference: String,
    pub payer: String,
    pub clerk: String,
    pub items: Vec<ReceiptLine>,
    pub total: Money,
    pub payment: Payment,
    pub voided: Option<Void>,
    pub verification_code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReceiptLine {
    pub fee_code: String,
    pub quantity: u32,
    pub amount: Money,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Payment {
    pub method: Method,
    pub local_amount: Option<Money>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Void {
    pub voided_by: String,
    pub reason: String,
}

impl TestApp {
    /// Signs in `username` (made beforehand, with the tests' staff password): a fresh token.
    pub async fn sign_in_staff(&self, username: &str) -> String {
        let body = json!({"username": username, "password": STAFF_PASSWORD});
        let r = self.post("/api/v1/staff/auth/login", None, &body).await;
        assert_eq!(r.status, 200, "staff sign-in of {username}: {}", r.body);
        r.body["token"].as_str().unwrap_or_default().to_string()
    }

    /// Books `slot_id` for `party` as the applicant holding `token`.
    pub async fn book_party(&self, token: &str, slot_id: i64, party: &[PersonInput]) -> AppointmentView {
        let body = json!({"slot_id": slot_id, "applicants": party});
        self.post("/api/v1/appointments", Some(token), &body).await.expect(201, "booking")
    }

    /// Books `slot_id` for `party` as the staff member holding `token`, for someone who phoned.
    pub async fn book_for_caller(&self, token: &str, slot_id: i64, party: &[PersonInput]) -> AppointmentView {
        let body = json!({"slot_id": slot_id, "applicants": party});
        self.post("/api/v1/staff/appointments", Some(token), &body).await.expect(201, "staff booking")
    }

    /// Records one of each fee in `fee_codes` against the visit `reference`, paid by `method`,
    /// as the clerk holding `token` (a fee already charged on the visit is charged again on
    /// purpose).
    pub async fn record_fee(
        &self,
        token: &str,
        reference: &str,
        fee_codes: &[&str],
        method: Method,
    ) -> Receipt {
        let items: Vec<_> = fee_codes.iter().map(|code| json!({"fee_code": code, "quantity": 1})).collect();
        let body = json!({"appointment_reference": reference, "items": items,
                          "payment": {"method": method}, "confirm_repeat": true});
        self.post("/api/v1/staff/fees", Some(token), &body).await.expect(201, "fee")
    }

    /// An emergency walk-in (an arrest) for `service` at `post`, let in by the clerk holding
    /// `token`: a visit at the window at once, to record intake and fees against.
    pub async fn emergency_walk_in(
        &self,
        token: &str,
        post: &str,
        service: &str,
        person: PersonInput,
    ) -> VisitView {
        let body = json!({"service": service, "kind": "emergency", "reason": "arrest", "applicant": person});
        self.post(&format!("/api/v1/staff/posts/{post}/walk-ins"), Some(token), &body)
            .await
            .expect(201, "walk-in")
    }

    /// Voids `receipt` as the supervisor holding `token`, for `reason`.
    pub async fn void_receipt(&self, token: &str, receipt: &Receipt, reason: &str) -> Receipt {
        let path = format!("/api/v1/staff/receipts/{}/void", receipt.receipt_number);
        self.post(&path, Some(token), &json!({"reason": reason})).await.expect(200, "void")
    }
}
