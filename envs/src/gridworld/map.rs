//! Text maps for grid worlds: the character set, the parser and its checks.

use crate::error::{MapError, MapErrorKind};
use crate::EnvError;
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

/// One cell of a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tile {
    /// `#`: cannot be entered; moving into it leaves the agent in place.
    Wall,
    /// `.` or `F`: free cell.
    Floor,
    /// `S`: where every episode starts (a free cell otherwise).
    Start,
    /// `G`: terminal, pays the goal reward.
    Goal,
    /// `H`: terminal, pays the hole reward.
    Hole,
    /// `C`: pays the cliff reward and sends the agent back to the start; not terminal.
    Cliff,
}

impl Tile {
    /// The tile a map character stands for, or `None` outside the alphabet.
    pub fn from_char(c: char) -> Option<Tile> {
        Some(match c {
            '#' => Tile::Wall,
            '.' | 'F' => Tile::Floor,
            'S' => Tile::Start,
            'G' => Tile::Goal,
            'H' => Tile::Hole,
            'C' => Tile::Cliff,
            _ => return None,
        })
    }

    /// The canonical character of the tile (`.` for floor).
    pub fn to_char(self) -> char {
        match self {
            Tile::Wall => '#',
            Tile::Floor => '.',
            Tile::Start => 'S',
            Tile::Goal => 'G',
            Tile::Hole => 'H',
            Tile::Cliff => 'C',
        }
    }

    /// Goal and hole end the episode when entered.
    pub fn is_terminal(self) -> bool {
        matches!(self, Tile::Goal | Tile::Hole)
    }
}

/// The largest map file [`GridMap::from_file`] reads: far more cells than a one-hot
/// observation can hold in a replay buffer.
pub const MAX_MAP_FILE_BYTES: u64 = 1 << 20;

/// The map alphabet, quoted in parse errors so that the fix is on screen.
const ALPHABET: &str = "`#` wall, `.` or `F` floor, `S` start, `G` goal, `H` hole, `C` cliff";

/// A parsed, validated map: a rectangle of [`Tile`]s with exactly one start and at least one
/// goal, every goal reachable from the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridMap {
    rows: usize,
    cols: usize,
    tiles: Vec<Tile>,
    start: usize,
}

impl GridMap {
    /// Parses map text; see the [module docs](super) for the format.
    pub fn parse(text: &str) -> Result<GridMap, MapError> {
        let mut lines: Vec<&str> = text.lines().collect();
        // A file usually ends with a newline and editors sometimes leave blank lines after the
        // map; neither is part of it. Blank lines inside the map are ragged rows.
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        let Some(first) = lines.first() else {
            return Err(MapError::new(
                MapErrorKind::Empty,
                1,
                1,
                format!("the map is empty; write one row of cells per line using {ALPHABET}"),
            ));
        };
        let cols = first.chars().count();
        let mut tiles = Vec::with_capacity(cols * lines.len());
        let mut start: Option<(usize, usize, usize)> = None;
        for (r, line) in lines.iter().enumerate() {
            let mut n = 0;
            for (c, ch) in line.chars().enumerate() {
                n = c + 1;
                if c >= cols {
                    return Err(MapError::new(
                        MapErrorKind::RaggedRow,
                        r + 1,
                        c + 1,
                        format!(
                            "this row is longer than the first row ({cols} cells); every row \
                             must have the same width"
                        ),
                    ));
                }
                let Some(tile) = Tile::from_char(ch) else {
                    return Err(MapError::new(
                        MapErrorKind::UnknownChar,
                        r + 1,
                        c + 1,
                        format!("unknown character {ch:?}; use {ALPHABET}"),
                    ));
                };
                if tile == Tile::Start {
                    if let Some((_, l, k)) = start {
                        return Err(MapError::new(
                            MapErrorKind::SeveralStarts,
                            r + 1,
                            c + 1,
                            format!(
                                "second start `S` (the first is at line {l}, column {k}); a map \
                                 needs exactly one start"
                            ),
                        ));
                    }
                    start = Some((r * cols + c, r + 1, c + 1));
                }
                tiles.push(tile);
            }
            if n < cols {
                return Err(MapError::new(
                    MapErrorKind::RaggedRow,
                    r + 1,
                    n + 1,
                    format!(
                        "this row has {n} cells but the first row has {cols}; every row must \
                         have the same width (pad with `#` walls)"
                    ),
                ));
            }
        }
        let rows = lines.len();
        let Some((start, _, _)) = start else {
            return Err(MapError::new(
                MapErrorKind::NoStart,
                1,
                1,
                "the map has no start; mark exactly one cell with `S`",
            ));
        };
        if !tiles.contains(&Tile::Goal) {
            return Err(MapError::new(
                MapErrorKind::NoGoal,
                1,
                1,
                "the map has no goal; mark at least one cell with `G`",
            ));
        }
        let map = GridMap {
            rows,
            cols,
            tiles,
            start,
        };
        map.check_goals_reachable()?;
        Ok(map)
    }

