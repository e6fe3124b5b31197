//! Requests per wizard against the fewest its idempotency allows: runs F1,
//! F2, F4 and F5 once each against the in-process demo emulator and prints
//! JSON, one object per wizard (`cargo run --example requests`), for
//! `cargo xtask bench`.

#[path = "../tests/flows_support/mod.rs"]
mod flows_support;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rows: Vec<serde_json::Value> = flows_support::requests_per_wizard()
        .await
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "wizard": r.wizard, "requests": r.sent, "minimum": r.minimum, "why": r.why,
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&rows).expect("JSON"));
}
