//! Prints the exact optimal return of every grid environment the registry knows, slippery and
//! not: `cargo run -p retort-envs --example oracle`.

use retort_envs::{optimal_return, EnvError, EnvSpec};

fn main() -> Result<(), EnvError> {
    let mut specs = vec![
        EnvSpec::new("FrozenLake-v1"),
        EnvSpec {
            map: Some("8x8".into()),
            ..EnvSpec::new("FrozenLake-v1")
        },
        EnvSpec::new("CliffWalking-v1"),
    ];
    for map in [
        "FourRooms",
        "FrozenLake4x4",
        "FrozenLake8x8",
        "CliffWalking",
    ] {
        specs.push(EnvSpec {
            map: Some(map.into()),
            ..EnvSpec::new("GridWorld")
        });
    }
    for spec in specs {
        for slippery in [false, true] {
            let spec = EnvSpec {
                is_slippery: Some(slippery),
                ..spec.clone()
            };
            let label = format!("{} {}", spec.id, spec.map.as_deref().unwrap_or("default"));
            let best = optimal_return(&spec)?.unwrap_or(f64::NAN);
            println!("{label:<28} slippery={slippery:<5} optimal return {best:.17}");
        }
    }
    Ok(())
}
