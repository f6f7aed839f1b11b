//! Every rule a request can break, as a type: a variant with the data its message needs, a
//! stable `rule` code clients switch on, and its words in English (the API's language) and
//! Spanish. One `rules!` line declares all four, so a rule can't exist without both languages
//! and its code, and the pages match on the variant instead of on English sentences.

use std::borrow::Cow;

use serde::ser::SerializeStruct;
use serde::Serialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::wording::Lang;

/// Declares the rules: `Variant { data } = "code": "English" / "Spanish";`, where both texts
/// may name the data (`{max}`).
macro_rules! rules {
    ($($variant:ident $({ $($data:ident : $t:ty),* })? = $code:literal : $en:literal / $es:literal;)*) => {
        /// A broken rule: what a field error says is wrong.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Rule {
            $($variant $({ $($data: $t),* })?,)*
        }

        impl Rule {
            /// The stable snake_case code of `errors[].rule`.
            pub fn code(&self) -> &'static str {
                match self {
                    $(Rule::$variant { .. } => $code,)*
                }
            }

            /// The rule's words in `lang`, without a final stop.
            pub fn words(&self, lang: Lang) -> Cow<'static, str> {
                #[allow(unused_variables)]
                match self {
                    $(Rule::$variant $({ $($data),* })? => match lang {
                        Lang::En => words!($en $(, $($data),*)?),
                        Lang::Es => words!($es $(, $($data),*)?),
                    },)*
                }
            }
        }

        /// Every rule code, in declaration order (the OpenAPI document's enum).
        pub const CODES: &[&str] = &[$($code),*];

        /// Every rule's code with its English and Spanish words as written (the table in
        /// docs/API.md).
        #[cfg(test)]
        const WORDED: &[(&str, &str, &str)] = &[$(($code, $en, $es)),*];
    };
}

/// A fixed text borrowed; one naming the rule's data formatted.
macro_rules! words {
    ($text:literal) => {
        Cow::Borrowed($text)
    };
    ($text:literal, $($data:ident),*) => {
        Cow::Owned(format!($text))
    };
}

