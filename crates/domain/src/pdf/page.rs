//! A document being drawn, a page at a time: text at positions from the top-left in points,
//! right-aligned text, rules, a QR code as filled squares, a diagonal watermark, and footers
//! once the page count is known. printpdf's origin is the bottom-left; this turns it around
//! once, here.

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Pt, Rect, TextItem,
};
use qrcode::EcLevel;

use crate::pdf::Template;

/// The modules of `data`'s QR code (medium error correction), row by row, `true` for dark.
/// Always the checkerboard mask: any mask reads the same, and choosing the "best" of eight
/// costs more than the rest of a receipt together.
pub fn qr_modules(data: &str) -> Option<(usize, Vec<bool>)> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let ec = EcLevel::M;
    let bits = qrcode::bits::encode_auto(data.as_bytes(), ec).ok()?;
    let version = bits.version();
    let (codewords, ec_codewords) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).ok()?;
    let mut canvas = Canvas::new(version, ec);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&codewords, &ec_codewords);
    canvas.apply_mask(MaskPattern::Checkerboard);
    let side = usize::try_from(version.width()).ok()?;
    Some((side, canvas.into_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect()))
}

/// The space between two baselines of text of `size` points.
pub fn leading(size: f32) -> f32 {
    size * 1.35
}

/// The smallest a text is shrunk to fit its column on one line before it wraps instead: 85 %
/// of its size, and never below 6 pt, which still prints legibly.
pub fn floor(size: f32) -> f32 {
    (size * 0.85).max(6.0).min(size)
}

/// The width of `text` in `font` at `size`, in points, as it prints (a character the font
/// lacks prints as `?`): also for a layout measured before its page exists.
pub fn text_width(font: &ParsedFont, size: f32, text: &str) -> f32 {
    let glyph = |c: char| font.lookup_glyph_index(c as u32).or_else(|| font.lookup_glyph_index('?' as u32));
    let units: u32 = text.chars().filter_map(glyph).map(|g| u32::from(font.get_horizontal_advance(g))).sum();
    units as f32 * size / f32::from(font.pdf_font_metrics.units_per_em)
}

/// `text` in lines no wider than `width` by `measure`: broken at spaces, and a word wider than
/// a whole line (a long code, an address) between characters.
pub fn break_lines(measure: impl Fn(&str) -> f32, text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if measure(&candidate) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            line.push(c);
            if measure(&line) > width && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, c.to_string()));
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where a cell's text sits in its column.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A text that must stay within its column: `x` to `x + width`.
pub struct Cell<'a> {
    pub x: f32,
    pub width: f32,
    pub align: Align,
    pub weight: Weight,
    pub size: f32,
    pub text: &'a str,
}

/// Where the text being laid out has reached on the page, and where it must stop (above a
/// footer): content that would cross the bottom goes on a new page.
pub struct Flow {
    pub y: f32,
    pub bottom: f32,
    /// Where a new page's first baseline goes.
    pub top: f32,
}

impl Flow {
    /// Starts a new page when `height` more would cross the bottom; true when it did.
    pub fn room(&mut self, page: &mut Page, height: f32) -> bool {
        if self.y + height > self.bottom {
            page.new_page();
            self.y = self.top;
            return true;
        }
        false
    }
}

impl Flow {
    /// Draws `cells` as a row where the flow has reached (on a new page when the row doesn't
    /// fit on this one) and moves the flow below it, `after` further.
    pub fn row(&mut self, page: &mut Page, cells: &[Cell], after: f32) {
        let height = page.row_height(cells);
        self.room(page, height);
        self.y = page.row(self.y, cells) + after;
    }
}

/// A paper's label column and value column (who, where, when), one pair per row.
#[derive(Clone, Copy)]
pub struct Fields {
    pub left: f32,
    pub label_width: f32,
    /// Where the values start (the label column and the gap after it).
    pub value_x: f32,
    pub right: f32,
    pub label_size: f32,
    pub value_size: f32,
    /// Space below each row.
    pub after: f32,
}

impl Fields {
    /// Prints `label` (bold) and `value` as a row where the flow has reached.
    pub fn row(&self, page: &mut Page, flow: &mut Flow, label: &str, value: &str) {
        let cells = [
            Cell {
                x: self.left,
                width: self.label_width,
                align: Align::Left,
                weight: Weight::Bold,
                size: self.label_size,
                text: label,
            },
            Cell {
                x: self.value_x,
                width: self.right - self.value_x,
                align: Align::Left,
                weight: Weight::Regular,
                size: self.value_size,
                text: value,
            },
        ];
        flow.row(page, &cells, self.after);
    }
}

/// Which of the template's fonts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

