//! The fee report's PDF summary for an auditor's file: what it covers, the totals (gross,
//! voids, net) overall, per currency taken, per fee code, per payment method and per day,
//! and each clerk's daily cash close with its differences and signature; every page footed
//! with its number and the generation time. The lines themselves are in the CSV and XLSX.

use chrono::DateTime;
use chrono_tz::Tz;

use crate::calendar;
use crate::fees::closeouts::CloseoutView;
use crate::fees::money::format_cents;
use crate::pdf::page::{Align, Cell, Page, Weight};
use crate::pdf::{Template, Templates, FEE_REPORT_LABELS};
use crate::reports::fee_report::{Scope, Sums, Totals};

/// Draws down the pages, starting a new one when the next line would not fit.
struct Writer<'t> {
    page: Page<'t>,
    t: &'t Template,
    y: f32,
    line: f32,
    /// Inside a table of sums: a new page repeats its header.
    in_table: bool,
}

impl Writer<'_> {
    fn bottom(&self) -> f32 {
        self.page.height - self.page.margin - self.t.sizes.small * 2.0
    }

    /// Makes room for `lines` more lines, on a new page if need be.
    fn room(&mut self, lines: f32) {
        if self.y + self.line * lines > self.bottom() {
            self.page.new_page();
            self.y = self.page.margin + self.t.sizes.text;
            if self.in_table {
                self.sums_header();
            }
        }
    }

    fn heading(&mut self, key: &str) {
        self.in_table = false;
        self.room(4.0);
        self.y += self.line * 0.6;
        let (size, left) = (self.t.sizes.text * 1.15, self.page.margin);
        self.page.text(Weight::Bold, size, left, self.y, &self.t.label(key));
        self.y += self.line * 1.2;
    }

    /// A row of sums: its name, then gross, voids and net right-aligned.
    fn sums(&mut self, weight: Weight, name: &str, sums: &Sums) {
        let amounts = [sums.gross_cents, sums.voids_cents, sums.net_cents].map(format_cents);
        self.columns(weight, name, &amounts);
    }

    /// A name, then three amounts right-aligned in their columns; each stays in its column.
    fn columns(&mut self, weight: Weight, name: &str, amounts: &[String; 3]) {
        let (size, left, right) = (self.t.sizes.text, self.page.margin, self.page.width - self.page.margin);
        let (column, gap) = (125.0, 10.0);
        let first = right - 3.0 * column;
        let mut cells =
            vec![Cell { x: left, width: first - gap - left, align: Align::Left, weight, size, text: name }];
        for (i, amount) in amounts.iter().enumerate() {
            let x = first + column * i as f32 + gap;
            cells.push(Cell { x, width: column - gap, align: Align::Right, weight, size, text: amount });
        }
        let height = self.page.row_height(&cells);
        self.room(height / self.line);
        self.y = self.page.row(self.y, &cells).max(self.y + self.line);
    }

    fn sums_header(&mut self) {
        let labels = ["gross", "voids", "net"].map(|k| self.t.label(k));
        self.columns(Weight::Bold, "", &labels);
    }

    fn table<'a>(&mut self, key: &str, rows: impl IntoIterator<Item = (String, &'a Sums)>) {
        self.heading(key);
        self.sums_header();
        self.in_table = true;
        for (name, sums) in rows {
            self.sums(Weight::Regular, &name, sums);
        }
        self.in_table = false;
    }
}

/// `method_cash_usd`'s label for `cash_usd`; an unknown method prints as it is.
fn method_name(t: &Template, method: &str) -> String {
    let key = format!("method_{method}");
    if FEE_REPORT_LABELS.contains(&key.as_str()) {
        t.label(&key)
    } else {
        method.to_string()
    }
}

/// One close's differences: `Cash, US dollars USD -5.00; …`, or the `none` label.
fn differences(t: &Template, close: &CloseoutView) -> String {
    let shown: Vec<String> = close
        .differences
        .iter()
        .filter(|d| d.amount_cents != 0)
        .map(|d| {
            format!(
                "{} {} {}",
                t.label(&format!("method_{}", d.method.as_str())),
                d.currency.as_str(),
                format_cents(d.amount_cents)
            )
        })
        .collect();
    if shown.is_empty() {
        t.label("none")
    } else {
        shown.join("; ")
    }
}

