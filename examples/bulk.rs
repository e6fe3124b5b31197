//! Bulk renewal throughput against the emulator's throttling at Microsoft's
//! quota (`cargo run --release --example bulk -- [SECRETS] [--markdown]`):
//! renews SECRETS (default 500) client secrets through `$batch`, the
//! application's buckets starting empty so that the run meets the write
//! quota's steady refill rate (3,000 writes per 150 s: 20 a second), and
//! reports accepted writes against the most the quota allowed over the run,
//! with duplicates and lost secrets counted from the emulator's state.
//! Waits advance the emulator's clock instead of the wall clock.

#[path = "../tests/flows_support/mod.rs"]
mod flows_support;

/// Microsoft's identity-and-access quota, its buckets empty at the start.
const SPEC: &str = "throttle=1.0,throttlefill=0";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let secrets = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(500);
    let t = flows_support::bulk::secret_renewal_throughput(secrets, SPEC).await;
    if std::env::args().any(|a| a == "--markdown") {
        println!(
            "Bulk renewal of {} secrets through `$batch` against the emulator's throttling at Microsoft's quota \
             ({}; buckets empty at the start, `{SPEC}`):\n\n\
             | measure | entra-wizard | reference |\n|---|---|---|\n\
             | writes accepted | {:.0} | {:.0} the quota allowed over {:.0} s |\n\
             | share of the quota's ceiling | **{:.1} %** | target ≥ 90 % |\n\
             | `$batch` requests / items throttled (429) | {} / {} | ≥ {} (a write and a check per secret, 20 a batch) |\n\
             | duplicates / lost secrets (emulator's state) | {} / {} | 0 / 0 |\n\
             | wall-clock time (waits on the emulator's clock) | {} ms | — |\n",
            t.items,
            t.quota,
            t.accepted,
            t.ceiling,
            t.elapsed_seconds,
            100.0 * t.share(),
            t.batches,
            t.throttled,
            (2 * t.items).div_ceil(20),
            t.duplicates,
            t.lost,
            t.wall_ms,
        );
    } else {
        println!("{t:#?}\nshare of the quota's ceiling: {:.3}", t.share());
    }
}
