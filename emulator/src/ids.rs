//! Object IDs and random values. While a seed is being built they come from a
//! fixed-seed generator, so the demo tenant has the same IDs (and the same
//! demo secret) on every start; afterwards they are random (UUID v4).

use std::cell::RefCell;

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

thread_local! {
    static SEEDED: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Runs `f` with deterministic IDs.
pub fn deterministic<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    SEEDED.with(|s| *s.borrow_mut() = Some(StdRng::seed_from_u64(seed)));
    let out = f();
    SEEDED.with(|s| *s.borrow_mut() = None);
    out
}

/// Fills `buf` from the seeded generator when one is active, else from the OS.
pub fn fill(buf: &mut [u8]) {
    SEEDED.with(|s| match s.borrow_mut().as_mut() {
        Some(rng) => rng.fill_bytes(buf),
        None => rand::thread_rng().fill_bytes(buf),
    })
}

pub fn index(below: usize) -> usize {
    SEEDED.with(|s| match s.borrow_mut().as_mut() {
        Some(rng) => rng.gen_range(0..below),
        None => rand::thread_rng().gen_range(0..below),
    })
}

/// A new object ID (UUID v4 form).
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    fill(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_only_inside_the_scope() {
        let a = deterministic(1, || (new_id(), new_id()));
        let b = deterministic(1, || (new_id(), new_id()));
        assert_eq!(a, b);
        assert_ne!(a.0, a.1);
        assert_ne!(new_id(), new_id());
        assert_eq!(uuid::Uuid::parse_str(&a.0).unwrap().get_version_num(), 4);
    }
}
