//! Intake: the applications and notarial jobs a visit brings, as the applicant pre-fills them
//! and the clerk records them, and the rules a consular section checks. Pure: the operations
//! live in [`super::records`].
//!
//! An item is one enum by form ([`IntakeItem`], tagged by `form` in the JSON): each form takes
//! only its own fields, so a field another form takes is refused when the JSON is read and
//! nothing typed is silently dropped. The checked item ([`CheckedItem`]) keeps the flat shape
//! stored in the database and shown.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::fields::PersonName;
use crate::booking::free_text;
use crate::booking::party::PersonInput;
use crate::documents::identity::{DocumentNumber, MaskedNumber, MatchingKey};
use crate::documents::tracking::Kind;
use crate::error::FieldError;
use crate::rule::Rule;

/// At most this many applications or jobs are pre-filled for one appointment.
pub const MAX_ITEMS: usize = 8;
/// At most this many people sign one notarial document.
pub const MAX_SIGNERS: usize = 10;
pub const MAX_PAGES: u32 = 500;
pub const MAX_CERTIFICATES: u32 = 50;
/// Venues and document titles.
pub const MAX_TITLE_CHARS: usize = 200;

/// The form an item is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Form {
    /// Passport application in person (first passport, minors, ...).
    #[serde(rename = "DS-11")]
    Ds11,
    /// Passport renewal.
    #[serde(rename = "DS-82")]
    Ds82,
    /// Passport correction or change of data.
    #[serde(rename = "DS-5504")]
    Ds5504,
    /// Consular Report of Birth Abroad.
    #[serde(rename = "DS-2029")]
    Ds2029,
    #[serde(rename = "notarial")]
    Notarial,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Ds11 => "DS-11",
            Form::Ds82 => "DS-82",
            Form::Ds5504 => "DS-5504",
            Form::Ds2029 => "DS-2029",
            Form::Notarial => "notarial",
        }
    }

    /// The form a service's appointment takes.
    pub fn for_service(service: &str) -> Option<Form> {
        match service {
            "passport-new" => Some(Form::Ds11),
            "passport-renewal" => Some(Form::Ds82),
            "passport-correction" => Some(Form::Ds5504),
            "crba" => Some(Form::Ds2029),
            "notarial" => Some(Form::Notarial),
            _ => None,
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Form::Ds11 | Form::Ds82 | Form::Ds5504 => Kind::Passport,
            Form::Ds2029 => Kind::Crba,
            Form::Notarial => Kind::Notarial,
        }
    }
}

/// How a DS-11 for a child under 16 is consented to (22 CFR 51.28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MinorConsent {
    BothParentsPresent,
    /// The absent parent's notarized DS-3053.
    Ds3053,
    /// A court order or other evidence of sole custody.
    SoleCustodyEvidence,
}

impl MinorConsent {
    /// Every way, in the order forms offer them.
    pub const ALL: [MinorConsent; 3] =
        [MinorConsent::BothParentsPresent, MinorConsent::Ds3053, MinorConsent::SoleCustodyEvidence];
}

/// How a signer's identity was proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    UsPassport,
    ForeignPassport,
    NationalId,
    DriversLicense,
    /// Known to the officer: no document.
    PersonallyKnown,
    /// Vouched for by a credible witness: no document.
    CredibleWitness,
}

impl IdKind {
    /// Every kind, in the order forms offer them.
    pub const ALL: [IdKind; 6] = [
        IdKind::UsPassport,
        IdKind::ForeignPassport,
        IdKind::NationalId,
        IdKind::DriversLicense,
        IdKind::PersonallyKnown,
        IdKind::CredibleWitness,
    ];

    fn has_number(self) -> bool {
        !matches!(self, IdKind::PersonallyKnown | IdKind::CredibleWitness)
    }
}

/// A notarial act (7 FAM 800).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    Acknowledgment,
    Jurat,
    Oath,
    Affirmation,
    CertifiedTrueCopy,
    Attestation,
    Authentication,
}

