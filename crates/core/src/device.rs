//! Choosing the libtorch device and thread count.

use crate::CoreError;
use tch::Device;

/// The device names retort accepts, for messages that refuse another.
pub const DEVICE_NAMES: &str = "`cpu`, `cuda` or `cuda:N`";

/// Reads `cpu`, `cuda` or `cuda:N` without asking libtorch whether that device exists, so that
/// a misspelt name is refused as such ([`parse_device`] also checks that it exists).
pub fn device_from_name(name: &str) -> Result<Device, CoreError> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        _ => match name.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => Ok(Device::Cuda(index)),
            _ => Err(CoreError::Device {
                device: name.to_string(),
                message: format!("expected {DEVICE_NAMES}"),
            }),
        },
    }
}

/// Parses `cpu`, `cuda` or `cuda:N`, refusing CUDA when libtorch sees no GPU.
pub fn parse_device(name: &str) -> Result<Device, CoreError> {
    let device = device_from_name(name)?;
    let Device::Cuda(index) = device else {
        return Ok(device);
    };
    let available = tch::Cuda::device_count();
    if (index as i64) < available {
        return Ok(device);
    }
    Err(CoreError::Device {
        device: name.to_string(),
        message: format!(
            "libtorch sees {available} CUDA device(s); use `--device cpu` or a GPU machine"
        ),
    })
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
        assert_eq!(device_from_name("cuda:3").unwrap(), Device::Cuda(3));
        for name in ["tpu", "cuda:", "cuda:-1", "CPU", ""] {
            assert!(device_from_name(name).is_err(), "{name:?}");
        }
    }
}
