//! The built-in maps: Gymnasium's FrozenLake and CliffWalking layouts and the classic FourRooms.

use super::{GridMap, Rewards};
use crate::MapError;

/// A map that ships with the crate, with the rewards and time limit that go with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinMap {
    /// Sutton, Precup & Singh's four rooms: 11×11 interior inside a wall border (13×13), start in
    /// the top-left room, goal in the bottom-right corner; step reward 0, goal +1, 100 steps.
    /// The shortest path takes 20 steps.
    FourRooms,
    /// Gymnasium's `4x4` FrozenLake map; step 0, goal +1, hole 0, 100 steps.
    FrozenLake4x4,
    /// Gymnasium's `8x8` FrozenLake map; step 0, goal +1, hole 0, 100 steps (Gymnasium's
    /// `FrozenLake-v1` keeps its 100-step limit whatever the map; only the separately registered
    /// `FrozenLake8x8-v1` has 200).
    FrozenLake8x8,
    /// Gymnasium's 4×12 CliffWalking: −1 per step (the step onto the goal included), −100 and
    /// back to the start for the cliff; no time limit.
    CliffWalking,
}

const FOUR_ROOMS: &str = "\
#############
#S....#.....#
#.....#.....#
#...........#
#.....#.....#
#.....#.....#
##.####.....#
#.....###.###
#.....#.....#
#.....#.....#
#...........#
#.....#....G#
#############
";

const FROZEN_LAKE_4X4: &str = "\
SFFF
FHFH
FFFH
HFFG
";

const FROZEN_LAKE_8X8: &str = "\
SFFFFFFF
FFFFFFFF
FFFHFFFF
FFFFFHFF
FFFHFFFF
FHHFFFHF
FHFFHFHF
FFFHFFFG
";

const CLIFF_WALKING: &str = "\
............
............
............
SCCCCCCCCCCG
";

impl BuiltinMap {
    /// Every built-in, in the order error messages list them.
    pub const ALL: [BuiltinMap; 4] = [
        BuiltinMap::FourRooms,
        BuiltinMap::FrozenLake4x4,
        BuiltinMap::FrozenLake8x8,
        BuiltinMap::CliffWalking,
    ];

    /// The name an experiment file uses (`map = "FourRooms"`).
    pub fn name(self) -> &'static str {
        match self {
            BuiltinMap::FourRooms => "FourRooms",
            BuiltinMap::FrozenLake4x4 => "FrozenLake4x4",
            BuiltinMap::FrozenLake8x8 => "FrozenLake8x8",
            BuiltinMap::CliffWalking => "CliffWalking",
        }
    }

    /// The built-in called `name`, if any (case-sensitive, like ids).
    pub fn from_name(name: &str) -> Option<BuiltinMap> {
        BuiltinMap::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The map text.
    pub fn text(self) -> &'static str {
        match self {
            BuiltinMap::FourRooms => FOUR_ROOMS,
            BuiltinMap::FrozenLake4x4 => FROZEN_LAKE_4X4,
            BuiltinMap::FrozenLake8x8 => FROZEN_LAKE_8X8,
            BuiltinMap::CliffWalking => CLIFF_WALKING,
        }
    }

    /// The parsed map. Built-ins are valid (a test parses each), but the error is passed on
    /// rather than unwrapped so that no code path can panic.
    pub fn map(self) -> Result<GridMap, MapError> {
        GridMap::parse(self.text())
    }

    /// The rewards that go with the map.
    pub fn rewards(self) -> Rewards {
        match self {
            BuiltinMap::CliffWalking => Rewards::CLIFF_WALKING,
            _ => Rewards::GOAL_ONLY,
        }
    }

    /// The time limit that goes with the map.
    pub fn max_episode_steps(self) -> Option<u32> {
        match self {
            BuiltinMap::CliffWalking => None,
            _ => Some(100),
        }
    }

    /// Comma-separated names, for error messages.
    pub fn names() -> String {
        BuiltinMap::ALL.map(BuiltinMap::name).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tile;

    #[test]
    fn every_builtin_parses_and_round_trips_its_name() {
        for m in BuiltinMap::ALL {
            let map = m.map().unwrap_or_else(|e| panic!("{}: {e}", m.name()));
            assert!(map.rows() > 0);
            assert_eq!(BuiltinMap::from_name(m.name()), Some(m));
        }
        assert_eq!(BuiltinMap::from_name("fourrooms"), None);
    }

    #[test]
    fn four_rooms_is_13_by_13_with_start_and_goal_in_opposite_rooms() {
        let map = BuiltinMap::FourRooms.map().expect("valid");
        assert_eq!((map.rows(), map.cols()), (13, 13));
        assert_eq!(map.start(), 13 + 1);
        assert_eq!(map.tile(11, 11), Some(Tile::Goal));
        let free = map.tiles().iter().filter(|t| **t != Tile::Wall).count();
        // Rooms of 25 (top left), 30 (top right), 25 (bottom left) and 20 cells, 4 doorways.
        assert_eq!(free, 104);
    }

    #[test]
    fn frozen_lake_maps_have_gymnasiums_holes() {
        let holes = |m: BuiltinMap| {
            let map = m.map().expect("valid");
            (0..map.tiles().len())
                .filter(|&i| map.tiles()[i] == Tile::Hole)
                .collect::<Vec<_>>()
        };
        assert_eq!(holes(BuiltinMap::FrozenLake4x4), vec![5, 7, 11, 12]);
        assert_eq!(
            holes(BuiltinMap::FrozenLake8x8),
            vec![19, 29, 35, 41, 42, 46, 49, 52, 54, 59]
        );
    }

    #[test]
    fn cliff_walking_is_4_by_12_with_a_ten_cell_cliff() {
        let map = BuiltinMap::CliffWalking.map().expect("valid");
        assert_eq!((map.rows(), map.cols(), map.start()), (4, 12, 36));
        assert_eq!(map.tile(3, 11), Some(Tile::Goal));
        assert_eq!(
            map.tiles().iter().filter(|t| **t == Tile::Cliff).count(),
            10
        );
    }
}
