//! An RGB pixel buffer with the few clipped drawing primitives charts need: rectangles, thick
//! lines, markers and bitmap text.

use crate::font;

/// An 8-bit RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// A rectangle in pixel coordinates; `x`/`y` is the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge (inclusive).
    pub x: i32,
    /// Top edge (inclusive).
    pub y: i32,
    /// Width in pixels.
    pub w: i32,
    /// Height in pixels.
    pub h: i32,
}

impl Rect {
    /// Whether the pixel `(x, y)` lies inside the rectangle.
    pub fn contains(&self, x: i32, y: i32) -> bool {
        x >= self.x && x < self.x + self.w && y >= self.y && y < self.y + self.h
    }

    /// The right edge (exclusive).
    pub fn right(&self) -> i32 {
        self.x + self.w
    }

    /// The bottom edge (exclusive).
    pub fn bottom(&self) -> i32 {
        self.y + self.h
    }
}

/// Marker shapes, cycled per series so that series stay distinguishable without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Filled disc.
    Circle,
    /// Filled square.
    Square,
    /// Filled upward triangle.
    Triangle,
    /// Filled diamond.
    Diamond,
}

/// A row-major RGB8 image. Every primitive clips to the image and to an optional clip
/// rectangle, so callers can draw with coordinates that fall partly outside.
pub(crate) struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    clip: Option<Rect>,
}