pub struct Page<'t> {
    template: &'t Template,
    doc: PdfDocument,
    regular: FontId,
    bold: FontId,
    lang: &'static str,
    /// The pages before the one being drawn.
    done: Vec<Vec<Op>>,
    ops: Vec<Op>,
    pub width: f32,
    pub height: f32,
    pub margin: f32,
}

fn grey(percent: f32) -> Color {
    Color::Greyscale(Greyscale { percent, icc_profile: None })
}

impl<'t> Page<'t> {
    /// A document titled `title` (shown by viewers and screen readers) in `lang`
    /// (BCP 47, e.g. `en-US`; a bilingual paper names its first language).
    pub fn new(template: &'t Template, title: &str, lang: &'static str) -> Page<'t> {
        let mut doc = PdfDocument::new(title);
        let regular = doc.add_font(&template.regular);
        let bold = match &template.bold {
            Some(bold) => doc.add_font(bold),
            None => regular.clone(),
        };
        let p = template.page;
        Page {
            template,
            doc,
            regular,
            bold,
            lang,
            done: Vec::new(),
            ops: vec![Op::SetFillColor { col: grey(0.0) }],
            width: Mm(p.width_mm).into_pt().0,
            height: Mm(p.height_mm).into_pt().0,
            margin: Mm(p.margin_mm).into_pt().0,
        }
    }

    fn font(&self, weight: Weight) -> (&FontId, &ParsedFont) {
        match weight {
            Weight::Regular => (&self.regular, &self.template.regular),
            Weight::Bold => (&self.bold, self.template.bold.as_ref().unwrap_or(&self.template.regular)),
        }
    }

    /// `text` as the font can print it: a character it has no glyph for becomes `?`, so a
    /// name in a script the font lacks shows that something is missing instead of blanks.
    fn printable(&self, weight: Weight, text: &str) -> String {
        let (_, parsed) = self.font(weight);
        text.chars().map(|c| if parsed.lookup_glyph_index(c as u32).is_some() { c } else { '?' }).collect()
    }

    /// The width of `text` in points, as printed.
    pub fn width_of(&self, weight: Weight, size: f32, text: &str) -> f32 {
        text_width(self.font(weight).1, size, text)
    }

    /// Writes `text` with its baseline `y` points below the top edge, starting at `x`.
    pub fn text(&mut self, weight: Weight, size: f32, x: f32, y: f32, text: &str) {
        let text = self.printable(weight, text);
        let font = self.font(weight).0.clone();
        let top = self.height;
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(font), size: Pt(size) },
            Op::SetTextCursor { pos: Point { x: Pt(x), y: Pt(top - y) } },
            Op::ShowText { items: vec![TextItem::Text(text)] },
            Op::EndTextSection,
        ]);
    }

    /// As [`Page::text`], ending at `right`.
    pub fn text_right(&mut self, weight: Weight, size: f32, right: f32, y: f32, text: &str) {
        let text = self.printable(weight, text);
        let x = right - self.width_of(weight, size, &text);
        self.text(weight, size, x, y, &text);
    }

    /// Writes `text` over as many lines as it needs within `width`, and returns the `y` below it.
    pub fn wrapped(&mut self, weight: Weight, size: f32, x: f32, mut y: f32, width: f32, text: &str) -> f32 {
        for line in self.break_lines(weight, size, width, text) {
            self.text(weight, size, x, y, &line);
            y += leading(size);
        }
        y
    }

    /// `text` broken into lines no wider than `width` ([`break_lines`]).
    pub fn break_lines(&self, weight: Weight, size: f32, width: f32, text: &str) -> Vec<String> {
        let text = self.printable(weight, text);
        break_lines(|t| self.width_of(weight, size, t), &text, width)
    }

    /// Draws `cell` with its first baseline at `y`, and returns the baseline below it. A text
    /// too wide for its column is shrunk when a little is enough, and wrapped otherwise: it
    /// never runs into the next column.
    pub fn cell(&mut self, y: f32, cell: &Cell) -> f32 {
        let size = self.fitted_size(cell);
        let lines = self.break_lines(cell.weight, size, cell.width, cell.text);
        let mut y = y;
        for line in &lines {
            match cell.align {
                Align::Left => self.text(cell.weight, size, cell.x, y, line),
                Align::Right => self.text_right(cell.weight, size, cell.x + cell.width, y, line),
            }
            y += leading(size);
        }
        if lines.is_empty() {
            y += leading(size);
        }
        y
    }

    /// The size `cell` prints at: its own when it fits on one line, smaller down to [`floor`]
    /// when that makes it fit on one line, else its own size again, wrapped.
    fn fitted_size(&self, cell: &Cell) -> f32 {
        let natural = self.width_of(cell.weight, cell.size, cell.text);
        let shrunk = cell.size * cell.width / natural;
        if natural <= cell.width || shrunk < floor(cell.size) {
            cell.size
        } else {
            shrunk
        }
    }

    /// Draws a row of cells on one baseline; returns the baseline below the tallest.
    pub fn row(&mut self, y: f32, cells: &[Cell]) -> f32 {
        cells.iter().map(|c| self.cell(y, c)).fold(y, f32::max)
    }

    /// How far below `y` the row would end, without drawing it.
    pub fn row_height(&self, cells: &[Cell]) -> f32 {
        cells
            .iter()
            .map(|c| {
                let size = self.fitted_size(c);
                self.break_lines(c.weight, size, c.width, c.text).len().max(1) as f32 * leading(size)
            })
            .fold(0.0, f32::max)
    }

    /// A grey-filled box with a black border from `top` to `bottom` (points below the top
    /// edge), margin to margin: drawn before the text that goes in it, so it stays behind.
    pub fn band(&mut self, top: f32, bottom: f32) {
        let (left, width) = (self.margin, self.width - 2.0 * self.margin);
        let rectangle = |mode| Rect {
            x: Pt(left),
            y: Pt(self.height - bottom),
            width: Pt(width),
            height: Pt(bottom - top),
            mode: Some(mode),
            winding_order: None,
        };
        let (fill, outline) = (rectangle(PaintMode::Fill), rectangle(PaintMode::Stroke));
        self.ops.extend([
            Op::SaveGraphicsState,
            Op::SetFillColor { col: grey(0.88) },
            Op::DrawRectangle { rectangle: fill },
            Op::SetOutlineColor { col: grey(0.0) },
            Op::SetOutlineThickness { pt: Pt(2.0) },
            Op::DrawRectangle { rectangle: outline },
            Op::RestoreGraphicsState,
        ]);
    }

    /// A horizontal rule `y` points below the top, margin to margin.
    pub fn rule(&mut self, y: f32, thickness: f32) {
        let (left, right, top) = (self.margin, self.width - self.margin, self.height);
        self.ops.extend([
            Op::SetOutlineColor { col: grey(0.0) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    is_closed: false,
                    points: vec![
                        LinePoint { p: Point { x: Pt(left), y: Pt(top - y) }, bezier: false },
                        LinePoint { p: Point { x: Pt(right), y: Pt(top - y) }, bezier: false },
                    ],
                },
            },
        ]);
    }

    /// A horizontal line from `x0` to `x1`, `y` points below the top: a line to sign on.
    pub fn segment(&mut self, x0: f32, x1: f32, y: f32, thickness: f32) {
        let top = self.height;
        self.ops.extend([
            Op::SetOutlineColor { col: grey(0.0) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    is_closed: false,
                    points: vec![
                        LinePoint { p: Point { x: Pt(x0), y: Pt(top - y) }, bezier: false },
                        LinePoint { p: Point { x: Pt(x1), y: Pt(top - y) }, bezier: false },
                    ],
                },
            },
        ]);
    }

    /// `data` as a QR code whose top-left corner is at (`x`, `y` below the top), `module`
    /// points per square; returns its side. Nothing is drawn for data a QR code can't hold.
    pub fn qr(&mut self, x: f32, y: f32, module: f32, data: &str) -> f32 {
        let Some((side, dark)) = qr_modules(data) else {
            return 0.0;
        };
        let top = self.height - y;
        // One rectangle per run of dark modules in a row: a third of the operators.
        for row in 0..side {
            let mut col = 0;
            while col < side {
                if !dark[row * side + col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < side && dark[row * side + col] {
                    col += 1;
                }
                self.ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(x + start as f32 * module),
                        y: Pt(top - (row as f32 + 1.0) * module),
                        width: Pt((col - start) as f32 * module),
                        height: Pt(module),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
        }
        side as f32 * module
    }

    /// Ends the page being drawn and starts a blank one.
    pub fn new_page(&mut self) {
        let finished = std::mem::replace(&mut self.ops, vec![Op::SetFillColor { col: grey(0.0) }]);
        self.done.push(finished);
    }

    /// Writes `footer(page number, page count)` at the foot of every page, centred.
    pub fn footers(&mut self, size: f32, footer: impl Fn(usize, usize) -> String) {
        let y = self.height - self.margin / 2.0;
        self.on_every_page(|page, n, count| {
            let text = footer(n, count);
            let x = (page.width - page.width_of(Weight::Regular, size, &text)) / 2.0;
            page.text(Weight::Regular, size, x, y, &text);
        });
    }

    /// Runs `draw(page, page number, page count)` on every page once all are drawn: footers
    /// that repeat, or that need the page count.
    pub fn on_every_page(&mut self, draw: impl Fn(&mut Page, usize, usize)) {
        self.new_page();
        let mut pages = std::mem::take(&mut self.done);
        let count = pages.len();
        for (i, ops) in pages.iter_mut().enumerate() {
            std::mem::swap(&mut self.ops, ops);
            draw(self, i + 1, count);
            std::mem::swap(&mut self.ops, ops);
        }
        // The last page is being drawn again, as it was.
        self.ops = pages.pop().unwrap_or_default();
        self.done = pages;
    }

    /// The finished PDF: fonts subset to the glyphs used, streams compressed.
    pub fn finish(mut self) -> Vec<u8> {
        let p = self.template.page;
        self.done.push(self.ops);
        let pages =
            self.done.into_iter().map(|ops| PdfPage::new(Mm(p.width_mm), Mm(p.height_mm), ops)).collect();
        let options = PdfSaveOptions { subset_fonts: true, optimize: false, ..Default::default() };
        let mut doc = printpdf::to_lopdf_doc(self.doc.with_pages(pages), &options, &mut Vec::new());
        if let Ok(catalog) = doc.catalog_mut() {
            catalog.set("Lang", lopdf::Object::string_literal(self.lang));
            // Viewers show the title, not the file name, in their window.
            catalog.set("ViewerPreferences", lopdf::dictionary! { "DisplayDocTitle" => true });
        }
        for object in doc.objects.values_mut() {
            if let lopdf::Object::Stream(stream) = object {
                compress(stream);
            }
        }
        let mut bytes = Vec::new();
        // Writing to memory can't fail.
        let _ = doc.save_to(&mut bytes);
        bytes
    }
}

/// Deflates a stream that has no filter yet, at flate's fastest level, when that makes it
/// smaller: the best level (printpdf's own) took longer than drawing the whole receipt, for
/// a fifth less size.
fn compress(stream: &mut lopdf::Stream) {
    use std::io::Write;
    if stream.dict.get(b"Filter").is_ok() {
        return;
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    if encoder.write_all(&stream.content).is_err() {
        return;
    }
    if let Ok(compressed) = encoder.finish() {
        if compressed.len() + 19 < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(compressed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> crate::pdf::Templates {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pdf_templates");
        crate::pdf::Templates::load(&dir).expect("templates")
    }

    #[test]
    fn lines_fit_their_width_and_a_long_word_breaks_between_characters() {
        let templates = template();
        let page = Page::new(&templates.receipt, "test", "en-US");
        let width = 60.0;
        let text = "Fee passport-book-security-surcharge Unitario USD https://citas.example.gov/receipts/verify/MEX-2027-000123";
        let lines = page.break_lines(Weight::Regular, 8.0, width, text);
        assert!(lines.len() > 4, "{lines:?}");
        for line in &lines {
            assert!(page.width_of(Weight::Regular, 8.0, line) <= width, "{line:?} is wider than {width}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""), "nothing is lost");
    }

    #[test]
    fn a_cell_shrinks_a_little_or_wraps() {
        let templates = template();
        let page = Page::new(&templates.receipt, "test", "en-US");
        let label = "Qty. / Cant.";
        let natural = page.width_of(Weight::Regular, 8.0, label);
        let cell = |width| Cell {
            x: 0.0,
            width,
            align: Align::Right,
            weight: Weight::Regular,
            size: 8.0,
            text: label,
        };
        assert_eq!(page.row_height(&[cell(natural)]), leading(8.0), "fits: one line at its size");
        assert_eq!(page.row_height(&[cell(natural * 0.9)]), leading(8.0 * 0.9), "shrunk, one line");
        assert_eq!(
            page.row_height(&[cell(natural * 0.6)]),
            2.0 * leading(8.0),
            "too narrow to shrink: two lines at its size"
        );
    }

    #[test]
    fn the_qr_code_reads_back_as_its_data() {
        let data = "https://citas.example.gov/api/v1/receipts/verify/MEX-2027-000123?sig=K7QM4-XPT9A";
        let (side, dark) = qr_modules(data).expect("fits");
        // Four pixels a module, with the four-module quiet zone a reader needs.
        let (scale, quiet) = (4, 4);
        let size = (side + 2 * quiet) * scale;
        let mut image = rqrr::PreparedImage::prepare_from_bitmap(size, size, |x, y| {
            let (col, row) = ((x / scale).wrapping_sub(quiet), (y / scale).wrapping_sub(quiet));
            col < side && row < side && dark[row * side + col]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().expect("decodes");
        assert_eq!(content, data);
    }
}
