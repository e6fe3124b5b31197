//! `#/dashboard` (F7): the tenant's credentials by expiry. A thin edge over
//! `flows::dashboard`: the [`Table`] lives in a signal and grows page by
//! page; only the rows on screen are in the DOM (fixed row height, a spacer
//! as tall as the whole list, the visible slice moved into place), so ten
//! thousand applications scroll as smoothly as ten. Heights and offsets are
//! set through the CSSOM (`style:`), which the page's `style-src 'self'`
//! allows, never as `style="…"` attributes. Rows can be selected (by keyId,
//! since indices move as pages arrive) for a bulk renewal (`bulk_renew`).

use std::collections::HashSet;

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::bulk_renew::{Bulk, BulkPanel, SelectionBar};
use super::error::UiError;
use super::host::{AuthState, use_session};
use super::storage;
use crate::core::credential_expiry;
use crate::flows::dashboard::{self, Band, Bucket, Filter, Kind, OwnerKind, Table, Triage, WEEKS};
use crate::web::{clock, download};

/// Row height in CSS pixels (`.vt-row` in style/app.css says the same).
const ROW_PX: usize = 36;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 8;
/// Rows rendered at once: the visible area (`.vt-body`, 20 rows) and the overscan.
const WINDOW: usize = 20 + 2 * OVERSCAN;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let session = use_session();
    let table = RwSignal::new(None::<Table>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let with_sps = RwSignal::new(false);
    let filter = RwSignal::new(Filter::default());
    let triage = RwSignal::new(None::<Result<Triage, String>>);
    let pasted = RwSignal::new(String::new());
    let scroll = RwSignal::new(0usize);
    let body = NodeRef::<Div>::new();
    let bulk = Bulk::new(table);
    let selected = bulk.selected;

    // A new read (the switch, "Read again") supersedes one still paging:
    // pages of an older read are dropped.
    let generation = StoredValue::new(0u32);
    let load = move || {
        let AuthState::SignedIn(account) = session.auth.get_untracked() else {
            return;
        };
        let current = generation.get_value() + 1;
        generation.set_value(current);
        loading.set(true);
        error.set(None);
        selected.set(HashSet::new());
        table.set(Some(Table::new(
            &account.tenant_id,
            &storage::records(),
            clock::now(),
        )));
        spawn_local(async move {
            let outcome = match session.api().await {
                Ok(api) => dashboard::load(&api, with_sps.get_untracked(), |kind, page| {
                    if generation.get_value() == current {
                        table.update(|t| {
                            if let Some(t) = t {
                                t.add(kind, page)
                            }
                        })
                    }
                })
                .await
                .map_err(UiError::from),
                Err(e) => Err(e),
            };
            if generation.get_value() == current {
                error.set(outcome.err());
                loading.set(false);
            }
        });
    };
    // Read the tenant as soon as the admin is signed in (again, after a
    // sign-in to another tenant); forget it on sign-out.
    Effect::new(move || match session.auth.get() {
        AuthState::SignedIn(a) => {
            if table.with_untracked(|t| t.as_ref().is_none_or(|t| t.tenant_id != a.tenant_id)) {
                load();
            }
        }
        _ => {
            if table.with_untracked(Option::is_some) {
                generation.set_value(generation.get_value() + 1);
                table.set(None);
                loading.set(false);
            }
        }
    });

    let view = Memo::new(move |_| {
        filter.with(|f| table.with(|t| t.as_ref().map(|t| t.view(f)).unwrap_or_default()))
    });
    let counts =
        Memo::new(move |_| table.with(|t| t.as_ref().map(Table::counts).unwrap_or_default()));
    let timeline = Memo::new(move |_| table.with(|t| t.as_ref().map(Table::timeline)));
    // The first row rendered; never past the end when a filter shortened
    // the list below the scroll position.
    let first = Memo::new(move |_| {
        (scroll.get() / ROW_PX)
            .saturating_sub(OVERSCAN)
            .min(view.with(Vec::len).saturating_sub(WINDOW))
    });
    // Whether every row shown (the filter's) is selected.
    let all_shown = Memo::new(move |_| {
        view.with(|v| {
            !v.is_empty()
                && table.with(|t| {
                    t.as_ref().is_some_and(|t| {
                        selected.with(|s| v.iter().all(|&i| s.contains(&t.rows[i as usize].key_id)))
                    })
                })
        })
    });
    let select_shown = move |on: bool| {
        let keys: Vec<String> = view.with_untracked(|v| {
            table.with_untracked(|t| {
                t.as_ref()
                    .map(|t| {
                        v.iter()
                            .map(|&i| t.rows[i as usize].key_id.clone())
                            .filter(|k| !k.is_empty())
                            .collect()
                    })
                    .unwrap_or_default()
            })
        });
        selected.update(|s| {
            for k in keys {
                if on {
                    s.insert(k);
                } else {
                    s.remove(&k);
                }
            }
        });
    };
    // The triaged credentials by keyId: row indices move as pages arrive.
    let hits = RwSignal::new(Vec::<String>::new());

    let on_triage = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = pasted.get_untracked();
        let outcome = table.with_untracked(|t| match t {
            Some(t) => t.triage(&text),
            None => Table::new("", &[], clock::now()).triage(&text),
        });
        // Show every row, and scroll the first match into view.
        if let Ok(Some(&first_hit)) = outcome.as_ref().map(|t| t.rows.first()) {
            filter.set(Filter::default());
            // After the unfiltered list is laid out (next frame).
            request_animation_frame(move || {
                if let Some(el) = body.get_untracked() {
                    el.set_scroll_top(((first_hit as usize).saturating_sub(3) * ROW_PX) as i32);
                }
            });
        }
        hits.set(table.with_untracked(|t| {
            match (t, &outcome) {
                (Some(t), Ok(found)) => found
                    .rows
                    .iter()
                    .map(|&i| t.rows[i as usize].key_id.clone())
                    .collect(),
                _ => Vec::new(),
            }
        }));
        triage.set(Some(outcome.map_err(|e| e.to_string())));
    };

    let export = move |ics: bool| {
        table.with_untracked(|t| {
            let Some(t) = t else { return };
            let rows = view.get_untracked();
            let _ = if ics {
                download::save(
                    "credential-expiry.ics",
                    "text/calendar",
                    t.ics(&rows, clock::now()).as_bytes(),
                )
            } else {
                download::save("credentials.csv", "text/csv", t.csv(&rows).as_bytes())
            };
        })
    };

    view! {
        <p class="lead">
            "Every application's certificates and secrets, soonest expiry first. Paste an error a \
             service printed to find the credential it is about and what fixes it."
        </p>
        <section class="panel" aria-labelledby="triage-title">
            <h2 id="triage-title">"Triage an error"</h2>
            <form class="triage" on:submit=on_triage>
                <label for="triage-input">"The error, as the service printed it (AADSTS…)"</label>
                <textarea id="triage-input" rows="3" spellcheck="false" autocomplete="off"
                    prop:value=move || pasted.get()
                    on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
                <button type="submit" class="primary" id="triage-run">"Find the credential"</button>
            </form>
            {move || triage.get().map(|t| match t {
                Err(e) => view! { <p class="error" role="alert" id="triage-error">{e}</p> }.into_any(),
                Ok(t) => {
                    let mut found = match t.rows.len() {
                        0 => "No credential in the table matches it.".to_string(),
                        1 => "The matching credential is highlighted in the table.".to_string(),
                        n => format!("{n} matching credentials are highlighted in the table."),
                    };
                    if loading.get_untracked() {
                        found.push_str(" The table is still being read: find again once it is complete.");
                    }
                    view! {
                        <div class="card" id="triage-result" role="status">
                            <p><strong>{format!("AADSTS{}: ", t.error.code)}</strong>{t.advice.summary}</p>
                            <p>{t.advice.next_step}</p>
                            <p class="hint" id="triage-found">{found}</p>
                            {t.fix.map(|f| view! {
                                <a class="button primary" id="triage-fix" href=f.route.format()>{f.label}</a>
                            })}
                        </div>
                    }.into_any()
                }
            })}
        </section>
        <BulkPanel bulk=bulk />
        <section class="panel dashboard" aria-labelledby="dashboard-title">
            <h2 id="dashboard-title">"Credentials by expiry"</h2>
            {move || (!matches!(session.auth.get(), AuthState::SignedIn(_))).then(|| view! {
                <p class="hint" id="dashboard-signed-out">"Sign in (top right) to read the tenant's applications."</p>
            })}
            <p class="status" role="status" aria-live="polite" id="dashboard-progress">
                {move || table.with(|t| t.as_ref().map(|t| {
                    let creds = t.rows.len();
                    let sps = if with_sps.get() { format!(", {} service principals", t.service_principals) } else { String::new() };
                    if loading.get() {
                        view! { <progress></progress> {format!(" Reading… {} applications{sps}, {creds} credentials so far ({} pages)", t.applications, t.pages)}}.into_any()
                    } else {
                        view! { {format!("{} applications{sps}, {creds} credentials, read in {} requests.", t.applications, t.pages)} }.into_any()
                    }
                }))}
            </p>
            <p class="error" role="alert">{move || error.get().map(|e| e.to_string())}</p>
            <ul class="counts" id="dashboard-counts">
                {Band::ALL.into_iter().map(|b| view! {
                    <li>
                        <button type="button" class=format!("count {}", b.slug()) id=format!("count-{}", b.slug())
                            aria-pressed=move || filter.with(|f| (f.band == Some(b)).to_string())
                            on:click=move |_| filter.update(|f| f.band = if f.band == Some(b) { None } else { Some(b) })>
                            <span class="n">{move || counts.get()[b as usize]}</span>
                            " " {b.label()}
                        </button>
                    </li>
                }).collect_view()}
            </ul>
            {move || timeline.get().map(|tl| {
                let max = tl.max();
                let bars = core::iter::once((Bucket::Expired, tl.expired)).chain(
                    tl.weeks.iter().enumerate().map(|(w, &n)| (Bucket::Week(w as u16), n)));
                view! {
                    <div class="timeline" id="dashboard-timeline" role="group"
                        aria-label=format!("Credentials ending per week, next {WEEKS} weeks")>
                        {bars.map(|(bucket, n)| {
                            let label = match bucket {
                                Bucket::Expired => format!("Expired: {n}"),
                                Bucket::Week(w) => table.with_untracked(|t| format!(
                                    "Week of {}: {n}",
                                    dashboard::date(t.as_ref().map(|t| t.now.plus_days(7 * u64::from(w))))
                                )),
                            };
                            view! {
                                <button type="button" class=if bucket == Bucket::Expired { "bar expired" } else { "bar" }
                                    title=label.clone() aria-label=label
                                    aria-pressed=move || filter.with(|f| (f.bucket == Some(bucket)).to_string())
                                    on:click=move |_| filter.update(|f| f.bucket = if f.bucket == Some(bucket) { None } else { Some(bucket) })>
                                    <span class="fill" style:height=format!("{}%", n * 100 / max)></span>
                                </button>
                            }
                        }).collect_view()}
                    </div>
                }
            })}
            <div class="filters">
                <label>"Status "
                    <select id="filter-status" on:change=move |ev| filter.update(|f| f.band = Band::from_slug(&event_target_value(&ev)))
                        prop:value=move || filter.with(|f| f.band.map_or("", Band::slug).to_string())>
                        <option value="">"All"</option>
                        {Band::ALL.into_iter().map(|b| view! { <option value=b.slug()>{b.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Type "
                    <select id="filter-type" on:change=move |ev| filter.update(|f| f.kind = Kind::from_slug(&event_target_value(&ev)))
                        prop:value=move || filter.with(|f| f.kind.map_or("", Kind::slug).to_string())>
                        <option value="">"All"</option>
                        <option value="certificate">"Certificates"</option>
                        <option value="secret">"Secrets"</option>
                    </select>
                </label>
                <label>"Search "
                    <input type="text" id="filter-text" placeholder="name, ID, thumbprint, hint"
                        prop:value=move || filter.with(|f| f.text.clone())
                        on:input=move |ev| filter.update(|f| f.text = event_target_value(&ev)) />
                </label>
                <label>
                    <input type="checkbox" id="filter-sps" prop:checked=move || with_sps.get()
                        on:change=move |ev| { with_sps.set(event_target_checked(&ev)); load(); } />
                    " Service principals' own credentials"
                </label>
                <button type="button" id="filter-clear" on:click=move |_| filter.set(Filter::default())>"Show all"</button>
            </div>
            <div class="actions">
                <button type="button" id="dashboard-reload" prop:disabled=move || loading.get() || session.account().is_none()
                    on:click=move |_| load()>"Read again"</button>
                <button type="button" id="export-csv" on:click=move |_| export(false)>"Download CSV"</button>
                <button type="button" id="export-ics" on:click=move |_| export(true)>"Download calendar (.ics)"</button>
                <span class="hint" id="dashboard-shown">{move || format!("{} shown", view.with(Vec::len))}</span>
                <label>
                    <input type="checkbox" id="select-shown" prop:checked=move || all_shown.get()
                        on:change=move |ev| select_shown(event_target_checked(&ev)) />
                    " Select all shown"
                </label>
            </div>
            <SelectionBar bulk=bulk />
            <div class="vt" role="table" aria-label="Credentials" aria-rowcount=move || view.with(Vec::len)>
                <div class="vt-row vt-head" role="row">
                    {["Application", "Application ID", "Type", "Credential", "Ends", "Status", "Service account", ""]
                        .map(|h| view! { <span role="columnheader">{h}</span> }).collect_view()}
                </div>
                <div class="vt-body" node_ref=body
                    on:scroll=move |_| if let Some(el) = body.get_untracked() { scroll.set(el.scroll_top().max(0) as usize) }>
                    <div class="vt-space" style:height=move || format!("{}px", view.with(Vec::len) * ROW_PX)>
                        <div class="vt-window" style:transform=move || format!("translateY({}px)", first.get() * ROW_PX)>
                            {move || {
                                let start = first.get();
                                let hits = hits.read();
                                view.with(|v| table.with(|t| t.as_ref().map(|t| {
                                    v.iter().skip(start).take(WINDOW)
                                        .map(|&i| row(t, i, &hits, selected))
                                        .collect_view()
                                })))
                            }}
                        </div>
                    </div>
                </div>
            </div>
        </section>
    }
}

/// One credential as a row: the same cells for every kind.
fn row(
    t: &Table,
    i: u32,
    hits: &[String],
    selected: RwSignal<HashSet<String>>,
) -> impl IntoView + use<> {
    let r = &t.rows[i as usize];
    let hit = hits.contains(&r.key_id);
    let owner = t.owner(r);
    let band = t.band(r);
    let kind = match owner.kind {
        OwnerKind::Application => r.kind.label().to_string(),
        OwnerKind::ServicePrincipal => format!("{} (service principal)", r.kind.label()),
    };
    let credential = match (r.kind, r.name.is_empty()) {
        (Kind::Secret, true) => format!("{}…", r.detail),
        (Kind::Secret, false) => format!("{} ({}…)", r.name, r.detail),
        (Kind::Certificate, true) => r.detail.clone(),
        (Kind::Certificate, false) => format!("{} {}", r.name, r.detail),
    };
    let status = r
        .end
        .map(|e| credential_expiry::status(e, t.now).to_string())
        .unwrap_or_else(|| "No end date".into());
    let cells = [
        owner.name.clone(),
        owner.app_id.clone(),
        kind,
        credential,
        dashboard::date(r.end),
        status,
        t.account(r).map(|a| a.name.clone()).unwrap_or_default(),
    ];
    let class = format!("vt-row {}{}", band.slug(), if hit { " hit" } else { "" });
    // The checkbox sits in the first cell, so the cells stay the columns.
    let key = r.key_id.clone();
    let check = (!key.is_empty()).then(|| {
        let label = format!("Select {} of {}", cells[3], cells[0]);
        let k = key.clone();
        view! {
            <input type="checkbox" class="select" aria-label=label
                prop:checked=move || selected.with(|s| s.contains(&key))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    selected.update(|s| { if on { s.insert(k.clone()); } else { s.remove(&k); } });
                } />
        }
    });
    let [first, rest @ ..] = cells;
    view! {
        <div class=class role="row" data-key=r.key_id.clone() aria-current=hit.then_some("true")>
            <span role="cell" title=first.clone()>{check}{first.clone()}</span>
            {rest.map(|c| { let text = c.clone(); view! { <span role="cell" title=c>{text}</span> } }).collect_view()}
            <span role="cell"><a class="renew" href=t.renew_route(r).format()>"Renew"</a></span>
        </div>
    }
}
