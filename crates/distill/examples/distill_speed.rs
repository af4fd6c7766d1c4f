//! retort's side of the distillation-speed benchmark against PyTorch
//! (`benchmarks/torch_distill.py`), which `scripts/bench.sh distill` runs.
//!
//! ```text
//! distill_speed collect TEACHER_DIR DATA.safetensors [--states N] [--seed S]
//! distill_speed fit DATA.safetensors [--hidden 32] [--steps N] [--batch B] [--lr X]
//!                   [--temperature T] [--seed S] [--out DIR]
//! ```
//!
//! `collect` lets a saved teacher play as `retort distill` does (the default `[distill]`
//! settings: 16 environment copies, ε = 0.05), splits off every tenth state as the held-out
//! set, and writes `train_obs`, `train_q`, `holdout_obs` and `holdout_q` (`f32`, one row per
//! state) with the environment in the file's metadata, so that both sides fit the very same
//! states. `fit` fits one student to that file with `fit_student` (KL at temperature T, Adam,
//! one thread) and prints one JSON line: seconds (building the student, every step and the
//! held-out agreement — what `fit_student` reports) and agreement; `--out DIR` also saves the
//! student for `retort eval DIR`.

use retort_core::{load_checkpoint, save_checkpoint, MlpSpec, ModelCard, NoObserver};
use retort_distill::{collect_from_teacher, fit_student, DistillBuffer, DistillConfig, Loss};
use retort_envs::EnvSpec;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Names of the four tensors of a dataset file.
const TENSORS: [&str; 4] = ["train_obs", "train_q", "holdout_obs", "holdout_q"];

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    tch::set_num_threads(1);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = match args.first().map(String::as_str) {
        Some("collect") => collect(&args[1..]),
        Some("fit") => fit(&args[1..]),
        _ => Err("usage: distill_speed collect TEACHER DATA | fit DATA [--steps N ...]".into()),
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("distill_speed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A command line's positional arguments and its `--key value...` options.
struct Args<'a> {
    positional: Vec<&'a str>,
    options: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Args<'a> {
    fn parse(args: &'a [String]) -> Self {
        let (mut positional, mut options) = (Vec::new(), HashMap::new());
        let mut current: Option<&str> = None;
        for arg in args {
            if let Some(key) = arg.strip_prefix("--") {
                options.insert(key, Vec::new());
                current = Some(key);
            } else if let Some(key) = current {
                options
                    .get_mut(key)
                    .expect("inserted above")
                    .push(arg.as_str());
            } else {
                positional.push(arg.as_str());
            }
        }
        Args {
            positional,
            options,
        }
    }

    /// The single value of option `key`, parsed, or `default` when it is absent.
    fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.options.get(key).map(Vec::as_slice) {
            None => Ok(default),
            Some([value]) => value
                .parse()
                .map_err(|_| format!("--{key} {value}: not a valid value").into()),
            Some(_) => Err(format!("--{key} takes one value").into()),
        }
    }
}

