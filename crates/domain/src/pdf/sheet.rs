//! What the slip and the ticket share on top of [`Page`]: a size that makes one line fit, and
//! a page that remembers where it put each text, so a unit test can check that nothing
//! overlaps and nothing leaves the page.

use crate::pdf::page::{Page, Weight};

/// The size, at most `max` and at least `floor`, at which `text` (measured at `max`) fits
/// `width` on one line. Below the floor the caller cuts it with [`fit`] instead.
pub fn size_to_fit(width_at_max: f32, max: f32, floor: f32, width: f32) -> f32 {
    if width_at_max <= width || width_at_max <= 0.0 {
        return max;
    }
    (max * width / width_at_max).max(floor)
}

/// One text as placed: its left edge, baseline (points below the top), size and width.
#[derive(Debug, Clone)]
pub struct Placed {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub width: f32,
    pub text: String,
}

/// A [`Page`] that notes every text it writes.
pub struct Sheet<'t> {
    pub page: Page<'t>,
    pub placed: Vec<Placed>,
}

impl<'t> Sheet<'t> {
    pub fn new(page: Page<'t>) -> Sheet<'t> {
        Sheet { page, placed: Vec::new() }
    }

    pub fn width_of(&self, weight: Weight, size: f32, text: &str) -> f32 {
        self.page.width_of(weight, size, text)
    }

    pub fn text(&mut self, weight: Weight, size: f32, x: f32, y: f32, text: &str) {
        let width = self.page.width_of(weight, size, text);
        self.placed.push(Placed { x, y, size, width, text: text.to_string() });
        self.page.text(weight, size, x, y, text);
    }

    /// `text` cut to `width` ([`fit`]) from `x`, a line every `size × 1.3`; returns the `y`
    /// below it.
    pub fn lines(&mut self, weight: Weight, size: f32, x: f32, mut y: f32, width: f32, text: &str) -> f32 {
        let lines = self.page.break_lines(weight, size, width, text);
        for line in lines {
            self.text(weight, size, x, y, &line);
            y += size * 1.3;
        }
        y
    }

    /// Nothing outside the margins, and no two texts' boxes (ascent 0.8 and descent 0.25 of
    /// the size) overlapping: what a unit test asks of a layout. Names the first fault.
    pub fn check(&self) -> Result<(), String> {
        let (left, right) = (self.page.margin, self.page.width - self.page.margin);
        let (top, bottom) = (self.page.margin, self.page.height - self.page.margin);
        let slack = 0.01;
        let boxed = |p: &Placed| (p.x, p.x + p.width, p.y - p.size * 0.8, p.y + p.size * 0.25);
        for p in &self.placed {
            let (l, r, t, b) = boxed(p);
            if l < left - slack || r > right + slack || t < top - slack || b > bottom + slack {
                return Err(format!("{:?} leaves the page ({l}..{r} × {t}..{b})", p.text));
            }
        }
        for (i, a) in self.placed.iter().enumerate() {
            for b in &self.placed[i + 1..] {
                let (al, ar, at, ab) = boxed(a);
                let (bl, br, bt, bb) = boxed(b);
                if al < br - slack && bl < ar - slack && at < bb - slack && bt < ab - slack {
                    return Err(format!("{:?} overlaps {:?}", a.text, b.text));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_shrinks_within_its_floor() {
        assert_eq!(size_to_fit(80.0, 20.0, 10.0, 100.0), 20.0);
        assert_eq!(size_to_fit(200.0, 20.0, 8.0, 100.0), 10.0);
        assert_eq!(size_to_fit(1000.0, 20.0, 8.0, 100.0), 8.0);
    }
}
