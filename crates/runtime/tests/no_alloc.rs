//! Acting allocates nothing: a counting allocator watches `scores`, `act` and `act_batch`.
//!
//! The count is kept per thread, so the test harness's own allocations on other threads cannot
//! disturb it; this file holds a single test for the same reason.

use retort_runtime::{Mlp, MlpSpec};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local without destructor, so touching it cannot allocate or recurse.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: during thread teardown the counter may be gone; such calls are not ours.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded with the caller's layout, which the caller guarantees is valid.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout (via `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: as for `dealloc`; `new_size` is the caller's, valid by contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn acting_allocates_nothing() {
    let hiddens = [vec![], vec![4], vec![64], vec![256, 256], vec![8, 32, 8]];
    for (hidden, dueling) in hiddens.iter().flat_map(|h| [(h, false), (h, true)]) {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 3,
            hidden: hidden.clone(),
            dueling,
        };
        let layers: Vec<(Vec<f32>, Vec<f32>)> = spec
            .layer_shapes()
            .into_iter()
            .map(|(inputs, outputs)| (vec![0.01; inputs * outputs], vec![-0.02; outputs]))
            .collect();
        let parts: Vec<(&[f32], &[f32])> = layers
            .iter()
            .map(|(w, b)| (w.as_slice(), b.as_slice()))
            .collect();
        let mlp = Mlp::from_parts(spec.clone(), &parts).expect("the parts fit");
        let observations = vec![0.5f32; 4 * 100];
        let mut actions = vec![0usize; 100];
        let mut scores = [0.0f32; 3];

        let before = allocations();
        let mut chosen = 0;
        for obs in observations.chunks_exact(4) {
            mlp.scores(obs, &mut scores);
            chosen += mlp.act(obs);
        }
        mlp.act_batch(&observations, &mut actions);
        let after = allocations();
        assert_eq!(after - before, 0, "{spec:?} allocated while acting");
        // The counter does see allocations (so the zero above means something).
        let boxed = std::hint::black_box(Box::new(chosen));
        assert!(
            allocations() > after,
            "the counting allocator is not active"
        );
        drop(boxed);
    }
}
