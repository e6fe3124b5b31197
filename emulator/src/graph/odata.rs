//! The OData query options the emulator supports: `$filter` (`eq`,
//! `startswith`, joined by `and`), `$select`, `$top` (1..999) and
//! `@odata.nextLink` paging with `$skiptoken`.
// https://learn.microsoft.com/en-us/graph/query-parameters
// https://learn.microsoft.com/en-us/graph/paging

use axum::http::Uri;
use serde_json::{Map, Value, json};

use super::{GraphError, GraphResult, ok};
use crate::Shared;

#[derive(Debug, Default, Clone)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(q: &str) -> Query {
        Query {
            pairs: serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default(),
        }
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
    pub fn select(&self) -> Option<Vec<String>> {
        self.get("$select").map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
    }
    pub fn selects(&self, prop: &str) -> bool {
        self.select()
            .is_some_and(|s| s.iter().any(|p| p.eq_ignore_ascii_case(prop)))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Eq(String, String),
    StartsWith(String, String),
}

fn unsupported(filter: &str) -> GraphError {
    GraphError::new(
        400,
        "Request_UnsupportedQuery",
        format!("Unsupported or invalid query filter clause specified for property in '{filter}'."),
    )
}

fn literal(v: &str) -> Option<String> {
    let v = v.trim();
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        Some(v[1..v.len() - 1].replace("''", "'"))
    } else if !v.is_empty() && !v.contains(' ') {
        Some(v.to_string())
    } else {
        None
    }
}

pub fn parse_filter(filter: &str) -> Result<Vec<Clause>, GraphError> {
    let mut clauses = Vec::new();
    let lower = filter.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    while let Some(i) = lower[start..].find(" and ") {
        parts.push(&filter[start..start + i]);
        start += i + 5;
    }
    parts.push(&filter[start..]);
    for part in parts {
        let p = part.trim();
        if p.to_ascii_lowercase().starts_with("startswith(") && p.ends_with(')') {
            let inner = &p["startswith(".len()..p.len() - 1];
            let (field, value) = inner.split_once(',').ok_or_else(|| unsupported(filter))?;
            clauses.push(Clause::StartsWith(
                field.trim().to_string(),
                literal(value).ok_or_else(|| unsupported(filter))?,
            ));
        } else if let Some(i) = p.to_ascii_lowercase().find(" eq ") {
            let field = p[..i].trim().to_string();
            let value = literal(&p[i + 4..]).ok_or_else(|| unsupported(filter))?;
            clauses.push(Clause::Eq(field, value));
        } else {
            return Err(unsupported(filter));
        }
    }
    Ok(clauses)
}

fn field<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut cur: Option<&Value> = None;
    for (i, part) in path.split('/').enumerate() {
        cur = if i == 0 {
            obj.get(part)
        } else {
            cur?.get(part)
        };
    }
    cur
}

pub fn matches(
    obj: &Map<String, Value>,
    clauses: &[Clause],
    allowed: &[&str],
) -> Result<bool, GraphError> {
    for c in clauses {
        let (Clause::Eq(f, _) | Clause::StartsWith(f, _)) = c;
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(f)) {
            return Err(GraphError::new(
                400,
                "Request_UnsupportedQuery",
                format!(
                    "Unsupported or invalid query filter clause specified for property '{f}' of resource."
                ),
            ));
        }
        let v = field(obj, f);
        let text = match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let hit = match c {
            Clause::Eq(_, want) => text.eq_ignore_ascii_case(want),
            Clause::StartsWith(_, want) => text
                .to_ascii_lowercase()
                .starts_with(&want.to_ascii_lowercase()),
        };
        if !hit {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Keeps only the `$select`ed properties.
pub fn project(mut obj: Map<String, Value>, q: &Query) -> Map<String, Value> {
    if let Some(sel) = q.select() {
        obj.retain(|k, _| sel.iter().any(|s| s.eq_ignore_ascii_case(k)));
    }
    obj
}

/// Filters, sorts by id, pages and answers a collection.
pub fn collection(
    emu: &Shared,
    uri: &Uri,
    q: &Query,
    context: &str,
    items: Vec<Map<String, Value>>,
    filterable: &[&str],
    default_top: usize,
) -> GraphResult {
    let clauses = match q.get("$filter") {
        Some(f) => parse_filter(f)?,
        None => Vec::new(),
    };
    let top = match q.get("$top") {
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=999).contains(&n) => n,
            _ => {
                return Err(GraphError::new(
                    400,
                    "Request_BadRequest",
                    format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and 999 inclusive."
                    ),
                ));
            }
        },
        None => default_top,
    };
    let mut selected = Vec::new();
    for item in items {
        if matches(&item, &clauses, filterable)? {
            selected.push(item);
        }
    }
    selected.sort_by(|a, b| {
        a.get("id")
            .and_then(Value::as_str)
            .cmp(&b.get("id").and_then(Value::as_str))
    });
    let after = q.get("$skiptoken").map(str::to_string);
    let start = match &after {
        Some(last) => selected
            .iter()
            .position(|i| {
                i.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| id > last.as_str())
            })
            .unwrap_or(selected.len()),
        None => 0,
    };
    let end = (start + top).min(selected.len());
    let page: Vec<Value> = selected[start..end]
        .iter()
        .cloned()
        .map(|o| Value::Object(project(o, q)))
        .collect();
    let mut out = json!({ "@odata.context": super::context(emu, context), "value": page });
    if end < selected.len() {
        let last = selected[end - 1]
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut pairs: Vec<(String, String)> = q
            .pairs
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .cloned()
            .collect();
        pairs.push(("$skiptoken".into(), last));
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        out["@odata.nextLink"] =
            Value::String(format!("{}{}?{}", emu.public_base(), uri.path(), qs));
    }
    ok(200, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters() {
        assert_eq!(
            parse_filter("appId eq 'abc' and startswith(displayName,'Con''t')").unwrap(),
            vec![
                Clause::Eq("appId".into(), "abc".into()),
                Clause::StartsWith("displayName".into(), "Con't".into())
            ]
        );
        assert!(parse_filter("appId ne 'x'").is_err());
        let obj: Map<String, Value> =
            serde_json::from_value(json!({"appId": "ABC", "displayName": "Contoso"})).unwrap();
        assert!(matches(&obj, &parse_filter("appId eq 'abc'").unwrap(), &["appId"]).unwrap());
        assert!(
            !matches(
                &obj,
                &parse_filter("startswith(displayName,'x')").unwrap(),
                &["displayName"]
            )
            .unwrap()
        );
        assert!(matches(&obj, &parse_filter("secret eq 'x'").unwrap(), &["appId"]).is_err());
    }
}
