//! entra-wizard: the page crate. `core` is pure Rust and carries the logic;
//! the browser glue (`ui`, `web`) only exists in the wasm build.

pub mod core;

pub mod api_error;
pub mod arm;
pub mod auth;
pub mod client;
pub mod cloud;
pub mod flows;
pub mod graph;
pub mod http;
pub mod plan;
pub mod profiles;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod ui;