impl Act {
    /// Every act, in the order forms offer them.
    pub const ALL: [Act; 7] = [
        Act::Acknowledgment,
        Act::Jurat,
        Act::Oath,
        Act::Affirmation,
        Act::CertifiedTrueCopy,
        Act::Attestation,
        Act::Authentication,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Act::Acknowledgment => "acknowledgment",
            Act::Jurat => "jurat",
            Act::Oath => "oath",
            Act::Affirmation => "affirmation",
            Act::CertifiedTrueCopy => "certified_true_copy",
            Act::Attestation => "attestation",
            Act::Authentication => "authentication",
        }
    }
}

/// An identity document as typed; the number is kept masked.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct IdentityInput {
    pub kind: IdKind,
    /// Required for a document; absent for `personally_known` and `credible_witness`.
    #[schema(schema_with = crate::field_schemas::document_number)]
    pub number: Option<String>,
}

/// The passport a DS-82 renews or a DS-5504 corrects.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PreviousPassportInput {
    #[schema(schema_with = crate::field_schemas::required_document_number)]
    pub number: String,
    #[schema(schema_with = crate::field_schemas::past_date)]
    pub issued_on: NaiveDate,
}

/// One person signing a notarial document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SignerInput {
    #[schema(schema_with = crate::field_schemas::person_name)]
    pub given_names: String,
    #[schema(schema_with = crate::field_schemas::person_name)]
    pub surname: String,
    pub id_proof: IdentityInput,
}

/// One application or notarial job, as typed: `form` names it, and each form takes only its
/// own fields (any other is refused).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "form")]
pub enum IntakeItem {
    /// Passport application in person (first passport, minors, ...).
    #[serde(rename = "DS-11")]
    Ds11(NewPassport),
    /// Passport renewal.
    #[serde(rename = "DS-82")]
    Ds82(PassportOnFile),
    /// Passport correction or change of data.
    #[serde(rename = "DS-5504")]
    Ds5504(PassportOnFile),
    /// Consular Report of Birth Abroad.
    #[serde(rename = "DS-2029")]
    Ds2029(BirthReport),
    #[serde(rename = "notarial")]
    Notarial(NotarialJob),
}

impl IntakeItem {
    pub fn form(&self) -> Form {
        match self {
            IntakeItem::Ds11(_) => Form::Ds11,
            IntakeItem::Ds82(_) => Form::Ds82,
            IntakeItem::Ds5504(_) => Form::Ds5504,
            IntakeItem::Ds2029(_) => Form::Ds2029,
            IntakeItem::Notarial(_) => Form::Notarial,
        }
    }
}

/// The document's shape of an item: one object per form, each with its `form` and its own
/// fields and nothing else. (Derived, a tagged enum would be `allOf` of the form's struct,
/// which forbids other properties, and `{form}`: a schema nothing can satisfy.)
impl utoipa::PartialSchema for IntakeItem {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
        use utoipa::openapi::RefOr;
        let variant = |form: Form, fields: RefOr<Schema>, about: &str| -> Schema {
            let tag = ObjectBuilder::new().schema_type(Type::String).enum_values(Some([form.as_str()]));
            let mut object = match fields {
                RefOr::T(Schema::Object(object)) => object,
                _ => ObjectBuilder::new().build(),
            };
            object.properties.insert("form".into(), tag.into());
            object.required.insert(0, "form".into());
            object.description = Some(about.into());
            object.title = Some(form.as_str().into());
            Schema::Object(object)
        };
        let one_of = OneOfBuilder::new()
            .item(variant(Form::Ds11, NewPassport::schema(), "A first passport, or one in person (DS-11)."))
            .item(variant(Form::Ds82, PassportOnFile::schema(), "A passport renewal (DS-82)."))
            .item(variant(Form::Ds5504, PassportOnFile::schema(), "A passport corrected (DS-5504)."))
            .item(variant(
                Form::Ds2029,
                BirthReport::schema(),
                "A Consular Report of Birth Abroad (DS-2029).",
            ))
            .item(variant(Form::Notarial, NotarialJob::schema(), "A notarial job."))
            .description(Some(
                "One application or notarial job, as typed: `form` names it, and each form takes only \
                 its own fields (any other is refused).",
            ));
        RefOr::T(Schema::OneOf(one_of.build()))
    }
}

