//! Build script shared by every package that links libtorch.
//!
//! `torch-sys` tells its direct dependents where libtorch lives (`DEP_TCH_LIBTORCH_LIB`). We
//! bake that folder into the binaries and test executables as an rpath, so they run without
//! `LD_LIBRARY_PATH`, and link `libtorch` with `--no-as-needed` so that the CUDA backend is
//! loaded (and `--device cuda` works) wherever the wheel's CUDA libraries can find a GPU.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch");
    }
}
