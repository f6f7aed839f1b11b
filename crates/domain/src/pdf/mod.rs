//! PDFs from templates: receipts, appointment confirmations, tracking slips, queue tickets
//! and the cash close sheet; the fee report's summary is drawn by `reports::pdf` on these
//! pages. A template is a data file in `pdf_templates/` (page size, margins, type sizes, fonts, and every label in English and
//! Spanish); each is loaded and checked once at start-up, so a broken template stops the
//! server with a message naming the file and the fault instead of failing a request later.
//! Fonts are embedded and subset (only the glyphs used), so accents and ñ print right and a
//! receipt stays small.

pub mod close_sheet;
pub mod confirmation;
pub mod page;
pub mod receipt;
pub mod sheet;
pub mod slip;
pub mod ticket;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use printpdf::ParsedFont;
use serde::Deserialize;

use crate::wording::Lang;

/// One template file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    page: PageSpec,
    fonts: FontFiles,
    sizes: Sizes,
    /// Every label: `[English, Spanish]`.
    labels: BTreeMap<String, [String; 2]>,
    /// Lists printed as bullets (what to bring for each service), each item `[English, Spanish]`.
    #[serde(default)]
    lists: BTreeMap<String, Vec<[String; 2]>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSpec {
    pub width_mm: f32,
    pub height_mm: f32,
    pub margin_mm: f32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FontFiles {
    regular: String,
    /// Optional: without it, headings use the regular font (each embedded font costs about
    /// a millisecond and 10 KB per PDF).
    bold: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sizes {
    pub title: f32,
    pub text: f32,
    pub small: f32,
}

/// A loaded, checked template.
pub struct Template {
    pub page: PageSpec,
    pub sizes: Sizes,
    /// Parsed once per font file and shared by the templates that name it (a parsed font
    /// holds its glyph tables: megabytes each).
    pub regular: Arc<ParsedFont>,
    pub bold: Option<Arc<ParsedFont>>,
    labels: BTreeMap<String, [String; 2]>,
    lists: BTreeMap<String, Vec<[String; 2]>>,
}

impl Template {
    /// A label in one language, for a paper printed in that language.
    pub fn say<'a>(&'a self, key: &'a str, lang: Lang) -> &'a str {
        match (self.labels.get(key), lang) {
            (Some([en, _]), Lang::En) => en,
            (Some([_, es]), Lang::Es) => es,
            (None, _) => key,
        }
    }

    /// As [`Template::say`], with each `{name}` of `values` filled in.
    pub fn say_with(&self, key: &str, lang: Lang, values: &[(&str, &str)]) -> String {
        values
            .iter()
            .fold(self.say(key, lang).to_string(), |t, (name, v)| t.replace(&format!("{{{name}}}"), v))
    }

    /// True when the template has a label `key` (for labels named after data, like a fee code).
    pub fn has_label(&self, key: &str) -> bool {
        self.labels.contains_key(key)
    }

    /// A list's items in one language; empty for a list the template doesn't have.
    pub fn list(&self, key: &str, lang: Lang) -> Vec<&str> {
        self.lists.get(key).map_or_else(Vec::new, |items| {
            items.iter().map(|[en, es]| if lang == Lang::En { en.as_str() } else { es.as_str() }).collect()
        })
    }

    /// A label as printed: `English / Español` (or one text when both are the same).
    pub fn label(&self, key: &str) -> String {
        self.label_with(key, &[])
    }

    /// As [`Template::label`], with each `{name}` of `values` filled in in both languages.
    pub fn label_with(&self, key: &str, values: &[(&str, &str)]) -> String {
        let fill = |text: &str| {
            values.iter().fold(text.to_string(), |t, (name, v)| t.replace(&format!("{{{name}}}"), v))
        };
        match self.labels.get(key) {
            Some([en, es]) => {
                let (en, es) = (fill(en), fill(es));
                if en == es {
                    en
                } else {
                    format!("{en} / {es}")
                }
            }
            None => key.to_string(),
        }
    }
}

/// Every template the service renders.
pub struct Templates {
    pub receipt: Template,
    pub confirmation: Template,
    pub fee_report: Template,
    pub slip: Template,
    pub ticket: Template,
    pub close_sheet: Template,
}

/// The fee report's labels (its summary is drawn by `reports::pdf`, which reads them here so
/// that `reports` uses `pdf` and not the other way).
pub const FEE_REPORT_LABELS: &[&str] = &[
    "title",
    "post",
    "all_posts",
    "period",
    "generated_at",
    "filters",
    "rows",
    "totals",
    "all_fees",
    "by_currency",
    "by_fee_code",
    "by_method",
    "by_day",
    "gross",
    "voids",
    "net",
    "closes",
    "date",
    "clerk",
    "differences",
    "none",
    "signed_by",
    "not_signed",
    "no_closes",
    "page_of",
    "method_cash_usd",
    "method_cash_local",
    "method_card",
    "method_prepaid_online",
    "method_no_fee",
];

impl Templates {
    /// Loads and checks `dir`'s templates; the error names the file and what is wrong.
    pub fn load(dir: &Path) -> anyhow::Result<Templates> {
        let mut fonts = Fonts::default();
        let mut load = |name: &str, required: &[&str], lists: &[&str]| {
            load(&dir.join(name), required, lists, &mut fonts)
        };
        Ok(Templates {
            receipt: load("receipt.json", receipt::LABELS, &[])?,
            confirmation: load("confirmation.json", confirmation::LABELS, confirmation::LISTS)?,
            fee_report: load("fee_report.json", FEE_REPORT_LABELS, &[])?,
            slip: load("slip.json", slip::LABELS, &[])?,
            ticket: load("ticket.json", ticket::LABELS, &[])?,
            close_sheet: load("close_sheet.json", close_sheet::LABELS, &[])?,
        })
    }
}

/// The fonts parsed so far, by file.
type Fonts = HashMap<PathBuf, Arc<ParsedFont>>;

fn load(path: &Path, required: &[&str], lists: &[&str], fonts: &mut Fonts) -> anyhow::Result<Template> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the PDF template {shown}: {e} (CONSULAR_DESK_PDF_TEMPLATES names the directory)"
        )
    })?;
    let file: TemplateFile = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("the PDF template {shown} is not valid: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut font = |name: &str| -> anyhow::Result<Arc<ParsedFont>> {
        let font_path: PathBuf = dir.join(name);
        if let Some(parsed) = fonts.get(&font_path) {
            return Ok(parsed.clone());
        }
        let bytes = std::fs::read(&font_path)
            .map_err(|e| anyhow::anyhow!("{shown}: cannot read the font {}: {e}", font_path.display()))?;
        let parsed = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
            .ok_or_else(|| anyhow::anyhow!("{shown}: {} is not a TrueType font", font_path.display()))?;
        Ok(fonts.entry(font_path).or_insert_with(|| Arc::new(parsed)).clone())
    };
    let regular = font(&file.fonts.regular)?;
    let bold = file.fonts.bold.as_deref().map(&mut font).transpose()?;
    let p = file.page;
    let sane = |v: f32, lo: f32, hi: f32| v.is_finite() && (lo..=hi).contains(&v);
    if !(sane(p.width_mm, 50.0, 500.0) && sane(p.height_mm, 50.0, 500.0) && sane(p.margin_mm, 3.0, 50.0)) {
        anyhow::bail!("{shown}: the page must be 50 to 500 mm each way, with a margin of 3 to 50 mm");
    }
    let s = file.sizes;
    if ![s.title, s.text, s.small].iter().all(|v| sane(*v, 4.0, 48.0)) {
        anyhow::bail!("{shown}: type sizes must be 4 to 48 pt");
    }
    for key in required {
        match file.labels.get(*key) {
            None => anyhow::bail!("{shown}: the label `{key}` is missing"),
            Some([en, es]) if en.trim().is_empty() || es.trim().is_empty() => {
                anyhow::bail!("{shown}: the label `{key}` needs both its English and its Spanish text")
            }
            Some(texts) => {
                for text in texts {
                    if let Some(c) = text.chars().find(|c| regular.lookup_glyph_index(*c as u32).is_none()) {
                        anyhow::bail!(
                            "{shown}: the label `{key}` uses {c:?}, which the regular font can't print"
                        );
                    }
                }
            }
        }
    }
    if let Some(extra) = file.labels.keys().find(|k| !required.contains(&k.as_str())) {
        anyhow::bail!("{shown}: `{extra}` is no label this template prints");
    }
    for key in lists {
        let items = file.lists.get(*key).filter(|items| !items.is_empty());
        let items = items.ok_or_else(|| anyhow::anyhow!("{shown}: the list `{key}` is missing or empty"))?;
        for text in items.iter().flatten() {
            if text.trim().is_empty() {
                anyhow::bail!(
                    "{shown}: an item of the list `{key}` needs both its English and its Spanish text"
                );
            }
            if let Some(c) = text.chars().find(|c| regular.lookup_glyph_index(*c as u32).is_none()) {
                anyhow::bail!("{shown}: the list `{key}` uses {c:?}, which the regular font can't print");
            }
        }
    }
    if let Some(extra) = file.lists.keys().find(|k| !lists.contains(&k.as_str())) {
        anyhow::bail!("{shown}: `{extra}` is no list this template prints");
    }
    Ok(Template { page: p, sizes: s, regular, bold, labels: file.labels, lists: file.lists })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pdf_templates")
    }

    #[test]
    fn the_shipped_templates_load() {
        let t = Templates::load(&dir()).expect("templates");
        assert_eq!(t.receipt.label("receipt_number"), "Receipt no. / Recibo núm.");
        // Six templates, two font files: each file is parsed once and shared.
        let all = [&t.receipt, &t.confirmation, &t.fee_report, &t.slip, &t.ticket, &t.close_sheet];
        assert!(all.iter().all(|o| Arc::ptr_eq(&o.regular, &t.receipt.regular)));
        let bold: Vec<_> = all.iter().filter_map(|o| o.bold.as_ref()).collect();
        assert_eq!(bold.len(), 5);
        assert!(bold.iter().all(|b| Arc::ptr_eq(b, bold[0])));
    }

    #[test]
    fn a_broken_template_is_named_with_its_fault() {
        let scratch = tempfile::tempdir().expect("dir");
        std::fs::create_dir(scratch.path().join("fonts")).expect("fonts dir");
        for font in ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"] {
            std::fs::copy(dir().join("fonts").join(font), scratch.path().join("fonts").join(font))
                .expect("copy");
        }
        let original = std::fs::read_to_string(dir().join("receipt.json")).expect("template");
        let write = |text: &str| std::fs::write(scratch.path().join("receipt.json"), text).expect("write");
        let error = |text: &str| {
            write(text);
            load(&scratch.path().join("receipt.json"), receipt::LABELS, &[], &mut Fonts::default())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let no_spanish = original.replacen("\"Recibo núm.\"", "\"\"", 1);
        assert!(error(&no_spanish).contains("`receipt_number` needs both"), "{}", error(&no_spanish));
        let missing = original.replacen("\"receipt_number\"", "\"receipt_no\"", 1);
        assert!(error(&missing).contains("`receipt_number` is missing"));
        assert!(error("{").contains("is not valid"));
        let bad_font = original.replacen("DejaVuSans.ttf", "Nope.ttf", 1);
        assert!(error(&bad_font).contains("cannot read the font"));
        assert!(error(&original).is_empty(), "the copy loads: {}", error(&original));
    }
}