rules! {
    // What people type: names, text, e-mail, passwords, numbers.
    Empty = "empty": "must not be empty" / "No puede quedar vacío";
    OnlySpaces = "only_spaces": "must not be only spaces" / "No puede tener solo espacios";
    Invisible = "invisible_characters":
        "contains control or invisible formatting characters"
        / "Contiene caracteres de control o de formato invisibles";
    LongerThan { max: usize } = "too_long":
        "is longer than {max} characters" / "Tiene más de {max} caracteres";
    AtLeastChars { min: usize } = "too_short":
        "must be at least {min} characters" / "Debe tener al menos {min} caracteres";
    AtMostChars { max: usize } = "at_most_characters":
        "must be at most {max} characters" / "Debe tener como máximo {max} caracteres";
    CharsBetween { min: usize, max: usize } = "length":
        "must be {min} to {max} characters" / "Debe tener de {min} a {max} caracteres";
    FreeText { max: usize } = "free_text":
        "must be 1 to {max} characters, without control or invisible formatting characters"
        / "Debe tener de 1 a {max} caracteres, sin caracteres de control ni de formato invisibles";
    NotAnEmail = "not_an_email": "is not an e-mail address" / "No es una dirección de correo electrónico";
    NotAPhone = "not_a_phone": "is not a phone number" / "No es un número de teléfono";
    UsernameSymbols = "username_symbols":
        "may hold only letters, digits, '.', '_' and '-'"
        / "Solo puede tener letras, dígitos, '.', '_' y '-'";
    Between { min: i64, max: i64 } = "out_of_range": "must be {min} to {max}" / "Debe estar entre {min} y {max}";
    NotNegative = "negative": "must not be negative" / "No puede ser negativo";
    NotAWholeNumber = "not_a_whole_number": "is not a whole number" / "No es un número entero";
    NotAChoice = "not_a_choice": "is not one of the choices offered" / "No es una de las opciones ofrecidas";
    ListedTwice = "listed_twice": "is listed twice" / "Aparece dos veces";

    // Dates and times.
    NotADate = "not_a_date": "is not a date (YYYY-MM-DD)" / "No es una fecha (AAAA-MM-DD)";
    DateOutOfRange = "date_out_of_range":
        "is not a date between 2000 and 2200" / "No es una fecha entre 2000 y 2200";
    InThePast = "in_the_past": "is in the past" / "Ya pasó";
    NotAClockTime = "not_a_time": "must be HH:MM" / "Debe tener la forma HH:MM";
    AfterFrom = "not_after_from": "must be after from" / "Debe ser posterior al inicio";
    NotBeforeFrom = "before_from": "must not be before from" / "No puede ser anterior al inicio";
    RangeTooLong { max_days: i64 } = "range_too_long":
        "must be on or after from, and at most {max_days} days later"
        / "Debe ser igual o posterior al inicio, y a lo sumo {max_days} días después";
    BothOrNeither = "both_or_neither":
        "give both from and to, or neither for the whole day"
        / "Indique el inicio y el fin, o ninguno para todo el día";
    LaterThanToday = "not_after_today":
        "must be after today: a new price starts on a later day"
        / "Debe ser posterior a hoy: un precio nuevo empieza otro día";

    // Accounts and staff.
    NotARole = "not_a_role":
        "must be clerk, supervisor, auditor, admin or duty_officer"
        / "Debe ser clerk, supervisor, auditor, admin o duty_officer";
    NotAPostOrEvery = "not_a_post_or_every":
        "must be a three-letter post code, or null for every post"
        / "Debe ser el código de tres letras de una sede, o null para todas";
    NotAPost = "not_a_post": "must be a three-letter post code" / "Debe ser el código de tres letras de una sede";

    // Booking.
    ChooseATime = "choose_a_time": "choose a time" / "Elija un horario";
    OutsideBookingWindow = "outside_booking_window":
        "is outside the booking window" / "Está fuera del periodo de reserva";
    NotASlotOf { service: String } = "wrong_service_slot":
        "is not a {service} slot" / "No es un horario de {service}";
    IdempotencyKeyReused = "idempotency_key_reused":
        "was used with a different request" / "Se usó con otra solicitud";
    NameSomeone = "no_person": "name at least one person" / "Indique al menos una persona";
    PartyTooLarge { max: usize } = "party_too_large":
        "this service takes at most {max} people on one appointment"
        / "Este servicio admite como máximo {max} personas por cita";
    NotABirthDate = "not_a_birth_date":
        "is not a possible date of birth" / "No es una fecha de nacimiento posible";
    ReasonForChange = "change_needs_reason":
        "is required when staff change an appointment"
        / "Es obligatorio cuando el personal cambia una cita";

    // Schedules and closures.
    ClosesAfterOpens = "closes_before_opens": "must be after opens" / "Debe ser posterior a la apertura";
    NoWeekday = "no_weekday": "must name at least one day" / "Indique al menos un día";
    WeekdayTwice = "weekday_twice": "names a day more than once" / "Repite un día";
    NotAWeekday = "not_a_weekday":
        "days are 1 (Monday) to 7 (Sunday)" / "Los días van del 1 (lunes) al 7 (domingo)";
    OpeningsOverlap { weekday: u8 } = "openings_overlap":
        "two openings overlap on weekday {weekday} (1 is Monday)"
        / "Dos horarios se traslapan en el día {weekday} de la semana (1 es lunes)";
    TooManyOpenings { max: usize } = "too_many_openings":
        "at most {max} openings a week" / "Como máximo {max} horarios por semana";
    ClosingTime = "not_a_closing_time":
        "must be a time written HH:MM" / "Debe ser una hora escrita HH:MM";
    HoursDontExist = "hours_dont_exist":
        "these hours don't exist on that day (daylight saving time)"
        / "Esas horas no existen ese día (horario de verano)";
    ClosesOrNull = "closes_or_null":
        "must be HH:MM, or null for the end of the last opening"
        / "Debe tener la forma HH:MM, o null para el fin del último horario";

    // The window.
    NotAWindowService = "not_a_window_service":
        "is not a service of the window" / "No es un servicio de la ventanilla";
    OnlyForEmergency = "only_for_emergency":
        "is only given for an emergency" / "Solo se indica para una emergencia";
    NotAnEmergencyReason = "not_an_emergency_reason":
        "is not one of the emergency reasons" / "No es uno de los motivos de emergencia";
    EmergencyNeedsReason = "emergency_needs_reason":
        "is required for an emergency" / "Es obligatorio para una emergencia";
    NotAWalkInKind = "not_a_walk_in_kind": "must be routine or emergency" / "Debe ser routine o emergency";

    // Intake.
    WrongForm { service: String, wanted: &'static str } = "wrong_form":
        "a {service} appointment takes {wanted}" / "Una cita de {service} lleva {wanted}";
    SetAtWindow = "set_at_window":
        "is set by the clerk at the window" / "Lo indica el personal en la ventanilla";
    NameApplicant = "no_applicant": "name the person applying" / "Indique quién solicita";
    NeededForForm = "needed_for_form": "is needed for this form" / "Es necesario para este formulario";
    ChildNeedsConsent = "child_needs_consent":
        "a child under 16 needs both parents present, a DS-3053 consent, or evidence of sole custody"
        / "Un menor de 16 años necesita a ambos padres presentes, un consentimiento DS-3053 o prueba de custodia exclusiva";
    OnlyUnder16 = "only_under_16":
        "is only for an applicant under 16" / "Solo corresponde a un solicitante menor de 16 años";
    CrbaUnder18 = "crba_under_18": "a CRBA is for a child under 18" / "El CRBA es para menores de 18 años";
    NotAnIssueDate = "not_an_issue_date":
        "is not a possible issue date" / "No es una fecha de expedición posible";
    RenewalIssuedUnder16 = "ds82_issued_under_16":
        "a DS-82 renews only a passport issued at age 16 or older: apply on a DS-11"
        / "El DS-82 solo renueva un pasaporte expedido a los 16 años o más: solicite con el DS-11";
    RenewalTooOld = "ds82_too_old":
        "a DS-82 renews only a passport issued less than 15 years ago: apply on a DS-11"
        / "El DS-82 solo renueva un pasaporte expedido hace menos de 15 años: solicite con el DS-11";
    NeededForDocument = "needed_for_document":
        "is needed for this kind of document" / "Es necesario para este tipo de documento";
    NoDocumentShown = "no_document_shown":
        "is not taken when no document is shown" / "No se anota cuando no se presenta un documento";
    DocumentNumber = "not_a_document_number":
        "must be 5 to 20 letters and digits (spaces and dashes are ignored)"
        / "Debe tener de 5 a 20 letras y dígitos (se ignoran espacios y guiones)";
    SayWhichDocument = "number_without_document":
        "say which document the number is from" / "Indique de qué documento es el número";
    GiveIssueDate = "no_issue_date": "give its date of issue" / "Indique su fecha de expedición";
    SignerIdentity = "signer_identity":
        "say how this signer's identity was proved" / "Indique cómo acreditó su identidad esta persona";
    NameAct = "no_act": "name the notarial act" / "Indique el acto notarial";
    GiveTitle = "no_title": "give the document's title" / "Indique el título del documento";
    SignerCount { max: usize } = "signer_count":
        "name 1 to {max} signers" / "Indique de 1 a {max} firmantes";
    ItemCount { max: usize } = "item_count":
        "give 1 to {max} items" / "Llene al menos una solicitud (hasta {max})";

    // Documents.
    CollectorName = "collector_name":
        "the name of whoever collects it is needed" / "Falta el nombre de quien lo recoge";
    IdLast4 = "id_last4":
        "must be the last four letters or digits of the ID"
        / "Deben ser las últimas cuatro letras o dígitos de la identificación";
    IdShown = "id_shown": "the ID shown is needed" / "Falta la identificación presentada";
    IdLast4Needed = "id_last4_needed":
        "the ID's last four letters or digits are needed"
        / "Faltan las últimas cuatro letras o dígitos de la identificación";

    // Fees and the cash close.
    FeeCount { max: usize } = "fee_count": "list 1 to {max} fees" / "Indique de 1 a {max} conceptos";
    NoFeeInForce = "no_fee_in_force":
        "is no fee in force on the receipt's date" / "No es un concepto vigente en la fecha del recibo";
    FeeListedTwice = "fee_listed_twice":
        "is listed twice: give one line with its quantity"
        / "Aparece dos veces: indíquelo una vez, con su cantidad";
    CertificateFees { certificates: u32 } = "certificate_fees":
        "the job has {certificates} certificate(s): one fee each, however many sign"
        / "El trámite tiene {certificates} certificado(s): un cobro por cada uno, firmen cuantos firmen";
    NameVisitOrDocument = "no_visit_or_document":
        "name the visit or the tracked document" / "Indique la visita o el documento";
    DocumentOfAnotherVisit = "document_of_another_visit":
        "is a document of another visit" / "Es un documento de otra visita";
    NoFeeNeedsBasis = "no_fee_needs_basis":
        "a no-fee record needs its basis" / "Un registro sin costo necesita su fundamento";
    OnlyNoFee = "only_no_fee": "is only for no_fee" / "Solo corresponde a no_fee";
    OnlinePaymentNeedsReference = "online_payment_needs_reference":
        "an online payment needs its reference" / "Un pago en línea necesita su referencia";
    OnlyPrepaidOnline = "only_prepaid_online":
        "is only for prepaid_online" / "Solo corresponde a prepaid_online";
    PaymentReference = "payment_reference":
        "must be 4 to 64 of A-Z a-z 0-9 . _ -"
        / "Debe tener de 4 a 64 letras, dígitos, puntos, guiones o guiones bajos";
    NothingToPay = "nothing_to_pay":
        "nothing to pay: record it as no_fee with its basis"
        / "No hay nada que cobrar: regístrelo como no_fee con su fundamento";
    FeeCode = "fee_code": "must be 2 to 64 of a-z 0-9 -" / "Debe tener de 2 a 64 de a-z 0-9 -";
    LocalCurrency { currency: &'static str } = "not_local_currency":
        "the posts' local currency is {currency}" / "La moneda local de las sedes es {currency}";
    CountedCurrency = "counted_currency":
        "cash_local is counted in MXN; cash_usd, card and prepaid_online in USD; no_fee not at all"
        / "cash_local se cuenta en MXN; cash_usd, card y prepaid_online en USD; no_fee no se cuenta";
    CloseFutureDay = "close_future_day":
        "a day is closed on or after it" / "Un día se cierra ese mismo día o después";
    ExplainDifference = "explain_difference":
        "the count differs from the receipts: say why"
        / "El conteo difiere de los recibos: explique por qué";

    // The audit trail's filters.
    NotAnActor = "not_an_actor":
        "must be applicant, staff, system or anonymous" / "Debe ser applicant, staff, system o anonymous";
    ActorId = "actor_id": "has an id that is not a number" / "Tiene un id que no es un número";
    NotAnAction = "not_an_action":
        "is not an action the trail records" / "No es una acción que registre la bitácora";
    EntityName = "entity_name":
        "must be 1 to 40 lower-case letters or underscores"
        / "Debe tener de 1 a 40 letras minúsculas o guiones bajos";

    // The citizen registry and its messages.
    NotAState = "not_a_state":
        "is not one of Mexico's states (a code such as JAL)"
        / "No es uno de los estados de México (un código como JAL)";
    DistrictOrState = "district_or_state":
        "name the consular district or the state" / "Indique el distrito consular o el estado";
    NameATraveller { max: usize } = "traveller_count":
        "name 1 to {max} travellers" / "Indique de 1 a {max} viajeros";
    AskForSomething = "nothing_asked":
        "ask for emergency messages, the newsletter or both"
        / "Pida los mensajes de emergencia, el boletín o ambos";
    StayTooLong { max_days: i64 } = "stay_too_long":
        "is more than {max_days} days after the arrival" / "Es más de {max_days} días después de la llegada";
    NameADistrict = "no_district":
        "name at least one district, or all of Mexico" / "Indique al menos un distrito, o todo México";
}

/// One invalid field in a 422 answer: the field, the rule it broke and the rule's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub rule: Rule,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        FieldError { field: field.into(), rule }
    }

    /// The rule's English words, as the API says them.
    pub fn message(&self) -> Cow<'static, str> {
        self.rule.words(Lang::En)
    }
}

