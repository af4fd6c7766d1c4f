//! Choosing the libtorch device and thread count.

use crate::CoreError;
use tch::Device;

/// Parses `cpu`, `cuda` or `cuda:N`, refusing CUDA when libtorch sees no GPU.
pub fn parse_device(name: &str) -> Result<Device, CoreError> {
    let refuse = |message: String| CoreError::Device {
        device: name.to_string(),
        message,
    };
    let device = match name {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => Device::Cuda(0),
        _ => match name.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => Device::Cuda(index),
            _ => return Err(refuse("expected `cpu`, `cuda` or `cuda:N`".into())),
        },
    };
    let available = tch::Cuda::device_count();
    match device {
        Device::Cuda(index) if (index as i64) < available => Ok(device),
        _ => Err(refuse(format!(
            "libtorch sees {available} CUDA device(s); use `--device cpu` or a GPU machine"
        ))),
    }
}

/// Sets libtorch's intra-op and inter-op thread counts.
///
/// One thread is the default everywhere in retort: small networks gain nothing from more,
/// results stay reproducible, and several seeds can run side by side.
///
/// libtorch fixes its inter-op pool once any parallel work has run, and aborts when asked to
/// change it after that, so only the first call of the process sets it.
pub fn set_threads(threads: usize) {
    static INTEROP: std::sync::Once = std::sync::Once::new();
    let threads = threads.max(1) as i32;
    tch::set_num_threads(threads);
    INTEROP.call_once(|| tch::set_num_interop_threads(threads));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_parses_and_nonsense_is_refused_with_the_accepted_forms() {
        assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
        let message = parse_device("gpu").unwrap_err().to_string();
        assert!(message.contains("`cpu`, `cuda` or `cuda:N`"), "{message}");
    }
}
