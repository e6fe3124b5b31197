//! Graph, ARM and token-endpoint error envelopes.

use entra_wizard::api_error::{ApiError, Service, ServiceError};
use entra_wizard_fuzz::response;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let r = response(data);
        for service in [Service::Graph, Service::Arm, Service::Identity] {
            let e = ServiceError::from_response(service, &r);
            let _ = e.advice();
            let _ = e.has_code("Authorization_RequestDenied");
            let e = ApiError::Service(e);
            let _ = e.to_string();
            let _ = e.advice();
        }
    });
}