impl ToSchema for IntakeItem {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        NewPassport::schemas(schemas);
        PassportOnFile::schemas(schemas);
        BirthReport::schemas(schemas);
        NotarialJob::schemas(schemas);
    }
}

/// A DS-11: the person applying, their parents' consent when under 16, the identity document.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassport {
    pub applicant: Option<PersonInput>,
    /// For a child under 16: how both parents consent.
    pub minor_consent: Option<MinorConsent>,
    /// The identity document shown.
    pub identity_document: Option<IdentityInput>,
}

/// A DS-82 or a DS-5504: the person, the passport renewed or corrected, the identity document.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassportOnFile {
    pub applicant: Option<PersonInput>,
    /// The passport renewed or corrected.
    pub previous_passport: Option<PreviousPassportInput>,
    /// The identity document shown.
    pub identity_document: Option<IdentityInput>,
}

/// A DS-2029: the child, and the identity document shown.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BirthReport {
    /// The child.
    pub applicant: Option<PersonInput>,
    pub identity_document: Option<IdentityInput>,
}

/// A notarial job: the act, the document and who signs it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotarialJob {
    pub act: Option<Act>,
    /// The document's title (1 to 200 characters).
    #[schema(schema_with = crate::field_schemas::title)]
    pub document_title: Option<String>,
    /// The document's pages (1 to 500).
    #[serde(default, deserialize_with = "crate::wire::optional_u32_whole")]
    #[schema(minimum = 1, maximum = 500)]
    pub pages: Option<u32>,
    /// Certificates (seals) given, one fee each however many sign (1 to 50).
    #[serde(default, deserialize_with = "crate::wire::optional_u32_whole")]
    #[schema(minimum = 1, maximum = 50)]
    pub certificates: Option<u32>,
    /// Who signs (1 to 10 people).
    #[schema(min_items = 1, max_items = 10)]
    pub signers: Option<Vec<SignerInput>>,
    /// Where the act is performed, when not at the post (1 to 200 characters).
    #[schema(schema_with = crate::field_schemas::title)]
    pub venue: Option<String>,
    /// At the window only: the job waits for something (a document) and is `pending` rather
    /// than `completed`.
    pub pending: Option<bool>,
}

/// A checked identity document: the number masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordedIdentity {
    pub kind: IdKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<MaskedNumber>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordedPassport {
    pub number: MaskedNumber,
    pub issued_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordedSigner {
    pub given_names: String,
    pub surname: String,
    pub id_proof: RecordedIdentity,
}

/// A checked item as kept and shown: names in NFC, numbers masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckedItem {
    pub form: Form,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant: Option<PersonInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor_consent: Option<MinorConsent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_passport: Option<RecordedPassport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_document: Option<RecordedIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Act>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signers: Option<Vec<RecordedSigner>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<bool>,
}

impl CheckedItem {
    /// An item of `form` with nothing checked yet.
    fn of(form: Form) -> CheckedItem {
        CheckedItem {
            form,
            applicant: None,
            minor_consent: None,
            previous_passport: None,
            identity_document: None,
            act: None,
            document_title: None,
            pages: None,
            certificates: None,
            signers: None,
            venue: None,
            pending: None,
        }
    }

    /// The surname a public tracking lookup must give: the applicant's, or the first signer's.
    pub fn surname(&self) -> &str {
        match (&self.applicant, &self.signers) {
            (Some(person), _) => &person.surname,
            (None, Some(signers)) => signers.first().map(|s| s.surname.as_str()).unwrap_or(""),
            (None, None) => "",
        }
    }

    /// Whose document it is, as pages and papers name them: the applicant, or the signers of
    /// a notarial act (given names first, comma-separated).
    pub fn person_name(&self) -> String {
        let name = |given: &str, surname: &str| format!("{given} {surname}").trim().to_string();
        match (&self.applicant, &self.signers) {
            (Some(person), _) => name(&person.given_names, &person.surname),
            (None, Some(signers)) => {
                signers.iter().map(|s| name(&s.given_names, &s.surname)).collect::<Vec<_>>().join(", ")
            }
            (None, None) => String::new(),
        }
    }

