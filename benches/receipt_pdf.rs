//! Paper rendering: the shipped templates (`pdf_templates/`) loaded once, as the server does
//! at start-up, then `--renders` of each kind rendered back to back: receipts (three lines, an
//! accented payer, paid in pesos; every tenth one voided), appointment confirmations (a
//! family's first passports, in Spanish), tracking slips and queue tickets. Prints the median and p99 time per PDF, the sizes, and
//! this process's peak resident memory. Targets: a receipt's median under 3 ms and 40 KB,
//! every other paper's under 5 ms.
//!
//! ```text
//! cargo bench --bench receipt_pdf
//! cargo bench --bench receipt_pdf -- --renders 2000
//! ```

use std::time::{Duration, Instant};

use chrono::TimeZone;
use chrono_tz::Tz;
use clap::Parser;
use consular_desk::booking::appointments::AppointmentView;
use consular_desk::booking::party::PersonInput;
use consular_desk::documents::intake::Form;
use consular_desk::documents::slips::Slip;
use consular_desk::documents::tracking::Kind;
use consular_desk::fees::closeouts::{differences, CloseoutView, ReceiptSpan, Tally};
use consular_desk::fees::money::Currency;
use consular_desk::fees::money::Money;
use consular_desk::fees::receipts::{LineView, Method, PaymentView, ReceiptView, VoidView};
use consular_desk::pdf::close_sheet::CloseSheet;
use consular_desk::pdf::confirmation::{Confirmation, FeeLine};
use consular_desk::pdf::Templates;
use consular_desk::window::tickets::Ticket;
use consular_desk::wording::Lang;

mod support;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1000)]
    renders: usize,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

/// A time at Mexico City.
fn at(h: u32, m: u32) -> chrono::DateTime<Tz> {
    let zone: Tz = chrono_tz::America::Mexico_City;
    zone.with_ymd_and_hms(2026, 12, 1, h, m, 0).single().unwrap_or_else(|| zone.timestamp_nanos(0))
}

fn receipt(i: usize) -> ReceiptView {
    let line = |code: &str, description: &str, cents: i64| LineView {
        fee_code: code.into(),
        description: description.into(),
        quantity: 1,
        unit: Money::usd(cents),
        amount: Money::usd(cents),
    };
    ReceiptView {
        receipt_number: format!("MEX-2027-{:06}", i + 1),
        post: "MEX".into(),
        post_name: "U.S. Embassy Mexico City".into(),
        post_address: "Paseo de la Reforma 305, Col. Cuauhtémoc, 06500 Ciudad de México, CDMX".into(),
        issued_at: "2026-12-01T09:15:00-06:00".into(),
        issued: at(9, 15),
        local_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
        reference: "K7Q-M4X-PT9".into(),
        tracking_number: Some("7KQM-4XPT-9ABCD".into()),
        tracking_numbers: vec!["7KQM-4XPT-9ABCD".into()],
        payer: "José Núñez Peña".into(),
        clerk: "mex.clerk".into(),
        items: vec![
            line("passport-book-adult", "Passport book application, age 16 and over", 5_000),
            line("passport-book-security-surcharge", "Passport book security surcharge", 8_000),
            line("passport-execution", "Passport execution fee (DS-11)", 3_500),
        ],
        total: Money::usd(16_500),
        payment: PaymentView {
            method: Method::CashLocal,
            local_amount: Some(Money::mxn(284_600)),
            rate_micros: Some(17_250_000),
            external_reference: None,
            no_fee_basis: None,
        },
        voided: (i % 10 == 9).then(|| VoidView {
            voided_at: "2026-12-01T10:02:00-06:00".into(),
            at: at(10, 2),
            voided_by: "mex.supervisor".into(),
            reason: "Cobrado dos veces por error".into(),
        }),
        verification_code: "K7QM4-XPT9A".into(),
    }
}

fn confirmation(i: usize) -> Confirmation {
    let person = |given: &str, born: (i32, u32, u32)| PersonInput {
        given_names: given.into(),
        surname: "Fernández de Córdoba".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(born.0, born.1, born.2),
    };
    let fee = |code: &str, quantity: u32, unit_cents: i64| FeeLine {
        fee_code: code.into(),
        description: code.into(),
        quantity,
        unit_cents,
        per_certificate: false,
    };
    Confirmation {
        appointment: AppointmentView {
            reference: format!("K7Q-M4X-{:03}", i % 1000),
            kind: "booked".into(),
            status: consular_desk::booking::status::AppointmentStatus::Booked,
            post: "MEX".into(),
            service: "passport-new".into(),
            slot_id: Some(1),
            starts_at: "2026-12-01T09:15:00-06:00".into(),
            ends_at: None,
            timezone: "America/Mexico_City".into(),
            party_size: 2,
            applicants: vec![person("María de los Ángeles", (1988, 3, 4)), person("Santiago", (2019, 7, 21))],
            phone: None,
            booked_by_staff: false,
        },
        post_name: "U.S. Embassy Mexico City".into(),
        post_address: "Paseo de la Reforma 305, Col. Cuauhtémoc, 06500 Ciudad de México, CDMX".into(),
        starts: at(9, 15),
        fees: vec![
            fee("passport-book-adult", 1, 5_000),
            fee("passport-book-security-surcharge", 2, 8_000),
            fee("passport-execution", 2, 3_500),
            fee("passport-book-minor", 1, 2_000),
        ],
        fees_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
        child_under_16: true,
        manage_url: "https://citas.example.gov/my/K7Q-M4X-PT9".into(),
        lang: Lang::Es,
    }
}

