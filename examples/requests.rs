//! Requests per wizard against the fewest its idempotency allows: runs F1,
//! F2, F4 and F5 once each against the in-process demo emulator and prints
//! JSON, one object per wizard (`cargo run --example requests`), or with
//! `--markdown` a table for `cargo xtask bench` and docs/BENCHMARKS.md.

#[path = "../tests/flows_support/mod.rs"]
mod flows_support;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rows = flows_support::requests_per_wizard().await;
    if std::env::args().any(|a| a == "--markdown") {
        println!("| wizard (demo tenant) | requests | minimum |\n|---|---:|---:|");
        for r in &rows {
            println!("| {} | {} | {} |", r.wizard, r.sent, r.minimum);
        }
        return;
    }
    let json: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "wizard": r.wizard, "requests": r.sent, "minimum": r.minimum, "why": r.why,
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&json).expect("JSON"));
}