    /// The keyed hash of the main document number (the passport renewed or corrected, else
    /// the identity document), for matching.
    pub fn number_hash(&self) -> Option<String> {
        let passport = self.previous_passport.as_ref().map(|p| &p.number);
        let identity = self.identity_document.as_ref().and_then(|i| i.number.as_ref());
        passport.or(identity).and_then(|n| n.hash.clone())
    }

    /// What clients see: numbers without their hashes.
    pub fn shown(&self) -> CheckedItem {
        let identity = |i: &RecordedIdentity| RecordedIdentity {
            kind: i.kind,
            number: i.number.as_ref().map(MaskedNumber::shown),
        };
        CheckedItem {
            previous_passport: self
                .previous_passport
                .as_ref()
                .map(|p| RecordedPassport { number: p.number.shown(), issued_on: p.issued_on }),
            identity_document: self.identity_document.as_ref().map(identity),
            signers: self.signers.as_ref().map(|signers| {
                signers
                    .iter()
                    .map(|s| RecordedSigner { id_proof: identity(&s.id_proof), ..s.clone() })
                    .collect()
            }),
            ..self.clone()
        }
    }
}

/// Who checks an item: the applicant pre-filling, or the clerk at the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Prefill,
    Window,
}

/// Age in whole years on `date`.
pub fn age_on(date_of_birth: NaiveDate, date: NaiveDate) -> u32 {
    date.years_since(date_of_birth).unwrap_or(0)
}

/// A DS-11 applicant under 16 needs both parents' consent in one of the forms the rules allow.
pub fn needs_parental_consent(date_of_birth: NaiveDate, date: NaiveDate) -> bool {
    age_on(date_of_birth, date) < 16
}

/// A DS-82 renews a passport issued when the applicant was 16 or older, less than 15 years
/// before `date`; anyone else applies in person on a DS-11.
pub fn renewal_allowed(date_of_birth: NaiveDate, issued_on: NaiveDate, date: NaiveDate) -> Result<(), Rule> {
    if age_on(date_of_birth, issued_on) < 16 {
        return Err(Rule::RenewalIssuedUnder16);
    }
    if date.years_since(issued_on).is_none_or(|years| years >= 15) {
        return Err(Rule::RenewalTooOld);
    }
    Ok(())
}

