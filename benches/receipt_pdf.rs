//! Receipt rendering: the shipped templates (`pdf_templates/`) loaded once, as the server does
//! at start-up, then `--renders` receipts rendered back to back (three lines, an accented
//! payer, paid in pesos; every tenth one voided). Prints the median and p99 time per PDF, the
//! sizes, and this process's peak resident memory. Targets: median under 3 ms, under 40 KB.
//!
//! ```text
//! cargo bench --bench receipt_pdf
//! cargo bench --bench receipt_pdf -- --renders 2000
//! ```

use std::time::{Duration, Instant};

use clap::Parser;
use consular_desk::fees::money::Money;
use consular_desk::fees::receipts::{LineView, Method, PaymentView, ReceiptView, VoidView};
use consular_desk::pdf::Templates;

mod support;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1000)]
    renders: usize,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
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
            voided_by: "mex.supervisor".into(),
            reason: "Cobrado dos veces por error".into(),
        }),
        verification_code: "K7QM4-XPT9A".into(),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let templates = Templates::load(std::path::Path::new("pdf_templates"))?;
    let loaded = started.elapsed();
    let receipts: Vec<ReceiptView> = (0..args.renders).map(receipt).collect();
    let mut times = Vec::with_capacity(args.renders);
    let mut sizes = Vec::with_capacity(args.renders);
    for r in &receipts {
        let sent = Instant::now();
        let pdf = consular_desk::pdf::receipt::render(&templates, r, "https://citas.example.gov")
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        times.push(sent.elapsed());
        sizes.push(pdf.len());
    }
    let (p50, p99, max) = support::percentiles(&mut times);
    sizes.sort_unstable();
    let kib = |b: usize| b as f64 / 1024.0;
    println!(
        "receipt PDFs, {} renders (every tenth voided), templates loaded in {:.1} ms",
        args.renders,
        ms(loaded)
    );
    println!("  time per PDF p50 / p99 / max  {p50:.2} / {p99:.2} / {max:.2} ms");
    println!(
        "  size min / median / max  {:.1} / {:.1} / {:.1} KiB",
        kib(sizes[0]),
        kib(sizes[sizes.len() / 2]),
        kib(sizes[sizes.len() - 1])
    );
    println!(
        "  peak resident memory (VmHWM)  {}",
        support::own_peak_memory().unwrap_or_else(|| "unknown".into())
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