impl Canvas {
    /// A `width × height` canvas filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb) -> Self {
        let n = width as usize * height as usize;
        let mut pixels = Vec::with_capacity(n * 3);
        for _ in 0..n {
            pixels.extend_from_slice(&[background.0, background.1, background.2]);
        }
        Self {
            width,
            height,
            pixels,
            clip: None,
        }
    }

    /// Restricts later drawing to `clip` (or lifts the restriction with `None`).
    pub fn set_clip(&mut self, clip: Option<Rect>) {
        self.clip = clip;
    }

    /// The finished pixels, row-major RGB8.
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// Sets one pixel, silently ignoring anything outside the image or the clip rectangle.
    pub fn put(&mut self, x: i32, y: i32, c: Rgb) {
        if x < 0 || y < 0 || x as u32 >= self.width || y as u32 >= self.height {
            return;
        }
        if let Some(clip) = self.clip {
            if !clip.contains(x, y) {
                return;
            }
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.pixels[i..i + 3].copy_from_slice(&[c.0, c.1, c.2]);
    }

    /// Fills `r`.
    pub fn fill_rect(&mut self, r: Rect, c: Rgb) {
        // Intersect with the image first so a huge rectangle costs only its visible part.
        let x0 = r.x.max(0);
        let y0 = r.y.max(0);
        let x1 = r.right().min(self.width as i32);
        let y1 = r.bottom().min(self.height as i32);
        for y in y0..y1 {
            for x in x0..x1 {
                self.put(x, y, c);
            }
        }
    }

    /// Draws the one-pixel outline of `r`.
    pub fn stroke_rect(&mut self, r: Rect, c: Rgb) {
        self.hline(r.x, r.right() - 1, r.y, c);
        self.hline(r.x, r.right() - 1, r.bottom() - 1, c);
        self.vline(r.x, r.y, r.bottom() - 1, c);
        self.vline(r.right() - 1, r.y, r.bottom() - 1, c);
    }

    /// Horizontal line from `x0` to `x1` inclusive.
    pub fn hline(&mut self, x0: i32, x1: i32, y: i32, c: Rgb) {
        let (a, b) = (x0.min(x1).max(-1), x0.max(x1).min(self.width as i32));
        for x in a..=b {
            self.put(x, y, c);
        }
    }

    /// Vertical line from `y0` to `y1` inclusive.
    pub fn vline(&mut self, x: i32, y0: i32, y1: i32, c: Rgb) {
        let (a, b) = (y0.min(y1).max(-1), y0.max(y1).min(self.height as i32));
        for y in a..=b {
            self.put(x, y, c);
        }
    }

    /// A line of the given thickness between two points (Bresenham, stamped with a square brush).
    pub fn line(&mut self, (x0, y0): (i32, i32), (x1, y1): (i32, i32), thickness: i32, c: Rgb) {
        let dx = (x1 - x0).abs();
        let dy = -(y1 - y0).abs();
        let sx = if x0 < x1 { 1 } else { -1 };
        let sy = if y0 < y1 { 1 } else { -1 };
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        // The brush is centred on the path; an even thickness leans up-left by half a pixel.
        let lo = -(thickness - 1) / 2;
        let hi = lo + thickness.max(1);
        loop {
            for by in lo..hi {
                for bx in lo..hi {
                    self.put(x + bx, y + by, c);
                }
            }
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// A filled marker of "radius" `r` centred on `(cx, cy)`.
    pub fn marker(&mut self, shape: Marker, cx: i32, cy: i32, r: i32, c: Rgb) {
        for dy in -r..=r {
            for dx in -r..=r {
                let inside = match shape {
                    Marker::Circle => dx * dx + dy * dy <= r * r + r / 2,
                    Marker::Square => dx.abs() < r && dy.abs() < r,
                    Marker::Diamond => dx.abs() + dy.abs() <= r,
                    // Apex at the top: the half-width grows from 0 at dy = -r to r at dy = r.
                    Marker::Triangle => 2 * dx.abs() <= dy + r,
                };
                if inside {
                    self.put(cx + dx, cy + dy, c);
                }
            }
        }
    }

    /// Draws `text` with its top-left corner at `(x, y)`.
    pub fn text(&mut self, x: i32, y: i32, text: &str, scale: u32, c: Rgb) {
        font::for_each_pixel(text, scale, |px, py| {
            self.put(x + px as i32, y + py as i32, c)
        });
    }

    /// Draws `text` rotated a quarter turn anticlockwise, reading bottom to top, with the
    /// bottom-left corner of the run (the start of the first glyph's top row) at `(x, y)`:
    /// glyph tops face left, so the text sits to the right of `x`.
    pub fn text_vertical(&mut self, x: i32, y: i32, text: &str, scale: u32, c: Rgb) {
        font::for_each_pixel(text, scale, |px, py| {
            self.put(x + py as i32, y - px as i32, c)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Rgb = Rgb(255, 255, 255);
    const RED: Rgb = Rgb(255, 0, 0);

    fn at(c: &Canvas, x: u32, y: u32) -> Rgb {
        let i = ((y * c.width + x) * 3) as usize;
        Rgb(c.pixels[i], c.pixels[i + 1], c.pixels[i + 2])
    }

    #[test]
    fn drawing_outside_is_clipped_not_a_panic() {
        let mut c = Canvas::new(10, 10, WHITE);
        c.line((-100, -50), (200, 300), 3, RED);
        c.fill_rect(
            Rect {
                x: -5,
                y: -5,
                w: 1000,
                h: 6,
            },
            RED,
        );
        c.text(-3, 8, "clipped", 2, RED);
        c.text_vertical(8, 2, "up", 1, RED);
        c.marker(Marker::Triangle, 0, 0, 5, RED);
        assert_eq!(at(&c, 9, 0), RED);
    }

    #[test]
    fn clip_rect_limits_drawing() {
        let mut c = Canvas::new(10, 10, WHITE);
        c.set_clip(Some(Rect {
            x: 2,
            y: 2,
            w: 4,
            h: 4,
        }));
        c.hline(0, 9, 3, RED);
        assert_eq!(at(&c, 1, 3), WHITE);
        assert_eq!(at(&c, 2, 3), RED);
        assert_eq!(at(&c, 5, 3), RED);
        assert_eq!(at(&c, 6, 3), WHITE);
    }

    #[test]
    fn thick_line_covers_its_band() {
        let mut c = Canvas::new(20, 20, WHITE);
        c.line((2, 10), (17, 10), 3, RED);
        for y in 9..=11 {
            assert_eq!(at(&c, 10, y), RED);
        }
        assert_eq!(at(&c, 10, 8), WHITE);
        assert_eq!(at(&c, 10, 12), WHITE);
    }

    #[test]
    fn markers_are_symmetric_about_their_centre() {
        for shape in [Marker::Circle, Marker::Square, Marker::Diamond] {
            let mut c = Canvas::new(21, 21, WHITE);
            c.marker(shape, 10, 10, 4, RED);
            for y in 0..21 {
                for x in 0..21 {
                    assert_eq!(at(&c, x, y), at(&c, 20 - x, 20 - y), "{shape:?}");
                }
            }
        }
    }
}