fn collect(args: &[String]) -> Result<()> {
    let args = Args::parse(args);
    let [teacher_dir, out] = args.positional[..] else {
        return Err("usage: distill_speed collect TEACHER_DIR DATA.safetensors".into());
    };
    let config = DistillConfig {
        states: args.get("states", DistillConfig::default().states)?,
        ..DistillConfig::default()
    };
    let seed = args.get("seed", 0u64)?;
    let (card, teacher) = load_checkpoint(Path::new(teacher_dir), tch::Device::Cpu)?;
    let buffer = collect_from_teacher(&teacher, &card.env, &config, seed)?;
    let (train, holdout) = buffer.split_holdout(config.holdout_fraction);

    let (d, a) = (buffer.obs_dim(), buffer.n_actions());
    let parts: [(&[f32], usize); 4] = [
        (train.all_obs(), d),
        (train.all_teacher_q(), a),
        (holdout.all_obs(), d),
        (holdout.all_teacher_q(), a),
    ];
    let bytes: Vec<Vec<u8>> = parts
        .iter()
        .map(|(values, _)| values.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = TENSORS
        .iter()
        .zip(&parts)
        .zip(&bytes)
        .map(|((name, (values, width)), data)| {
            let shape = vec![values.len() / width, *width];
            Ok((
                *name,
                safetensors::tensor::TensorView::new(Dtype::F32, shape, data)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([
        ("env".to_string(), serde_json::to_string(&card.env)?),
        ("teacher".to_string(), teacher_dir.to_string()),
        ("teacher_params".to_string(), card.params.to_string()),
        ("collect_seed".to_string(), seed.to_string()),
    ]);
    safetensors::serialize_to_file(views, Some(metadata), Path::new(out))?;
    println!(
        "{{\"train\": {}, \"holdout\": {}, \"teacher_params\": {}}}",
        train.len(),
        holdout.len(),
        card.params
    );
    Ok(())
}

/// The dataset written by `collect`: train and held-out buffers and the environment.
fn load(path: &Path) -> Result<(DistillBuffer, DistillBuffer, EnvSpec)> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)?;
    let env = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("env"))
        .ok_or("no `env` in the file's metadata")?;
    let env: EnvSpec = serde_json::from_str(env)?;
    let file = SafeTensors::deserialize(&bytes)?;
    let mut rows = Vec::new();
    for name in TENSORS {
        let view = file.tensor(name)?;
        if view.dtype() != Dtype::F32 || view.shape().len() != 2 {
            return Err(format!("`{name}` is not a 2-d f32 tensor").into());
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        rows.push((values, view.shape()[1]));
    }
    let buffer = |obs: &(Vec<f32>, usize), q: &(Vec<f32>, usize)| {
        let mut buffer = DistillBuffer::new(obs.1, q.1);
        for (o, q) in obs.0.chunks_exact(obs.1).zip(q.0.chunks_exact(q.1)) {
            buffer.push(o, q);
        }
        buffer
    };
    Ok((buffer(&rows[0], &rows[1]), buffer(&rows[2], &rows[3]), env))
}

fn fit(args: &[String]) -> Result<()> {
    let args = Args::parse(args);
    let [data] = args.positional[..] else {
        return Err("usage: distill_speed fit DATA.safetensors [--steps N ...]".into());
    };
    let hidden = match args.options.get("hidden") {
        Some(widths) => widths
            .iter()
            .map(|w| w.parse())
            .collect::<std::result::Result<Vec<usize>, _>>()?,
        None => vec![32],
    };
    let defaults = DistillConfig::default();
    let config = DistillConfig {
        loss: Loss::Kl,
        steps: args.get("steps", 20_000)?,
        batch_size: args.get("batch", 64)?,
        learning_rate: args.get("lr", defaults.learning_rate)?,
        temperature: args.get("temperature", defaults.temperature)?,
        // Only the final agreement, as the PyTorch side measures it: the timed work is the
        // same on both sides.
        agreement_points: 0,
        ..defaults
    };
    config.validate()?;
    let seed = args.get("seed", 0u64)?;
    let (train, holdout, env) = load(Path::new(data))?;

    let device = tch::Device::Cpu;
    let mut observer = NoObserver;
    let fitted = fit_student(
        "bench",
        &hidden,
        &train,
        &holdout,
        &config,
        device,
        seed,
        0,
        &mut observer,
    )?;
    if let Some(out) = args.options.get("out").and_then(|v| v.first()) {
        let spec = MlpSpec {
            obs_dim: train.obs_dim(),
            n_actions: train.n_actions(),
            hidden: hidden.clone(),
            dueling: false,
        };
        let card = ModelCard::new("student", env, spec);
        save_checkpoint(&PathBuf::from(out), &card, &fitted.policy)?;
    }
    println!(
        "{{\"side\": \"retort\", \"hidden\": {hidden:?}, \"steps\": {}, \"batch\": {}, \
         \"lr\": {}, \"seed\": {seed}, \"seconds\": {}, \"agreement\": {}, \"loss\": {}, \
         \"params\": {}}}",
        config.steps,
        config.batch_size,
        config.learning_rate,
        fitted.seconds,
        fitted.agreement,
        fitted.final_loss,
        fitted.policy.spec().params()
    );
    Ok(())
}
