//! Fuzzing of the GridWorld map parser: [`GridMap::parse`] on mutants of the built-in maps and
//! of the corpus in `tests/fuzz-corpus/map/` never panics; it refuses with a message that
//! names a line and column inside the text, or returns a map that renders back to itself and
//! that an environment and the dynamic-programming oracle can use.
//!
//! `RETORT_FUZZ_ITERS=200000 cargo test --release -p retort-envs --test fuzz_map -- --nocapture`
//! fuzzes for minutes; see `retort-fuzz` for the other variables.

use retort_envs::{BuiltinMap, Env, GridMap, GridWorld, ObsKind, Tile};
use retort_fuzz::{corpus, replay, Fuzzer, Input};
use std::path::PathBuf;

/// The map corpus, shared with the whole-program tests.
fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz-corpus/map")
}

const PARTS: &[&str] = &["map.map"];

/// Map characters, line ends, and characters that look like them but are not.
const DICTIONARY: &[&str] = &[
    "S", "G", "#", ".", "F", "H", "C", "\n", "\r\n", "\r", "\t", " ", "\u{feff}", "\u{e9}",
    "\u{3000}", "\0", "s", "g", "S.G\n", "####\n", "\n\n", "SG", "GGGG",
];

/// The property: `Ok(behaviour)` when it holds, else what is wrong.
fn check(input: &Input) -> Result<String, String> {
    let text = String::from_utf8_lossy(&input[0]);
    match GridMap::parse(&text) {
        Err(e) => check_refusal(&text, &e).map(|()| format!("{:?}", e.kind)),
        Ok(map) => check_map(&map).map(|()| {
            let goals = map.tiles().iter().filter(|t| **t == Tile::Goal).count();
            format!(
                "ok {}x{} goals {}",
                map.rows().min(9),
                map.cols().min(9),
                goals.min(3)
            )
        }),
    }
}

/// A refusal names a line and a column inside the text (or just past a short row's end).
fn check_refusal(text: &str, e: &retort_envs::MapError) -> Result<(), String> {
    let shown = e.to_string();
    if e.message.trim().is_empty() {
        return Err(format!("an empty message: {shown:?}"));
    }
    if !shown.starts_with(&format!("line {}, column {}: ", e.line, e.column)) {
        return Err(format!(
            "the message does not start with its place: {shown:?}"
        ));
    }
    let lines: Vec<&str> = text.lines().collect();
    if e.line == 0 || e.column == 0 || e.line > lines.len().max(1) {
        return Err(format!("line {} of {}: {shown:?}", e.line, lines.len()));
    }
    let width = lines.get(e.line - 1).map_or(0, |l| l.chars().count());
    if e.column > width + 1 {
        return Err(format!(
            "column {} of a {width}-character line: {shown:?}",
            e.column
        ));
    }
    Ok(())
}

/// An accepted map is a rectangle with one start and reachable goals, renders to text that
/// parses to the same map, and runs as an environment.
fn check_map(map: &GridMap) -> Result<(), String> {
    let (rows, cols) = (map.rows(), map.cols());
    if rows == 0 || cols == 0 || map.tiles().len() != rows * cols {
        return Err(format!("{rows}x{cols} with {} tiles", map.tiles().len()));
    }
    if map.tiles()[map.start()] != Tile::Start {
        return Err("the start cell is not `S`".into());
    }
    match GridMap::parse(&map.render()) {
        Ok(again) if &again == map => {}
        other => return Err(format!("render does not parse back: {other:?}")),
    }
    let cells = rows * cols;
    for (slippery, observation) in [(false, ObsKind::OneHot), (true, ObsKind::Coords)] {
        let mut env = GridWorld::new(map.clone())
            .with_slippery(slippery)
            .with_observation(observation)
            .with_max_episode_steps(Some(50));
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(Some(cells as u64), &mut obs);
        for step in 0..60 {
            if obs.iter().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(format!("observation out of [0, 1]: {obs:?}"));
            }
            match env.step((step * 7 + cells) % 4, &mut obs) {
                Ok(s) if s.done() => break,
                Ok(_) => {}
                Err(e) => return Err(format!("step {step}: {e}")),
            }
        }
        if cells <= 400 {
            let best = env.optimal_return();
            if !best.is_finite() {
                return Err(format!("optimal return {best}"));
            }
        }
    }
    Ok(())
}

fn seeds() -> Vec<Input> {
    let mut seeds: Vec<Input> = BuiltinMap::ALL
        .iter()
        .map(|m| vec![m.text().as_bytes().to_vec()])
        .collect();
    seeds.extend(
        corpus(&corpus_dir(), PARTS)
            .into_iter()
            .map(|(_, input)| input),
    );
    seeds
}

#[test]
fn fuzzed_maps_never_panic_the_parser_and_every_refusal_has_a_place() {
    let report = Fuzzer::new("map", PARTS)
        .dictionary(DICTIONARY)
        .max_len(4096)
        .default_iterations(20_000)
        .run(seeds(), check);
    report.assert_clean();
}

#[test]
fn the_map_fuzz_corpus_replays() {
    let cases = replay(&corpus_dir(), PARTS, check);
    assert!(cases >= 5, "{cases} cases");
}
