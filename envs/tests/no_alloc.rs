//! Proves the hot path allocation-free: `step` on every environment (and `VecEnv::step`) makes
//! no heap allocation, counted by a wrapping global allocator.
//!
//! This file holds a single test so that no other test thread allocates while it counts.

use retort_envs::{make, EnvSpec, Step, VecEnv};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers every operation to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn step_and_auto_reset_do_not_allocate() {
    let mut specs = vec![
        EnvSpec::new("CartPole-v1"),
        EnvSpec::new("MountainCar-v0"),
        EnvSpec::new("Acrobot-v1"),
        EnvSpec::new("FrozenLake-v1"),
    ];
    specs.push(EnvSpec {
        map: Some("FourRooms".into()),
        ..EnvSpec::new("GridWorld")
    });
    specs.push(EnvSpec::new("CliffWalking-v1"));
    for spec in specs {
        let mut env = make(&spec).expect("make");
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(Some(0), &mut obs);
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for t in 0..1000 {
            match env.step(t % env.n_actions(), &mut obs) {
                Ok(s) if s.done() => env.reset(None, &mut obs),
                Ok(_) => {}
                Err(_) => unreachable!("valid steps"),
            }
        }
        assert_eq!(
            ALLOCATIONS.load(Ordering::SeqCst),
            before,
            "{spec:?} allocated in step"
        );
    }

    let mut batch = VecEnv::new(&EnvSpec::new("CartPole-v1"), 8).expect("batch");
    let mut obs = vec![0.0; 32];
    let mut fin = vec![0.0; 32];
    let mut steps = [Step {
        reward: 0.0,
        terminated: false,
        truncated: false,
    }; 8];
    let actions = [0, 1, 0, 1, 1, 0, 1, 0];
    batch.reset(0, &mut obs).expect("reset");
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..200 {
        batch
            .step(&actions, &mut obs, &mut fin, &mut steps)
            .expect("step");
    }
    assert_eq!(
        ALLOCATIONS.load(Ordering::SeqCst),
        before,
        "VecEnv::step allocated"
    );
}