/// `{"field", "rule", "message"}`: the API speaks English; clients switch on `rule`.
impl Serialize for FieldError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("FieldError", 3)?;
        s.serialize_field("field", &self.field)?;
        s.serialize_field("rule", self.rule.code())?;
        s.serialize_field("message", &self.message())?;
        s.end()
    }
}

// The document's shape of `FieldError`, which is serialized by hand above.
/// One invalid field in a 422 answer.
#[derive(utoipa::ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
struct FieldErrorSchema {
    /// The request's field, as a path (`applicants[0].surname`).
    field: String,
    /// Which rule the field breaks: a stable code to switch on.
    #[schema(schema_with = rule_codes)]
    rule: String,
    /// The rule's words, in English.
    message: String,
}

fn rule_codes() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(CODES.iter().copied()))
        .description(Some(
            "Which rule the field breaks: a stable code to switch on (docs/API.md lists them).",
        ))
        .build()
}

impl utoipa::PartialSchema for FieldError {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <FieldErrorSchema as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for FieldError {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FieldError")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in CODES {
            assert!(seen.insert(code), "{code} twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{code}"
            );
        }
    }

    #[test]
    fn a_rule_says_its_data_in_both_languages() {
        let rule = Rule::CharsBetween { min: 3, max: 64 };
        assert_eq!(rule.words(Lang::En), "must be 3 to 64 characters");
        assert_eq!(rule.words(Lang::Es), "Debe tener de 3 a 64 caracteres");
        assert_eq!(rule.code(), "length");
        let wrong = Rule::WrongForm { service: "notarial".into(), wanted: "notarial" };
        assert_eq!(wrong.words(Lang::Es), "Una cita de notarial lleva notarial");
    }

    /// The rule table in docs/API.md. Run with `UPDATE_DOCS=1` to rewrite it.
    #[test]
    fn rule_table() {
        let mut table = String::from("| rule | English | Spanish |\n|---|---|---|\n");
        for (code, en, es) in WORDED {
            table.push_str(&format!("| `{code}` | {en} | {es} |\n"));
        }
        crate::error::generated_section("rule-codes", &table);
    }

    #[test]
    fn a_field_error_serializes_its_field_rule_and_english_words() {
        let e = FieldError::new("phone", Rule::NotAPhone);
        let json = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"field": "phone", "rule": "not_a_phone", "message": "is not a phone number"})
        );
    }
}
