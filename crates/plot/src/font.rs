//! The crate's built-in bitmap font: 5×9-pixel glyphs for printable ASCII, drawn at integer
//! scales, so that charts need no font files or system text libraries.
//!
//! The glyphs were designed for this crate and are stored below as a specimen sheet — strips of
//! sixteen characters, each strip a header line naming its characters followed by nine pixel
//! rows (`#` ink, `.` paper). Keeping the data as a picture makes it reviewable by eye; it is
//! parsed into bitmaps by a `const fn`, so a malformed sheet fails the build rather than a run.
//! Rows 0–6 sit above the baseline (capital height 7); rows 7–8 hold descenders.

/// Glyph width in pixels at scale 1.
pub const GLYPH_WIDTH: u32 = 5;
/// Glyph height in pixels at scale 1, descender rows included.
pub const GLYPH_HEIGHT: u32 = 9;
/// Horizontal distance from one character to the next at scale 1 (glyph plus one blank column).
pub const ADVANCE: u32 = GLYPH_WIDTH + 1;

/// First character in the table (space).
const FIRST: u8 = 32;
/// Number of glyphs: printable ASCII, 32 (space) to 126 (`~`).
const COUNT: usize = 95;
/// Glyphs per specimen strip.
const PER_STRIP: usize = 16;
const ROWS: usize = GLYPH_HEIGHT as usize;
const COLS: usize = GLYPH_WIDTH as usize;

#[rustfmt::skip]
const SPECIMEN: &str = r##"
      !     "     #     $     %     &     '     (     )     *     +     ,     -     .     /
