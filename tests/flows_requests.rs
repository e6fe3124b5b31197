//! Fewest requests: each wizard's plan, applied once on the demo tenant,
//! sends only what its idempotency needs, counted by the `ApiClient`.

mod flows_support;

use flows_support::*;

#[tokio::test]
async fn wizards_send_no_more_requests_than_they_need() {
    let counts = requests_per_wizard().await;
    for c in &counts {
        println!("{}: {} requests (minimum {})", c.wizard, c.sent, c.minimum);
    }
    let sent: Vec<u32> = counts.iter().map(|c| c.sent).collect();
    // F1 was 12 before the certificate travelled with the create and the
    // role assignments were read once (GET+PATCH of keyCredentials, a GET
    // of the same list before each of the 3 PUTs, a GET before the service
    // principal's create): now its minimum. F2 and F4 keep one read each
    // above theirs (see `requests_per_wizard`).
    assert_eq!(sent, [6, 5, 5, 7]);
    assert_eq!(counts[0].sent, counts[0].minimum, "F1 sends its minimum");
    assert!(counts.iter().all(|c| c.sent >= c.minimum));
}
