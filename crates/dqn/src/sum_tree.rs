//! A sum tree: priorities at the leaves, and every inner node the sum of its two children.
//!
//! Setting one priority and finding the slot that a prefix sum falls in both take
//! O(log capacity) steps, which is what proportional prioritized replay needs from it.

/// Priorities of `capacity` slots in a complete binary tree stored as an array.
///
/// The number of leaves is the capacity rounded up to a power of two, so that slot `i` is
/// leaf `leaves + i` and the leaves, read left to right, are the slots in order. Node 1 is the
/// root, node `k` has the children `2k` and `2k + 1`, and `nodes[0]` is unused. Slots that were
/// never written, and the padding leaves, hold 0 and are never found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SumTree {
    /// The tree, `2 · leaves` values.
    pub(crate) nodes: Vec<f64>,
    /// The number of leaves, a power of two at least the capacity.
    pub(crate) leaves: usize,
}

impl SumTree {
    /// A tree of `capacity` slots, all 0, or `None` if its memory cannot be allocated.
    pub(crate) fn try_new(capacity: usize) -> Option<Self> {
        let leaves = capacity.max(1).checked_next_power_of_two()?;
        let mut nodes = Vec::new();
        nodes.try_reserve_exact(leaves.checked_mul(2)?).ok()?;
        nodes.resize(2 * leaves, 0.0);
        Some(SumTree { nodes, leaves })
    }

    /// Bytes a tree of `capacity` slots takes.
    pub(crate) fn bytes_needed(capacity: usize) -> u128 {
        let leaves = (capacity.max(1) as u128).next_power_of_two();
        2 * leaves * std::mem::size_of::<f64>() as u128
    }

    /// The sum of every priority.
    pub(crate) fn total(&self) -> f64 {
        self.nodes[1]
    }

    /// The priority of `slot`.
    pub(crate) fn get(&self, slot: usize) -> f64 {
        self.nodes[self.leaves + slot]
    }

    /// Sets the priority of `slot` and recomputes the sums above it.
    ///
    /// Each sum is recomputed from its two children rather than adjusted by the change, so
    /// rounding errors do not pile up over millions of updates.
    pub(crate) fn set(&mut self, slot: usize, priority: f64) {
        let mut node = self.leaves + slot;
        self.nodes[node] = priority;
        while node > 1 {
            node /= 2;
            self.nodes[node] = self.nodes[2 * node] + self.nodes[2 * node + 1];
        }
    }

    /// The slot whose share of the running sum contains `prefix`: the smallest `i` with
    /// `prefix < p_0 + … + p_i`.
    ///
    /// The descent never enters a subtree whose sum is 0, so a slot of priority 0 (one never
    /// written) is never returned, even when rounding puts `prefix` at or beyond the total:
    /// that prefix lands on the last slot of positive priority. The total must be positive.
    pub(crate) fn find(&self, mut prefix: f64) -> usize {
        let mut node = 1;
        while node < self.leaves {
            let left = self.nodes[2 * node];
            let right = self.nodes[2 * node + 1];
            let go_left = right <= 0.0 || (left > 0.0 && prefix < left);
            if go_left {
                node *= 2;
            } else {
                prefix -= left;
                node = 2 * node + 1;
            }
        }
        node - self.leaves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_follow_writes_and_updates() {
        // Five slots become eight leaves. Priorities 3, 1, 4, 1, 5: pairs 4, 5, 5, 0;
        // halves 9 and 5; total 14.
        let mut tree = SumTree::try_new(5).unwrap();
        assert_eq!(tree.leaves, 8);
        for (slot, p) in [3.0, 1.0, 4.0, 1.0, 5.0].into_iter().enumerate() {
            tree.set(slot, p);
        }
        assert_eq!(tree.total(), 14.0);
        assert_eq!(&tree.nodes[1..8], [14.0, 9.0, 5.0, 4.0, 5.0, 5.0, 0.0]);

        // Slot 2 from 4 to 0.5: its pair 1.5, its half 5.5, the total 10.5.
        tree.set(2, 0.5);
        assert_eq!(tree.get(2), 0.5);
        assert_eq!(tree.total(), 10.5);
        assert_eq!(&tree.nodes[1..8], [10.5, 5.5, 5.0, 4.0, 1.5, 5.0, 0.0]);
    }

    #[test]
    fn find_returns_the_slot_whose_interval_holds_the_prefix() {
        // Priorities 1, 2, 3, 4 own [0, 1), [1, 3), [3, 6), [6, 10).
        let mut tree = SumTree::try_new(4).unwrap();
        for (slot, p) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
            tree.set(slot, p);
        }
        let expected = [
            (0.0, 0),
            (0.999, 0),
            (1.0, 1),
            (2.5, 1),
            (3.0, 2),
            (5.99, 2),
            (6.0, 3),
            (9.99, 3),
        ];
        for (prefix, slot) in expected {
            assert_eq!(tree.find(prefix), slot, "prefix {prefix}");
        }
    }

    #[test]
    fn find_never_returns_a_slot_of_priority_zero() {
        // Six slots (eight leaves), three written: a prefix at or past the total, as rounding
        // can produce, lands on the last written slot, never on slots 3 to 7.
        let mut tree = SumTree::try_new(6).unwrap();
        for slot in 0..3 {
            tree.set(slot, 1.0);
        }
        assert_eq!(tree.find(3.0), 2);
        assert_eq!(tree.find(3.5), 2);
        // A zero in the middle is skipped too.
        tree.set(1, 0.0);
        assert_eq!(tree.find(1.0), 2);
    }

    #[test]
    fn a_single_slot_is_its_own_root() {
        let mut tree = SumTree::try_new(1).unwrap();
        tree.set(0, 2.5);
        assert_eq!(tree.total(), 2.5);
        assert_eq!(tree.find(1.0), 0);
    }

    #[test]
    fn an_impossible_capacity_is_refused_not_aborted() {
        assert!(SumTree::try_new(usize::MAX / 2).is_none());
        assert_eq!(SumTree::bytes_needed(5), 128);
    }
}