..... ..#.. .#.#. .#.#. ..#.. ##..# .##.. ..#.. ...#. .#... ..... ..... ..... ..... ..... ....#
..... ..#.. .#.#. .#.#. .#### ##..# #..#. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..... ..... ....#
..... ..#.. .#.#. ##### #.#.. ...#. #.#.. ..#.. .#... ...#. #.#.# ..#.. ..... ..... ..... ...#.
..... ..#.. ..... .#.#. .###. ..#.. .#... ..... .#... ...#. .###. ##### ..... ##### ..... ..#..
..... ..#.. ..... ##### ..#.# .#... #.#.# ..... .#... ...#. #.#.# ..#.. ..... ..... ..... .#...
..... ..... ..... .#.#. ####. #..## #..#. ..... ..#.. ..#.. ..#.. ..#.. .##.. ..... .##.. #....
..... ..#.. ..... .#.#. ..#.. #..## .##.# ..... ...#. .#... ..... ..... .##.. ..... .##.. #....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..#.. ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... .....
0     1     2     3     4     5     6     7     8     9     :     ;     <     =     >     ?
.###. ..#.. .###. .###. ...#. ##### ..##. ##### .###. .###. ..... ..... ...#. ..... .#... .###.
#...# .##.. #...# #...# ..##. #.... .#... ....# #...# #...# .##.. .##.. ..#.. ..... ..#.. #...#
#..## ..#.. ....# ....# .#.#. ####. #.... ...#. #...# #...# .##.. .##.. .#... ##### ...#. ....#
#.#.# ..#.. ...#. ..##. #..#. ....# ####. ..#.. .###. .#### ..... ..... #.... ..... ....# ...#.
##..# ..#.. ..#.. ....# ##### ....# #...# .#... #...# ....# .##.. .##.. .#... ##### ...#. ..#..
#...# ..#.. .#... #...# ...#. #...# #...# .#... #...# ...#. .##.. .##.. ..#.. ..... ..#.. .....
.###. .###. ##### .###. ...#. .###. .###. .#... .###. .##.. ..... ..#.. ...#. ..... .#... ..#..
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
@     A     B     C     D     E     F     G     H     I     J     K     L     M     N     O
.###. .###. ####. .###. ####. ##### ##### .###. #...# .###. ..### #...# #.... #...# #...# .###.
#...# #...# #...# #...# #...# #.... #.... #...# #...# ..#.. ...#. #..#. #.... ##.## #...# #...#
#.### #...# #...# #.... #...# #.... #.... #.... #...# ..#.. ...#. #.#.. #.... #.#.# ##..# #...#
#.#.# ##### ####. #.... #...# ####. ####. #.### ##### ..#.. ...#. ##... #.... #.#.# #.#.# #...#
#.##. #...# #...# #.... #...# #.... #.... #...# #...# ..#.. ...#. #.#.. #.... #...# #..## #...#
#.... #...# #...# #...# #...# #.... #.... #...# #...# ..#.. #..#. #..#. #.... #...# #...# #...#
.###. #...# ####. .###. ####. ##### #.... .#### #...# .###. .##.. #...# ##### #...# #...# .###.
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
P     Q     R     S     T     U     V     W     X     Y     Z     [     \     ]     ^     _
####. .###. ####. .#### ##### #...# #...# #...# #...# #...# ##### .###. #.... .###. ..#.. .....
#...# #...# #...# #.... ..#.. #...# #...# #...# #...# #...# ....# .#... #.... ...#. .#.#. .....
#...# #...# #...# #.... ..#.. #...# #...# #...# .#.#. .#.#. ...#. .#... .#... ...#. #...# .....
####. #...# ####. .###. ..#.. #...# #...# #.#.# ..#.. ..#.. ..#.. .#... ..#.. ...#. ..... .....
#.... #.#.# #.#.. ....# ..#.. #...# #...# #.#.# .#.#. ..#.. .#... .#... ...#. ...#. ..... .....
#.... #..#. #..#. ....# ..#.. #...# .#.#. #.#.# #...# ..#.. #.... .#... ....# ...#. ..... .....
#.... .##.# #...# ####. ..#.. .###. ..#.. .#.#. #...# ..#.. ##### .###. ....# .###. ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... #####
..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
`     a     b     c     d     e     f     g     h     i     j     k     l     m     n     o
.#... ..... #.... ..... ....# ..... ..##. ..... #.... ..#.. ...#. #.... .##.. ..... ..... .....
..#.. ..... #.... ..... ....# ..... .#..# ..... #.... ..... ..... #.... ..#.. ..... ..... .....
..... .###. ####. .###. .#### .###. .#... .#### ####. .##.. ..##. #..#. ..#.. ##.#. ####. .###.
..... ....# #...# #.... #...# #...# ###.. #...# #...# ..#.. ...#. #.#.. ..#.. #.#.# #...# #...#
..... .#### #...# #.... #...# ##### .#... #...# #...# ..#.. ...#. ##... ..#.. #.#.# #...# #...#
..... #...# #...# #...# #...# #.... .#... #...# #...# ..#.. ...#. #.#.. ..#.. #.#.# #...# #...#
..... .#### ####. .###. .#### .###. .#... .#### #...# .###. ...#. #..#. .###. #.#.# #...# .###.
..... ..... ..... ..... ..... ..... ..... ....# ..... ..... #..#. ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... .###. ..... ..... .##.. ..... ..... ..... ..... .....
p     q     r     s     t     u     v     w     x     y     z     {     |     }     ~
..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ...## ..#.. ##... .....
..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ..#.. ..#.. ..#.. .....
####. .#### #.##. .#### ###.. #...# #...# #...# #...# #...# ##### ..#.. ..#.. ..#.. .#...
#...# #...# ##..# #.... .#... #...# #...# #...# .#.#. #...# ...#. .#... ..#.. ...#. #.#.#
#...# #...# #.... .###. .#... #...# #...# #.#.# ..#.. #...# ..#.. ..#.. ..#.. ..#.. ...#.
#...# #...# #.... ....# .#..# #..## .#.#. #.#.# .#.#. #...# .#... ..#.. ..#.. ..#.. .....
####. .#### #.... ####. ..##. .##.# ..#.. .#.#. #...# .#### ##### ...## ..#.. ##... .....
#.... ....# ..... ..... ..... ..... ..... ..... ..... ....# ..... ..... ..... ..... .....
#.... ....# ..... ..... ..... ..... ..... ..... ..... .###. ..... ..... ..... ..... .....
"##;

/// One bitmap per character; bit `4 - x` of row `y` is the pixel at column `x`.
static GLYPHS: [[u8; ROWS]; COUNT] = parse_specimen(SPECIMEN.as_bytes());

/// Parses [`SPECIMEN`] at compile time, checking that every header names the expected characters
/// and that every glyph has exactly `ROWS × COLS` cells, so a typo cannot shift the table.
const fn parse_specimen(src: &[u8]) -> [[u8; ROWS]; COUNT] {
    let mut out = [[0u8; ROWS]; COUNT];
    let mut cells = [0usize; COUNT];
    // The raw string starts with a newline so that the sheet is aligned in the source.
    let mut i = if !src.is_empty() && src[0] == b'\n' {
        1
    } else {
        0
    };
    let mut line = 0;
    let mut col = 0;
    while i < src.len() {
        let b = src[i];
        i += 1;
        if b == b'\n' {
            line += 1;
            col = 0;
            continue;
        }
        let strip = line / (ROWS + 1);
        let row = line % (ROWS + 1);
        let k = col / (COLS + 1);
        let x = col % (COLS + 1);
        let idx = strip * PER_STRIP + k;
        col += 1;
        if x == COLS {
            assert!(
                b == b' ',
                "font specimen: glyphs must be separated by one space"
            );
            continue;
        }
        assert!(k < PER_STRIP && idx < COUNT, "font specimen: line too long");
        if row == 0 {
            let expected = FIRST + idx as u8;
            assert!(
                x != 0 || b == expected,
                "font specimen: header names the wrong character"
            );
            assert!(
                x == 0 || b == b' ',
                "font specimen: stray character in a header"
            );
            continue;
        }
        match b {
            b'#' => out[idx][row - 1] |= 1 << (COLS - 1 - x),
            b'.' => {}
            _ => panic!("font specimen: pixels must be '#' or '.'"),
        }
        cells[idx] += 1;
    }
    let mut g = 0;
    while g < COUNT {
        assert!(
            cells[g] == ROWS * COLS,
            "font specimen: a glyph has missing pixels"
        );
        g += 1;
    }
    out
}

/// The bitmap of `c`: one byte per row, top row first, bit `4 - x` set where column `x` is inked.
///
/// Characters outside printable ASCII are drawn as `?`, so any string renders to something.
pub fn glyph(c: char) -> [u8; ROWS] {
    let code = c as u32;
    let index = if (FIRST as u32..FIRST as u32 + COUNT as u32).contains(&code) {
        (code - FIRST as u32) as usize
    } else {
        (b'?' - FIRST) as usize
    };
    GLYPHS[index]
}

/// Width in pixels of `text` drawn at `scale`, without the blank column after the last glyph.
pub fn text_width(text: &str, scale: u32) -> u32 {
    let n = text.chars().count() as u32;
    if n == 0 {
        0
    } else {
        (n * ADVANCE - 1) * scale
    }
}

/// Height in pixels of one line of text at `scale`, descenders included.
pub fn text_height(scale: u32) -> u32 {
    GLYPH_HEIGHT * scale
}

/// Calls `plot(x, y)` for every inked pixel of `text` laid out left to right at `scale`, with
/// `(0, 0)` the top-left corner of the first glyph. Drawing code maps these to the canvas
/// (shifted, or rotated for vertical labels), so the glyph walk is written once.
pub fn for_each_pixel(text: &str, scale: u32, mut plot: impl FnMut(u32, u32)) {
    for (n, c) in text.chars().enumerate() {
        let origin = n as u32 * ADVANCE * scale;
        for (y, bits) in glyph(c).iter().enumerate() {
            for x in 0..GLYPH_WIDTH {
                if bits & (1 << (GLYPH_WIDTH - 1 - x)) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        plot(origin + x * scale + dx, y as u32 * scale + dy);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_printable_character_has_ink_except_space() {
        for code in 32u8..=126 {
            let c = code as char;
            let ink: u32 = glyph(c).iter().map(|row| row.count_ones()).sum();
            if c == ' ' {
                assert_eq!(ink, 0, "space must be blank");
            } else {
                assert!(ink > 0, "glyph for {c:?} is empty");
            }
        }
    }

    #[test]
    fn glyphs_are_distinct_and_fit_their_cell() {
        for a in 33u8..=126 {
            for row in glyph(a as char) {
                assert!(
                    row < 1 << GLYPH_WIDTH,
                    "glyph {:?} is wider than the cell",
                    a as char
                );
            }
            for b in (a + 1)..=126 {
                assert_ne!(
                    glyph(a as char),
                    glyph(b as char),
                    "{:?} == {:?}",
                    a as char,
                    b as char
                );
            }
        }
    }

    #[test]
    fn spot_check_shapes() {
        // 'T' is a full top bar over a centre stem; 'g' uses the descender rows.
        assert_eq!(glyph('T')[0], 0b11111);
        assert!(glyph('T')[1..7].iter().all(|&r| r == 0b00100));
        assert!(glyph('g')[7] != 0 && glyph('g')[8] != 0);
        assert!(glyph('A')[7] == 0 && glyph('A')[8] == 0);
    }

    #[test]
    fn non_ascii_falls_back_to_question_mark() {
        assert_eq!(glyph('é'), glyph('?'));
        assert_eq!(glyph('\n'), glyph('?'));
    }

    #[test]
    fn widths_and_pixel_walk_agree() {
        assert_eq!(text_width("", 1), 0);
        assert_eq!(text_width("ab", 1), 11);
        assert_eq!(text_width("ab", 2), 22);
        let (mut max_x, mut max_y, mut count) = (0, 0, 0);
        for_each_pixel("l", 3, |x, y| {
            max_x = max_x.max(x);
            max_y = max_y.max(y);
            count += 1;
        });
        let ink: u32 = glyph('l').iter().map(|r| r.count_ones()).sum();
        assert_eq!(count, ink * 9, "each pixel becomes a 3×3 block");
        assert!(max_x < text_width("l", 3) && max_y < text_height(3));
    }
}
