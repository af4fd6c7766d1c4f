//! `docs/config.md`, the reference of every experiment-file key, is generated from the config
//! structs' doc comments and `Default` values; this test fails when the two drift apart.
//! `RETORT_BLESS=1 cargo test --test config_reference` rewrites the file.

use std::path::Path;

/// A table of the experiment file and the struct that defines it.
struct Section {
    table: &'static str,
    source: &'static str,
    type_name: &'static str,
    defaults: toml::Table,
}

/// `(field, type, doc)` for every public field of `pub struct NAME` in `source`.
fn fields(source: &str, name: &str) -> Vec<(String, String, String)> {
    let start = source
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("struct {name} not found"));
    let body = &source[start..];
    let body = &body[..body.find("\n}").expect("the struct ends")];
    let mut out = Vec::new();
    let mut doc = Vec::new();
    for line in body.lines().skip(1) {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.trim().to_string());
        } else if let Some(field) = line.strip_prefix("pub ") {
            let (field, ty) = field.split_once(':').expect("a field has a type");
            out.push((
                field.trim().into(),
                ty.trim().trim_end_matches(',').into(),
                doc.join(" "),
            ));
            doc.clear();
        } else if !line.starts_with("#[") {
            doc.clear();
        }
    }
    out
}

fn defaults<T: serde::Serialize>(value: &T) -> toml::Table {
    toml::Table::try_from(value).expect("a config serialises to a TOML table")
}

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect("source is readable");
    let experiment: toml::Table =
        toml::from_str("[env]\nid = \"CartPole-v1\"\n").expect("a minimal experiment parses");
    let top = toml::Table::from_iter(experiment.into_iter().filter(|(k, _)| k != "env"));
    let sections = [
        Section {
            table: "(top level)",
            source: "src/experiment.rs",
            type_name: "Experiment",
            defaults: {
                let mut t = top;
                t.insert("seed".into(), 0.into());
                t.insert("device".into(), "cpu".into());
                t.insert("threads".into(), 1.into());
                t
            },
        },
        Section {
            table: "[env]",
            source: "envs/src/registry.rs",
            type_name: "EnvSpec",
            defaults: toml::Table::new(),
        },
        Section {
            table: "[teacher]",
            source: "crates/dqn/src/config.rs",
            type_name: "DqnConfig",
            defaults: defaults(&retort_dqn::DqnConfig::default()),
        },
        Section {
            table: "[eval]",
            source: "src/experiment.rs",
            type_name: "EvalSection",
            defaults: toml::Table::from_iter([("episodes".to_string(), 100.into())]),
        },
        Section {
            table: "[distill]",
            source: "crates/distill/src/config.rs",
            type_name: "DistillConfig",
            defaults: defaults(&retort_distill::DistillConfig::default()),
        },
        Section {
            table: "[[students]]",
            source: "crates/distill/src/config.rs",
            type_name: "StudentSpec",
            defaults: toml::Table::new(),
        },
    ];
    let mut out = String::from(
        "# Experiment file reference\n\n\
         Generated from the configuration structs by `tests/config_reference.rs` \
         (`RETORT_BLESS=1 cargo test --test config_reference` regenerates it). Every key is \
         optional except `[env] id` and each student's `name` and `hidden`; unknown keys are \
         refused. A default of — means: absent unless given.\n",
    );
    for section in sections {
        out += &format!(
            "\n## {}\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
            section.table
        );
        for (field, ty, doc) in fields(&read(section.source), section.type_name) {
            if matches!(
                field.as_str(),
                "env" | "teacher" | "eval" | "distill" | "students"
            ) {
                continue;
            }
            let default = section
                .defaults
                .get(&field)
                .map_or("—".to_string(), |v| format!("`{v}`"));
            let doc = doc.replace('|', "\\|");
            out += &format!("| `{field}` | `{ty}` | {default} | {doc} |\n");
        }
    }
    out
}

#[test]
fn docs_config_md_matches_the_config_structs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md");
    let generated = generate();
    if std::env::var_os("RETORT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/config.md is out of date; run RETORT_BLESS=1 cargo test --test config_reference"
    );
}