    /// Reads and parses a map file; errors name the file. Files over [`MAX_MAP_FILE_BYTES`]
    /// are refused after reading that much, so that a path to something endless (`/dev/zero`)
    /// or huge fails at once.
    pub fn from_file(path: &Path) -> Result<GridMap, EnvError> {
        let io = |source| EnvError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut text = String::new();
        file.take(MAX_MAP_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_MAP_FILE_BYTES {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "larger than {} MiB, which is no map file; a map holds one short line of \
                     cells per row",
                    MAX_MAP_FILE_BYTES >> 20
                ),
            )));
        }
        GridMap::parse(&text).map_err(|source| EnvError::MapFile {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Breadth-first search from the start through cells the agent can stand on, ignoring
    /// slip: holes end the episode and cliffs send the agent home, so neither is a way through.
    fn check_goals_reachable(&self) -> Result<(), MapError> {
        let mut seen = vec![false; self.tiles.len()];
        let mut queue = VecDeque::from([self.start]);
        seen[self.start] = true;
        while let Some(cell) = queue.pop_front() {
            if self.tiles[cell] != Tile::Floor && self.tiles[cell] != Tile::Start {
                continue;
            }
            for dir in 0..4 {
                if let Some(next) = self.neighbour(cell, dir) {
                    if !seen[next] && self.tiles[next] != Tile::Wall {
                        seen[next] = true;
                        queue.push_back(next);
                    }
                }
            }
        }
        match (0..self.tiles.len()).find(|&i| self.tiles[i] == Tile::Goal && !seen[i]) {
            Some(goal) => Err(MapError::new(
                MapErrorKind::UnreachableGoal,
                goal / self.cols + 1,
                goal % self.cols + 1,
                "this goal cannot be reached from the start (walls, holes or cliffs block every \
                 path); open a path or remove the goal",
            )),
            None => Ok(()),
        }
    }

    /// The cell one step from `cell` in direction `dir` (0 left, 1 down, 2 right, 3 up), or
    /// `None` off the grid. Walls are not special here.
    pub fn neighbour(&self, cell: usize, dir: usize) -> Option<usize> {
        let (r, c) = (cell / self.cols, cell % self.cols);
        match dir {
            0 if c > 0 => Some(cell - 1),
            1 if r + 1 < self.rows => Some(cell + self.cols),
            2 if c + 1 < self.cols => Some(cell + 1),
            3 if r > 0 => Some(cell - self.cols),
            _ => None,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// All tiles, row by row; cell index `row * cols + col`.
    pub fn tiles(&self) -> &[Tile] {
        &self.tiles
    }

    /// The tile at `(row, col)`, or `None` outside the map.
    pub fn tile(&self, row: usize, col: usize) -> Option<Tile> {
        (row < self.rows && col < self.cols).then(|| self.tiles[row * self.cols + col])
    }

    /// Cell index of the start.
    pub fn start(&self) -> usize {
        self.start
    }

    /// The map as text in the canonical alphabet, one line per row.
    pub fn render(&self) -> String {
        let mut s = String::with_capacity((self.cols + 1) * self.rows);
        for row in self.tiles.chunks(self.cols) {
            s.extend(row.iter().map(|t| t.to_char()));
            s.push('\n');
        }
        s
    }
}

impl FromStr for GridMap {
    type Err = MapError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GridMap::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> MapError {
        match GridMap::parse(text) {
            Ok(map) => panic!("accepted a bad map:\n{}", map.render()),
            Err(e) => e,
        }
    }

    fn at(e: &MapError) -> (MapErrorKind, usize, usize) {
        (e.kind, e.line, e.column)
    }

    #[test]
    fn parses_rows_columns_start_and_tiles() {
        let map = GridMap::parse("#S.\nFHG\n..C\n").expect("valid");
        assert_eq!((map.rows(), map.cols(), map.start()), (3, 3, 1));
        assert_eq!(map.tile(1, 0), Some(Tile::Floor));
        assert_eq!(map.tile(1, 1), Some(Tile::Hole));
        assert_eq!(map.tile(2, 2), Some(Tile::Cliff));
        assert_eq!(map.tile(3, 0), None);
        assert_eq!(map.render(), "#S.\n.HG\n..C\n");
    }

    #[test]
    fn accepts_crlf_and_trailing_blank_lines() {
        let map = GridMap::parse("S.G\r\n...\r\n\r\n  \n").expect("valid");
        assert_eq!((map.rows(), map.cols()), (2, 3));
    }

    #[test]
    fn refuses_empty_map() {
        assert_eq!(at(&refusal("")), (MapErrorKind::Empty, 1, 1));
        assert_eq!(at(&refusal("\n\n")), (MapErrorKind::Empty, 1, 1));
    }

    #[test]
    fn refuses_short_row_at_its_first_missing_cell() {
        let e = refusal("S..\n..\n..G");
        assert_eq!(at(&e), (MapErrorKind::RaggedRow, 2, 3));
        assert!(
            e.message.contains("has 2 cells but the first row has 3"),
            "{e}"
        );
    }

    #[test]
    fn refuses_long_row_at_its_first_extra_cell() {
        assert_eq!(at(&refusal("S.\n..G")), (MapErrorKind::RaggedRow, 2, 3));
    }

    #[test]
    fn refuses_blank_line_inside_the_map() {
        assert_eq!(at(&refusal("S.\n\nG.")), (MapErrorKind::RaggedRow, 2, 1));
    }

    #[test]
    fn refuses_unknown_character_naming_it_and_the_alphabet() {
        let e = refusal("S.\n.x\nG.");
        assert_eq!(at(&e), (MapErrorKind::UnknownChar, 2, 2));
        assert!(
            e.message.contains("'x'") && e.message.contains("`#` wall"),
            "{e}"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(
            at(&refusal("S\u{e9}x\n..G")),
            (MapErrorKind::UnknownChar, 1, 2)
        );
    }

    #[test]
    fn refuses_missing_start() {
        assert_eq!(at(&refusal("..G")), (MapErrorKind::NoStart, 1, 1));
    }

    #[test]
    fn refuses_second_start_pointing_at_both() {
        let e = refusal("S.G\n..S");
        assert_eq!(at(&e), (MapErrorKind::SeveralStarts, 2, 3));
        assert!(e.message.contains("line 1, column 1"), "{e}");
    }

    #[test]
    fn refuses_missing_goal() {
        assert_eq!(at(&refusal("S..")), (MapErrorKind::NoGoal, 1, 1));
    }

    #[test]
    fn refuses_goal_walled_off() {
        assert_eq!(at(&refusal("S.#G")), (MapErrorKind::UnreachableGoal, 1, 4));
    }

    #[test]
    fn refuses_goal_behind_holes_and_cliffs() {
        assert_eq!(at(&refusal("S.H.G")), (MapErrorKind::UnreachableGoal, 1, 5));
        assert_eq!(
            at(&refusal("S\nC\nG")),
            (MapErrorKind::UnreachableGoal, 3, 1)
        );
    }

    #[test]
    fn refuses_any_unreachable_goal_even_if_another_is_reachable() {
        assert_eq!(at(&refusal("G.S#G")), (MapErrorKind::UnreachableGoal, 1, 5));
    }

    #[test]
    fn an_endless_or_huge_map_file_is_refused_without_reading_it_all() {
        let message = GridMap::from_file(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("/dev/zero") && message.contains("larger than 1 MiB"),
            "{message}"
        );
    }

    #[test]
    fn neighbours_stop_at_the_edges() {
        let map = GridMap::parse("S.\n.G").expect("valid");
        assert_eq!(map.neighbour(0, 0), None);
        assert_eq!(map.neighbour(0, 1), Some(2));
        assert_eq!(map.neighbour(0, 2), Some(1));
        assert_eq!(map.neighbour(0, 3), None);
        assert_eq!(map.neighbour(3, 1), None);
        assert_eq!(map.neighbour(3, 2), None);
    }
}
