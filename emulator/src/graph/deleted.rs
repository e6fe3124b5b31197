//! `/directory/deletedItems` for applications: a deleted application is kept
//! (with its `deletedDateTime`) and can be listed, read, restored or deleted
//! for good. Entra keeps it 30 days; the emulator keeps it until then too.
// https://learn.microsoft.com/en-us/graph/api/resources/directory
// https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list
// https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-restore

use axum::http::Uri;
use serde_json::Value;

use super::odata::{self, Query};
use super::{GraphError, GraphResult, Need, authorize, no_content, ok};
use crate::state::str_field;
use crate::tokens::AccessClaims;
use crate::{Shared, lock};

const THIRTY_DAYS: i64 = 30 * 86_400;

fn purge_expired(emu: &Shared) {
    let now = emu.clock.now();
    lock(&emu.dir).deleted_applications.retain(|_, a| {
        a.body
            .get("deletedDateTime")
            .and_then(Value::as_str)
            .and_then(crate::clock::parse_iso)
            .is_none_or(|d| now - d < THIRTY_DAYS)
    });
}

pub fn route(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    s: &[&str],
    q: &Query,
    uri: &Uri,
) -> GraphResult {
    purge_expired(emu);
    match (m, s) {
        ("GET", ["deletedItems", "microsoft.graph.application"]) => {
            authorize(claims, Need::ReadApps)?;
            let dir = lock(&emu.dir);
            let items = dir
                .deleted_applications
                .values()
                .map(|a| super::applications::output(a, &Query::default()))
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                "directory/deletedItems/microsoft.graph.application",
                items,
                &["appId", "displayName", "id"],
                100,
            )
        }
        ("GET", ["deletedItems", id]) => {
            authorize(claims, Need::ReadApps)?;
            let dir = lock(&emu.dir);
            let app = dir
                .deleted_applications
                .get(*id)
                .ok_or_else(|| GraphError::not_found(id))?;
            let mut out = odata::project(super::applications::output(app, q), q);
            out.insert("@odata.type".into(), "#microsoft.graph.application".into());
            ok(200, Value::Object(out))
        }
        ("POST", ["deletedItems", id, "restore"]) => {
            authorize(claims, Need::WriteApps)?;
            let mut dir = lock(&emu.dir);
            let mut app = dir
                .deleted_applications
                .remove(*id)
                .ok_or_else(|| GraphError::not_found(id))?;
            app.body.insert("deletedDateTime".into(), Value::Null);
            let out = super::applications::output(&app, q);
            dir.applications
                .insert(str_field(&app.body, "id").to_string(), app);
            let mut out = out;
            out.insert("@odata.type".into(), "#microsoft.graph.application".into());
            ok(200, Value::Object(out))
        }
        ("DELETE", ["deletedItems", id]) => {
            authorize(claims, Need::WriteApps)?;
            let mut dir = lock(&emu.dir);
            dir.deleted_applications
                .remove(*id)
                .ok_or_else(|| GraphError::not_found(id))?;
            dir.app_policy_assignments.remove(*id);
            no_content()
        }
        _ => Err(GraphError::new(
            400,
            "BadRequest",
            format!("Resource not found for the segment '{}'.", s.join("/")),
        )),
    }
}
