//! The runtime's reason to exist: libtorch appears nowhere in its dependency tree.
//!
//! Asks Cargo itself (`cargo tree`, offline and without touching `Cargo.lock`) rather than
//! reading `Cargo.toml`, so that a dependency dragging tch in transitively is caught too.

use std::path::Path;
use std::process::Command;

/// Every package in `package`'s tree along `edges` (`cargo tree -e`), one name a line.
fn tree(package: &str, edges: &str) -> Vec<String> {
    // `CARGO` is set when Cargo runs the test; the compile-time value covers running the test
    // executable by hand.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(&cargo)
        .args(["tree", "--frozen", "--prefix", "none", "--format", "{p}"])
        .args(["-p", package, "-e", edges, "--manifest-path"])
        .arg(&manifest)
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => panic!("could not run `{cargo} tree`: {e}"),
    };
    assert!(
        output.status.success(),
        "`cargo tree -e {edges}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn neither_tch_nor_torch_sys_is_in_the_dependency_tree() {
    // `all` adds the build- and dev-dependencies to the normal ones: the runtime keeps libtorch
    // out of even its own tests (the tch comparison lives in the `tch-check` package).
    for edges in ["normal", "all"] {
        let packages = tree("retort-runtime", edges);
        assert!(
            packages.iter().any(|p| p == "safetensors"),
            "`cargo tree -e {edges}` listed no safetensors, so it did not list the tree: \
             {packages:?}"
        );
        let torch: Vec<&String> = packages
            .iter()
            .filter(|p| p.as_str() == "tch" || p.contains("torch"))
            .collect();
        assert!(
            torch.is_empty(),
            "-e {edges} reaches {torch:?}: {packages:?}"
        );
    }
}

#[test]
fn the_check_does_see_tch_where_it_is() {
    // The test-only comparison package depends on tch, so the same query must find it there;
    // otherwise the absence above would prove nothing.
    let packages = tree("retort-runtime-tch-check", "normal");
    assert!(packages.iter().any(|p| p == "tch"), "{packages:?}");
    assert!(packages.iter().any(|p| p == "torch-sys"), "{packages:?}");
}