/// Checks one item for an appointment of `service` on local `date`; `at` names the item in
/// field errors (`items[0]`), or is empty when the item is the whole body.
pub fn check(
    item: &IntakeItem,
    service: &str,
    date: NaiveDate,
    stage: Stage,
    key: &MatchingKey,
    at: &str,
) -> Result<CheckedItem, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = |field: &str| if at.is_empty() { field.to_string() } else { format!("{at}.{field}") };
    let mut err = |field: &str, rule: Rule| errors.push(FieldError::new(name(field), rule));
    let form = item.form();
    let expected = Form::for_service(service);
    if expected != Some(form) {
        let wanted = expected.map(Form::as_str).unwrap_or("no form");
        err("form", Rule::WrongForm { service: service.to_string(), wanted });
    }
    let mut checked = CheckedItem::of(form);
    match item {
        IntakeItem::Ds11(new) => {
            let dob = check_applicant(&new.applicant, date, &mut checked, &mut err);
            checked.identity_document = check_identity_document(&new.identity_document, key, &mut err);
            match (dob.map(|d| needs_parental_consent(d, date)), new.minor_consent) {
                (Some(true), None) => err("minor_consent", Rule::ChildNeedsConsent),
                (Some(false), Some(_)) => err("minor_consent", Rule::OnlyUnder16),
                (_, consent) => checked.minor_consent = consent,
            }
        }
        IntakeItem::Ds82(on_file) | IntakeItem::Ds5504(on_file) => {
            let dob = check_applicant(&on_file.applicant, date, &mut checked, &mut err);
            checked.identity_document = check_identity_document(&on_file.identity_document, key, &mut err);
            let renewal = dob.filter(|_| form == Form::Ds82);
            checked.previous_passport =
                check_previous_passport(on_file.previous_passport.as_ref(), renewal, date, key, &mut err);
        }
        IntakeItem::Ds2029(report) => {
            let dob = check_applicant(&report.applicant, date, &mut checked, &mut err);
            checked.identity_document = check_identity_document(&report.identity_document, key, &mut err);
            if dob.is_some_and(|d| age_on(d, date) >= 18) {
                err("applicant.date_of_birth", Rule::CrbaUnder18);
            }
        }
        IntakeItem::Notarial(job) => {
            if stage == Stage::Prefill && job.pending.is_some() {
                err("pending", Rule::SetAtWindow);
            }
            check_notarial(job, stage, key, &mut checked, &mut err);
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

/// The person an application is for, whose date of birth every application form needs;
/// answers that date when it is possible.
fn check_applicant(
    person: &Option<PersonInput>,
    date: NaiveDate,
    checked: &mut CheckedItem,
    err: &mut impl FnMut(&str, Rule),
) -> Option<NaiveDate> {
    let Some(person) = person else {
        err("applicant", Rule::NameApplicant);
        return None;
    };
    let given = PersonName::parse(&person.given_names).map_err(|m| err("applicant.given_names", m)).ok();
    let surname = PersonName::parse(&person.surname).map_err(|m| err("applicant.surname", m)).ok();
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let dob = match person.date_of_birth {
        None => {
            err("applicant.date_of_birth", Rule::NeededForForm);
            None
        }
        Some(dob) if dob > date || dob < earliest => {
            err("applicant.date_of_birth", Rule::NotABirthDate);
            None
        }
        Some(dob) => Some(dob),
    };
    if let (Some(given), Some(surname)) = (given, surname) {
        checked.applicant = Some(PersonInput {
            given_names: given.as_str().to_string(),
            surname: surname.as_str().to_string(),
            date_of_birth: dob,
        });
    }
    dob
}

fn check_identity_document(
    identity: &Option<IdentityInput>,
    key: &MatchingKey,
    err: &mut impl FnMut(&str, Rule),
) -> Option<RecordedIdentity> {
    identity.as_ref().and_then(|identity| check_identity(identity, key, "identity_document", err))
}

/// The passport a DS-82 renews or a DS-5504 corrects; for a renewal, `renewal` is the
/// applicant's date of birth, against which the passport is held to the DS-82's rule.
fn check_previous_passport(
    previous: Option<&PreviousPassportInput>,
    renewal: Option<NaiveDate>,
    date: NaiveDate,
    key: &MatchingKey,
    err: &mut impl FnMut(&str, Rule),
) -> Option<RecordedPassport> {
    let Some(previous) = previous else {
        err("previous_passport", Rule::NeededForForm);
        return None;
    };
    let number = DocumentNumber::parse(&previous.number).map_err(|m| err("previous_passport.number", m)).ok();
    let issued = previous.issued_on;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if issued > date || issued < earliest {
        err("previous_passport.issued_on", Rule::NotAnIssueDate);
    } else if let Some(dob) = renewal {
        if let Err(why) = renewal_allowed(dob, issued, date) {
            err("previous_passport.issued_on", why);
        }
    }
    number.map(|number| RecordedPassport { number: key.mask(&number), issued_on: issued })
}

fn check_identity(
    identity: &IdentityInput,
    key: &MatchingKey,
    field: &str,
    err: &mut impl FnMut(&str, Rule),
) -> Option<RecordedIdentity> {
    match (&identity.number, identity.kind.has_number()) {
        (None, true) => {
            err(&format!("{field}.number"), Rule::NeededForDocument);
            None
        }
        (Some(_), false) => {
            err(&format!("{field}.number"), Rule::NoDocumentShown);
            None
        }
        (Some(raw), true) => match DocumentNumber::parse(raw) {
            Ok(number) => Some(RecordedIdentity { kind: identity.kind, number: Some(key.mask(&number)) }),
            Err(m) => {
                err(&format!("{field}.number"), m);
                None
            }
        },
        (None, false) => Some(RecordedIdentity { kind: identity.kind, number: None }),
    }
}

fn check_notarial(
    item: &NotarialJob,
    stage: Stage,
    key: &MatchingKey,
    checked: &mut CheckedItem,
    err: &mut impl FnMut(&str, Rule),
) {
    match item.act {
        Some(act) => checked.act = Some(act),
        None => err("act", Rule::NameAct),
    }
    match item.document_title.as_deref().map(|t| free_text("document_title", t, MAX_TITLE_CHARS)) {
        Some(Ok(title)) => checked.document_title = Some(title),
        Some(Err(e)) => err("document_title", e.rule),
        None => err("document_title", Rule::GiveTitle),
    }
    match item.pages {
        Some(pages) if (1..=MAX_PAGES).contains(&pages) => checked.pages = Some(pages),
        _ => err("pages", Rule::Between { min: 1, max: i64::from(MAX_PAGES) }),
    }
    match item.certificates {
        Some(n) if (1..=MAX_CERTIFICATES).contains(&n) => checked.certificates = Some(n),
        _ => err("certificates", Rule::Between { min: 1, max: i64::from(MAX_CERTIFICATES) }),
    }
    if let Some(venue) = &item.venue {
        match free_text("venue", venue, MAX_TITLE_CHARS) {
            Ok(venue) => checked.venue = Some(venue),
            Err(e) => err("venue", e.rule),
        }
    }
    if stage == Stage::Window {
        checked.pending = Some(item.pending.unwrap_or(false));
    }
    let signers = item.signers.as_deref().unwrap_or_default();
    if signers.is_empty() || signers.len() > MAX_SIGNERS {
        err("signers", Rule::SignerCount { max: MAX_SIGNERS });
        return;
    }
    let mut recorded = Vec::new();
    for (i, signer) in signers.iter().enumerate() {
        let given = PersonName::parse(&signer.given_names)
            .map_err(|m| err(&format!("signers[{i}].given_names"), m))
            .ok();
        let surname =
            PersonName::parse(&signer.surname).map_err(|m| err(&format!("signers[{i}].surname"), m)).ok();
        let proof = check_identity(&signer.id_proof, key, &format!("signers[{i}].id_proof"), err);
        if let (Some(given), Some(surname), Some(id_proof)) = (given, surname, proof) {
            recorded.push(RecordedSigner {
                given_names: given.as_str().to_string(),
                surname: surname.as_str().to_string(),
                id_proof,
            });
        }
    }
    checked.signers = Some(recorded);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }
    fn key() -> MatchingKey {
        MatchingKey::new(Secret::new("k".repeat(48)))
    }
    fn item(json: serde_json::Value) -> IntakeItem {
        serde_json::from_value(json).expect("an item")
    }
    fn fields(result: Result<CheckedItem, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }
    const TODAY: (i32, u32, u32) = (2026, 12, 1);
    fn today() -> NaiveDate {
        date(TODAY.0, TODAY.1, TODAY.2)
    }
    fn ds11(dob: &str, consent: Option<&str>) -> IntakeItem {
        item(serde_json::json!({
            "form": "DS-11",
            "applicant": {"given_names": "Sofía", "surname": "Núñez", "date_of_birth": dob},
            "minor_consent": consent,
        }))
    }

    #[test]
    fn a_child_under_16_needs_one_of_the_three_consents() {
        let check11 = |dob, consent| {
            check(&ds11(dob, consent), "passport-new", today(), Stage::Prefill, &key(), "items[0]")
        };
        assert_eq!(fields(check11("2015-03-02", None)), ["items[0].minor_consent"]);
        for consent in ["both_parents_present", "ds3053", "sole_custody_evidence"] {
            assert!(check11("2015-03-02", Some(consent)).is_ok(), "{consent}");
        }
        // 16 on the day: an adult applicant, for whom consent makes no sense.
        assert!(check11("2010-12-01", None).is_ok());
        assert_eq!(fields(check11("2010-12-01", Some("ds3053"))), ["items[0].minor_consent"]);
        assert_eq!(fields(check11("2010-12-02", None)), ["items[0].minor_consent"], "a day short of 16");
    }

    #[test]
    fn a_renewal_needs_a_passport_issued_at_16_or_older_less_than_15_years_ago() {
        let dob = date(1990, 6, 15);
        assert!(renewal_allowed(dob, date(2016, 1, 10), today()).is_ok());
        assert!(renewal_allowed(dob, date(2006, 6, 15), today()).is_err(), "issued at 16, 20 years ago");
        assert!(renewal_allowed(dob, date(2006, 6, 14), today()).is_err(), "issued a day before 16");
        assert!(renewal_allowed(dob, date(2011, 12, 2), today()).is_ok(), "a day short of 15 years");
        assert!(renewal_allowed(dob, date(2011, 12, 1), today()).is_err(), "15 years to the day");
    }

    #[test]
    fn a_renewal_item_is_checked_and_its_number_masked() {
        let renewal = item(serde_json::json!({
            "form": "DS-82",
            "applicant": {"given_names": "Seán", "surname": "O'Brien", "date_of_birth": "1990-06-15"},
            "previous_passport": {"number": "5 6789 1234", "issued_on": "2016-01-10"},
        }));
        let checked =
            check(&renewal, "passport-renewal", today(), Stage::Prefill, &key(), "items[0]").expect("valid");
        let previous = checked.previous_passport.clone().expect("kept");
        assert_eq!(previous.number.masked, "****1234");
        assert!(!serde_json::to_string(&checked).expect("json").contains("56789"));
        assert!(checked.number_hash().is_some());
        assert_eq!(checked.shown().number_hash(), None);
        assert_eq!(checked.surname(), "O'Brien");
        assert_eq!(checked.person_name(), "Seán O'Brien");
        let wrong = check(&renewal, "passport-new", today(), Stage::Prefill, &key(), "items[0]");
        assert_eq!(fields(wrong), ["items[0].form"]);
    }

    #[test]
    fn a_notarial_job_needs_its_act_title_pages_certificates_and_signers() {
        let job = item(serde_json::json!({
            "form": "notarial", "act": "acknowledgment", "document_title": "Poder notarial",
            "pages": 3, "certificates": 1,
            "signers": [
                {"given_names": "José", "surname": "Núñez", "id_proof": {"kind": "national_id", "number": "ABCD123456"}},
                {"given_names": "王", "surname": "芳", "id_proof": {"kind": "personally_known"}},
            ],
        }));
        let checked = check(&job, "notarial", today(), Stage::Window, &key(), "items[0]").expect("valid");
        assert_eq!(checked.pending, Some(false));
        assert_eq!(checked.surname(), "Núñez");
        assert_eq!(checked.person_name(), "José Núñez, 王 芳", "every signer");
        let empty = item(serde_json::json!({"form": "notarial"}));
        let errors = fields(check(&empty, "notarial", today(), Stage::Prefill, &key(), "it"));
        assert_eq!(errors, ["it.act", "it.document_title", "it.pages", "it.certificates", "it.signers"]);
        let foreign =
            serde_json::json!({"form": "notarial", "applicant": {"given_names": "A", "surname": "B"}});
        assert!(serde_json::from_value::<IntakeItem>(foreign).is_err(), "a field another form takes");
        let undocumented = item(serde_json::json!({
            "form": "notarial", "act": "jurat", "document_title": "Affidavit", "pages": 1, "certificates": 1,
            "signers": [{"given_names": "Ana", "surname": "Ruiz", "id_proof": {"kind": "us_passport"}}],
        }));
        let errors = fields(check(&undocumented, "notarial", today(), Stage::Window, &key(), "it"));
        assert_eq!(errors, ["it.signers[0].id_proof.number"]);
    }

    #[test]
    fn a_crba_is_for_a_child() {
        let crba = |dob: &str| {
            item(
                serde_json::json!({"form": "DS-2029", "applicant": {"given_names": "Mateo", "surname": "Ruiz", "date_of_birth": dob}}),
            )
        };
        assert!(check(&crba("2026-10-01"), "crba", today(), Stage::Prefill, &key(), "i").is_ok());
        assert!(check(&crba("2008-12-01"), "crba", today(), Stage::Prefill, &key(), "i").is_err());
    }
}
