//! entra-wizard: the page crate. `core` is pure Rust and carries the logic;
//! the browser glue (`ui`, `web`) only exists in the wasm build.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod ui;