/// Renders `papers` back to back and prints the times and sizes.
fn measure<T>(
    name: &str,
    papers: &[T],
    render: impl Fn(&T) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(papers.len());
    let mut sizes = Vec::with_capacity(papers.len());
    for paper in papers {
        let sent = Instant::now();
        let pdf = render(paper)?;
        times.push(sent.elapsed());
        sizes.push(pdf.len());
    }
    let (p50, p99, max) = support::latency::percentiles(&mut times);
    sizes.sort_unstable();
    let kib = |b: usize| b as f64 / 1024.0;
    println!("{name}, {} renders", papers.len());
    println!("  time per PDF p50 / p99 / max  {p50:.2} / {p99:.2} / {max:.2} ms");
    println!(
        "  size min / median / max  {:.1} / {:.1} / {:.1} KiB",
        kib(sizes[0]),
        kib(sizes[sizes.len() / 2]),
        kib(sizes[sizes.len() - 1])
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let templates = Templates::load(std::path::Path::new("pdf_templates"))?;
    let loaded = started.elapsed();
    println!("templates loaded in {:.1} ms", ms(loaded));
    let receipts: Vec<ReceiptView> = (0..args.renders).map(receipt).collect();
    measure("receipt PDFs (every tenth voided)", &receipts, |r| {
        consular_desk::pdf::receipt::render(&templates, r, "https://citas.example.gov")
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    })?;
    let confirmations: Vec<Confirmation> = (0..args.renders).map(confirmation).collect();
    measure("appointment confirmations (a family's first passports, in Spanish)", &confirmations, |c| {
        Ok(consular_desk::pdf::confirmation::render(&templates, c))
    })?;
    let slips: Vec<Slip> = (0..args.renders)
        .map(|i| Slip {
            tracking_number: format!("PYDM-GGNJ-{:05}", i % 100_000),
            post_name: "U.S. Embassy Mexico City".into(),
            person: "José María Núñez Peña".into(),
            kind: Kind::Passport,
            form: Form::Ds82,
            recorded_at: at(9, 40),
        })
        .collect();
    measure("tracking slips", &slips, |slip| {
        consular_desk::pdf::slip::render(&templates, slip, "https://citas.example.gov")
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    })?;
    let tickets: Vec<Ticket> = (0..args.renders)
        .map(|i| Ticket {
            ticket: format!("P-{:03}", i % 1000),
            service: "passport-renewal".into(),
            post_name: "U.S. Embassy Mexico City".into(),
            checked_in_at: at(9, 5),
        })
        .collect();
    measure("queue tickets (80 mm)", &tickets, |ticket| {
        consular_desk::pdf::ticket::render(&templates, ticket).map_err(|e| anyhow::anyhow!("{e:?}"))
    })?;
    let sheets: Vec<CloseSheet> = (0..args.renders).map(close_sheet).collect();
    measure("cash close sheets (A4, four methods, signed)", &sheets, |sheet| {
        consular_desk::pdf::close_sheet::render(&templates, sheet).map_err(|e| anyhow::anyhow!("{e:?}"))
    })?;
    println!(
        "peak resident memory (VmHWM)  {}",
        support::memory::own_peak_memory().unwrap_or_else(|| "unknown".into())
    );
    Ok(())
}

/// A signed close of four methods, one of them five dollars short and explained.
fn close_sheet(i: usize) -> CloseSheet {
    let tally = |method, currency, amount_cents| Tally { method, currency, amount_cents };
    let expected = vec![
        tally(Method::Card, Currency::Usd, 16_500),
        tally(Method::CashLocal, Currency::Mxn, 280_500),
        tally(Method::CashUsd, Currency::Usd, 33_000),
        tally(Method::PrepaidOnline, Currency::Usd, 16_500),
    ];
    let mut counted = expected.clone();
    counted[2].amount_cents -= 500;
    CloseSheet {
        post_name: "U.S. Embassy Mexico City".into(),
        close: CloseoutView {
            id: i as i64 + 1,
            post: "MEX".into(),
            date: at(18, 0).date_naive(),
            clerk: "mex.clerk".into(),
            submitted_at: "2026-12-01T18:00:00-06:00".into(),
            differences: differences(&expected, &counted),
            expected,
            counted,
            explanation: Some("Five dollars given as change from the float; noted in the float book.".into()),
            signed_by: Some("mex.supervisor".into()),
            signed_at: Some("2026-12-01T18:20:00-06:00".into()),
            replaced_by: None,
            receipts: ReceiptSpan {
                count: 5,
                first: Some("MEX-2027-000101".into()),
                last: Some("MEX-2027-000105".into()),
            },
            submitted: at(18, 0),
            signed: Some(at(18, 20)),
        },
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