/// The summary of `scope`, made at `generated_at` (in the post's zone, as printed in every footer).
pub fn render(
    templates: &Templates,
    scope: &Scope,
    generated_at: DateTime<Tz>,
    totals: &Totals,
    closes: &[CloseoutView],
) -> Vec<u8> {
    let t = &templates.fee_report;
    let printed = calendar::printed(generated_at);
    let page = Page::new(t, &t.label("title"), "en-US");
    let line = t.sizes.text * 1.5;
    let mut w = Writer { y: page.margin + t.sizes.title, page, t, line, in_table: false };
    let (left, small) = (w.page.margin, t.sizes.small);

    w.page.text(Weight::Bold, t.sizes.title, left, w.y, &t.label("title"));
    w.y += line * 1.4;
    let post = match &scope.post {
        Some(code) => code.clone(),
        None => t.label("all_posts"),
    };
    let mut facts = vec![
        ("post", post),
        ("period", format!("{} – {}", scope.from, scope.to)),
        ("generated_at", printed.clone()),
        ("rows", totals.rows.to_string()),
    ];
    let filters: Vec<String> = [
        scope.service.as_ref().map(|s| format!("service={s}")),
        scope.fee_code.as_ref().map(|c| format!("fee_code={c}")),
        scope.method.map(|m| format!("method={}", m.as_str())),
        scope.clerk.as_ref().map(|c| format!("clerk={c}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !filters.is_empty() {
        facts.push(("filters", filters.join(", ")));
    }
    let right = w.page.width - w.page.margin;
    for (key, value) in facts {
        let label = t.label(key);
        let cells = [
            Cell {
                x: left,
                width: 220.0,
                align: Align::Left,
                weight: Weight::Bold,
                size: small,
                text: &label,
            },
            Cell {
                x: left + 230.0,
                width: right - left - 230.0,
                align: Align::Left,
                weight: Weight::Regular,
                size: t.sizes.text,
                text: &value,
            },
        ];
        w.y = w.page.row(w.y, &cells).max(w.y + line);
    }

    w.heading("totals");
    w.sums_header();
    w.sums(Weight::Bold, &t.label("all_fees"), &totals.all);
    w.table("by_currency", totals.by_currency.iter().map(|(c, s)| (c.clone(), s)));
    w.table("by_fee_code", totals.by_fee_code.iter().map(|(c, s)| (c.clone(), s)));
    w.table("by_method", totals.by_method.iter().map(|(m, s)| (method_name(t, m), s)));
    w.table("by_day", totals.by_day.iter().map(|(d, s)| (d.to_string(), s)));

    w.heading("closes");
    if closes.is_empty() {
        w.page.text(Weight::Regular, t.sizes.text, left, w.y, &t.label("no_closes"));
        w.y += line;
    }
    for close in closes {
        w.room(3.0);
        let who = format!("{}  {}  {}: {}", close.date, close.post, t.label("clerk"), close.clerk);
        let signed = match (&close.signed_by, &close.signed) {
            (Some(by), Some(at)) => format!("{} {by}, {}", t.label("signed_by"), calendar::printed(*at)),
            _ => t.label("not_signed"),
        };
        let half = (right - left) / 2.0;
        let cells = [
            Cell {
                x: left,
                width: half - 5.0,
                align: Align::Left,
                weight: Weight::Bold,
                size: t.sizes.text,
                text: &who,
            },
            Cell {
                x: left + half + 5.0,
                width: half - 5.0,
                align: Align::Right,
                weight: Weight::Regular,
                size: small,
                text: &signed,
            },
        ];
        w.y = w.page.row(w.y, &cells).max(w.y + line);
        let said = format!("{}: {}", t.label("differences"), differences(t, close));
        w.y = w.page.wrapped(Weight::Regular, small, left + 12.0, w.y, right - left - 12.0, &said);
        if let Some(explanation) = &close.explanation {
            w.y = w.page.wrapped(Weight::Regular, small, left + 12.0, w.y, right - left - 12.0, explanation);
        }
        w.y += line * 0.3;
    }

    w.page.footers(small, |n, count| {
        let (n, count) = (n.to_string(), count.to_string());
        t.label_with("page_of", &[("page", &n), ("pages", &count), ("generated_at", &printed)])
    });
    w.page.finish()
}
