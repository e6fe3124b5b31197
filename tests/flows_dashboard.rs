//! F7, the credential dashboard, against the in-process emulator: the demo
//! tenant and a `large:` seed read with one request per 999 applications,
//! counts per status equal to the emulator's state, triage of the errors
//! the emulator's token endpoint gives the demo's services, the renewal
//! links, and the CSV and iCalendar exports.

mod flows_support;

use entra_wizard::core::key::RsaKey;
use entra_wizard::core::thumbprint;
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::connection::{AuthMethod, ConnectionRecord, RecordDetails};
use entra_wizard::flows::dashboard::{
    self, Band, Bucket, Filter, Kind, OwnerKind, PAGE_SIZE, Table, WEEKS,
};
use entra_wizard::flows::route::{Prefill, Route};
use entra_wizard::plan;
use flows_support::*;
use rand_core::OsRng;
use serde_json::{Value, json};

/// The demo's application whose only certificate has expired.
const EXPIRED_APP: &str = "082c67e2-3c4e-4548-b957-69746605c3bf";
/// The demo's application whose secret ends in 10 days.
const SECRET_APP: &str = "0c74fb13-03e3-4fc8-9e1f-61862656ca5e";

fn seed_app<'s>(env: &'s Env, scenario: &str) -> &'s Value {
    env.seed["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scenario"] == scenario)
        .unwrap()
}

/// Every credential of `collection` (`applications`, `service_principals`)
/// in the emulator's state, as (end date, is a certificate).
fn credentials_in_state(state: &Value, collection: &str) -> Vec<(Option<UnixTime>, bool)> {
    let mut out = Vec::new();
    for object in state[collection].as_object().unwrap().values() {
        let body = &object["body"];
        for (field, cert) in [("keyCredentials", true), ("passwordCredentials", false)] {
            for c in body[field].as_array().into_iter().flatten() {
                let end = c["endDateTime"]
                    .as_str()
                    .map(|e| UnixTime::parse_rfc3339(e).unwrap());
                out.push((end, cert));
            }
        }
    }
    out
}

/// Counts per band, in `Band::ALL`'s order, of the state's credentials.
fn counts_in_state(creds: &[(Option<UnixTime>, bool)], now: UnixTime) -> [usize; 5] {
    let mut out = [0; 5];
    for (end, _) in creds {
        out[Band::of(*end, now) as usize] += 1;
    }
    out
}

/// Reads the whole tenant into a table; returns it with the pages read.
async fn read_all(
    api: &entra_wizard::client::ApiClient<'_, Native, ClockSleeper<'_>>,
    env: &Env,
    records: &[ConnectionRecord],
    service_principals: bool,
) -> (Table, u32) {
    let mut table = Table::new(&env.tenant_id(), records, env.now());
    let mut sizes = Vec::new();
    let pages = dashboard::load(api, service_principals, |kind, page| {
        sizes.push(page.len());
        table.add(kind, page);
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pages as usize, sizes.len());
    assert_eq!(table.pages, pages);
    (table, pages)
}

fn sorted_by_end(table: &Table) -> bool {
    table
        .rows
        .windows(2)
        .all(|w| w[0].end.map_or(u64::MAX, |e| e.0) <= w[1].end.map_or(u64::MAX, |e| e.0))
}

fn record(
    env: &Env,
    name: &str,
    app_id: &str,
    auth: AuthMethod,
    key_id: Option<&str>,
) -> ConnectionRecord {
    let mut r = ConnectionRecord::local(
        RecordDetails {
            name: name.into(),
            cloud: env.cloud(),
            tenant_id: env.tenant_id(),
            auth,
            profile: "azure-backup".into(),
            subscription: None,
            portal_address: None,
        },
        app_id,
        env.now(),
    );
    r.key_id = key_id.map(str::to_string);
    r
}

fn pkcs8_pem(pem: &str) -> RsaKey {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&b64).unwrap();
    RsaKey::from_pkcs8_der(&der).unwrap()
}

/// The token endpoint's `error_description` for a client-credentials
/// request of `app_id` with this form (secret or assertion).
async fn token_error(env: &Env, app_id: &str, credential: &[(&str, &str)]) -> String {
    let token_url = env.endpoints().token_url(&env.tenant_id());
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    form.extend_from_slice(credential);
    let r = reqwest::Client::new()
        .post(token_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(matches!(r.status().as_u16(), 400 | 401), "{}", r.status());
    let answer: Value = r.json().await.unwrap();
    answer["error_description"].as_str().unwrap().to_string()
}

/// What the demo's backup service gets when it signs in with its expired
/// certificate: AADSTS700027 in Entra's words.
async fn expired_certificate_error(
    env: &Env,
    api: &entra_wizard::client::ApiClient<'_, Native, ClockSleeper<'_>>,
) -> String {
    let key = pkcs8_pem(
        seed_app(env, "expired-certificate")["privateKeyPem"]
            .as_str()
            .unwrap(),
    );
    let app = entra_wizard::graph::get_application_by_app_id(api, EXPIRED_APP)
        .await
        .unwrap()
        .unwrap();
    let der = app.key_credentials[0].certificate_der().unwrap();
    // Signed as a service does (jsonwebtoken: core::jwt takes https
    // audiences only, and this emulator listens on http).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5t = Some(thumbprint::x5t(&der));
    let now = env.now().0;
    let claims = json!({
        "aud": env.endpoints().token_url(&env.tenant_id()), "iss": EXPIRED_APP, "sub": EXPIRED_APP,
        "jti": plan::new_guid(&mut OsRng), "nbf": now, "iat": now, "exp": now + 300,
    });
    let pkcs1 = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(key.rsa()).unwrap();
    let assertion = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(pkcs1.as_bytes()),
    )
    .unwrap();
    token_error(
        env,
        EXPIRED_APP,
        &[
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ],
    )
    .await
}

#[tokio::test]
async fn the_demo_tenant_by_expiry_with_the_counts_of_the_emulators_state() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let expired = seed_app(&env, "expired-certificate");
    let thumbprint = expired["thumbprint"].as_str().unwrap().to_uppercase();
    let backup = record(
        &env,
        "Backup service",
        EXPIRED_APP,
        AuthMethod::Certificate {
            thumbprint: thumbprint.to_lowercase(),
            subject: "CN=Contoso Backup".into(),
            not_before: UnixTime(0),
            not_after: UnixTime(1),
        },
        None,
    );
    let archiver_secret = seed_app(&env, "expiring-secret");
    let archiver = record(
        &env,
        "Archiver",
        SECRET_APP,
        AuthMethod::ClientSecret {
            hint: archiver_secret["secretText"].as_str().unwrap()[..3].into(),
            end: None,
        },
        archiver_secret["keyId"].as_str(),
    );
    env.clear_requests().await;

    let (table, pages) = read_all(&api, &env, &[backup, archiver], false).await;

    let state = env.state().await;
    let in_state = credentials_in_state(&state, "applications");
    assert_eq!(
        pages, 1,
        "the demo's applications fit in one page of {PAGE_SIZE}"
    );
    let gets: Vec<Value> = env
        .log()
        .await
        .into_iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .starts_with("/graph/v1.0/applications")
        })
        .collect();
    assert_eq!(gets.len(), 1, "{gets:#?}");
    let path = gets[0]["path"].as_str().unwrap();
    assert!(path.contains("$top=999"), "{path}");
    assert!(
        path.contains("$select=id,appId,displayName,keyCredentials,passwordCredentials"),
        "{path}"
    );
    assert_eq!(
        table.applications,
        state["applications"].as_object().unwrap().len()
    );
    assert_eq!(table.rows.len(), in_state.len());
    assert_eq!(table.counts(), counts_in_state(&in_state, env.now()));
    assert!(sorted_by_end(&table));

    // The expired certificate comes first, with the service account that uses it.
    let first = &table.rows[0];
    assert_eq!(table.owner(first).app_id, EXPIRED_APP);
    assert_eq!(first.kind, Kind::Certificate);
    assert_eq!(first.detail, thumbprint);
    assert_eq!(table.band(first), Band::Expired);
    assert_eq!(table.account(first).unwrap().name, "Backup service");
    assert_eq!(
        table.renew_route(first),
        Route::Renew(Prefill {
            app: Some(EXPIRED_APP.into()),
            thumbprint: Some(thumbprint.clone()),
            tenant: Some(env.tenant_id()),
        })
    );
    assert_eq!(
        table.renew_route(first).format(),
        format!(
            "#/renew?app={EXPIRED_APP}&tenant={}&thumbprint={thumbprint}",
            env.tenant_id()
        )
    );

    // The archiver's secret ends in 10 days: "30 days or less", its account linked.
    let secret = table
        .view(&Filter {
            kind: Some(Kind::Secret),
            text: "contoso archiver".into(),
            ..Filter::default()
        })
        .into_iter()
        .map(|i| &table.rows[i as usize])
        .collect::<Vec<_>>();
    assert_eq!(secret.len(), 1);
    assert_eq!(table.band(secret[0]), Band::Days30);
    assert_eq!(table.account(secret[0]).unwrap().name, "Archiver");
    let account_route = Route::Account(format!("{SECRET_APP}@{}", env.tenant_id()));
    assert_eq!(table.renew_route(secret[0]), account_route);

    // Filters: by status, by type, and the timeline's buckets.
    let expired_rows = table.view(&Filter {
        band: Some(Band::Expired),
        ..Filter::default()
    });
    assert_eq!(expired_rows.len(), table.counts()[Band::Expired as usize]);
    assert_eq!(
        table.view(&Filter {
            bucket: Some(Bucket::Expired),
            ..Filter::default()
        }),
        expired_rows
    );
    let timeline = table.timeline();
    assert_eq!(timeline.weeks.len(), WEEKS);
    assert_eq!(
        timeline.expired + timeline.weeks.iter().sum::<usize>() + timeline.later,
        table.rows.len()
    );
    assert_eq!(
        timeline.weeks[1],
        table
            .view(&Filter {
                bucket: Some(Bucket::Week(1)),
                ..Filter::default()
            })
            .len()
    );
    assert_eq!(
        timeline.weeks[1], 1,
        "the archiver's secret ends in week 1 (day 10)"
    );
    let certs = table.view(&Filter {
        kind: Some(Kind::Certificate),
        ..Filter::default()
    });
    assert_eq!(
        certs.len(),
        in_state.iter().filter(|(_, cert)| *cert).count()
    );

    // Service principals' own credentials behind the switch: a second read.
    let (with_sps, pages) = read_all(&api, &env, &[], true).await;
    assert_eq!(pages, 2);
    let sp_state = credentials_in_state(&state, "service_principals");
    assert_eq!(
        with_sps.service_principals,
        state["service_principals"].as_object().unwrap().len()
    );
    assert_eq!(with_sps.rows.len(), in_state.len() + sp_state.len());
    assert_eq!(
        with_sps
            .rows
            .iter()
            .filter(|r| with_sps.owner(r).kind == OwnerKind::ServicePrincipal)
            .count(),
        sp_state.len()
    );
    env.stop().await;
}

#[tokio::test]
async fn a_large_tenant_is_read_with_one_request_per_999_applications() {
    let env = Env::demo().await;
    let n = 2500;
    let r = reqwest::Client::new()
        .post(format!("{}/_emulator/seed", env.emulator.base_url))
        .json(&json!({ "seed": format!("large:{n}") }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    env.clear_requests().await;
    let before = api.request_count();

    let (table, pages) = read_all(&api, &env, &[], false).await;

    let state = env.state().await;
    let total = state["applications"].as_object().unwrap().len();
    assert!(total >= n);
    let minimum = total.div_ceil(PAGE_SIZE as usize);
    assert_eq!(pages as usize, minimum);
    assert_eq!((api.request_count() - before) as usize, minimum);
    let gets = env
        .log()
        .await
        .into_iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .starts_with("/graph/v1.0/applications")
        })
        .count();
    assert_eq!(gets, minimum, "requests sent, as the emulator counted them");
    assert_eq!(table.applications, total);

    let in_state = credentials_in_state(&state, "applications");
    assert_eq!(table.rows.len(), in_state.len());
    assert!(table.rows.len() >= 2 * n);
    let counts = table.counts();
    assert_eq!(counts, counts_in_state(&in_state, env.now()));
    assert!(
        counts.iter().filter(|&&c| c > 0).count() >= 4,
        "the large seed spreads expiries: {counts:?}"
    );
    assert!(sorted_by_end(&table));
    let timeline = table.timeline();
    assert_eq!(timeline.expired, counts[Band::Expired as usize]);
    assert_eq!(
        timeline.expired + timeline.weeks.iter().sum::<usize>() + timeline.later,
        table.rows.len()
    );

    // A search narrows 5,000 rows to one application's two credentials.
    let hits = table.view(&Filter {
        text: "Bulk app 01234".into(),
        ..Filter::default()
    });
    assert_eq!(hits.len(), 2);
    let kinds: Vec<Kind> = hits.iter().map(|&i| table.rows[i as usize].kind).collect();
    assert!(kinds.contains(&Kind::Certificate) && kinds.contains(&Kind::Secret));

    // The exports cover every row (the calendar: those not yet ended).
    let all: Vec<u32> = (0..table.rows.len() as u32).collect();
    let csv = table.csv(&all);
    assert_eq!(csv.matches("\r\n").count(), table.rows.len() + 1);
    let ics = table.ics(&all, env.now());
    assert_eq!(
        ics.matches("BEGIN:VEVENT").count(),
        table.rows.len() - counts[Band::Expired as usize]
    );
    env.stop().await;
}

#[tokio::test]
async fn a_pasted_error_finds_its_credential_and_the_fix() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let thumbprint = seed_app(&env, "expired-certificate")["thumbprint"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let (table, _) = read_all(&api, &env, &[], false).await;

    // AADSTS700027 as the backup service's log prints it.
    let text = expired_certificate_error(&env, &api).await;
    assert!(text.starts_with("AADSTS700027"), "{text}");
    let pasted = format!("2026-11-29 02:00:01 ERROR Backup failed: {text}\n   at Connect()");
    let triage = table.triage(&pasted).unwrap();
    assert_eq!(triage.error.code, 700027);
    assert!(
        triage.advice.summary.contains("expired"),
        "{}",
        triage.advice.summary
    );
    assert_eq!(triage.rows.len(), 1);
    let row = &table.rows[triage.rows[0] as usize];
    assert_eq!(row.detail, thumbprint);
    assert_eq!(table.owner(row).app_id, EXPIRED_APP);
    let fix = triage.fix.unwrap();
    assert_eq!(fix.label, "Renew this certificate");
    assert_eq!(fix.route, table.renew_route(row));

    // AADSTS7000215 (a wrong secret): the application's secrets.
    let text = token_error(&env, SECRET_APP, &[("client_secret", "not-the-secret")]).await;
    assert!(text.starts_with("AADSTS7000215"), "{text}");
    let triage = table.triage(&text).unwrap();
    assert!(!triage.rows.is_empty());
    for &i in &triage.rows {
        let row = &table.rows[i as usize];
        assert_eq!(row.kind, Kind::Secret);
        assert_eq!(table.owner(row).app_id, SECRET_APP);
    }
    assert_eq!(triage.fix.unwrap().label, "Renew this secret");

    // AADSTS700016: no such application in the tenant; nothing highlighted.
    let missing = "1b4b1d0e-0000-4000-8000-00000000abcd";
    let text = token_error(&env, missing, &[("client_secret", "x")]).await;
    assert!(text.starts_with("AADSTS700016"), "{text}");
    let triage = table.triage(&text).unwrap();
    assert!(triage.rows.is_empty());
    assert_eq!(triage.fix.unwrap().label, "Register a new application");

    // AADSTS7000222: eleven days later the archiver's only secret has ended;
    // the service still sends it.
    env.emulator.emulator.clock.advance(11 * 86_400);
    let secret = seed_app(&env, "expiring-secret")["secretText"]
        .as_str()
        .unwrap()
        .to_string();
    let text = token_error(&env, SECRET_APP, &[("client_secret", &secret)]).await;
    assert!(text.starts_with("AADSTS7000222"), "{text}");
    let api = env.api(&http, &sleeper, "admin").await;
    let (later, _) = read_all(&api, &env, &[], false).await;
    let triage = later.triage(&text).unwrap();
    assert_eq!(triage.rows.len(), 1);
    let row = &later.rows[triage.rows[0] as usize];
    assert_eq!((row.kind, later.band(row)), (Kind::Secret, Band::Expired));
    assert_eq!(later.owner(row).app_id, SECRET_APP);
    assert_eq!(triage.fix.unwrap().label, "Renew this secret");

    // Not an Entra error: said so, nothing lost.
    assert!(table.triage("the backup failed").is_err());
    env.stop().await;
}

#[tokio::test]
async fn csv_and_calendar_exports_follow_their_formats() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let (table, _) = read_all(&api, &env, &[], false).await;
    let all: Vec<u32> = (0..table.rows.len() as u32).collect();

    let csv = table.csv(&all);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(lines[0].starts_with("Application,Application (client) ID,Object,"));
    assert_eq!(
        lines.len(),
        table.rows.len() + 2,
        "a header, the rows, a final CRLF"
    );
    assert!(
        lines[1].starts_with("Contoso Backup,082c67e2-3c4e-4548-b957-69746605c3bf,Application,")
    );
    assert!(lines[1].contains(",Certificate,"), "{}", lines[1]);
    assert!(lines[1].contains(",Expired,-30,"), "{}", lines[1]);

    let stamp = env.now();
    let ics = table.ics(&all, stamp);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{line:?} longer than 75 octets");
    }
    // Unfolded, each event has its UID, its date and an alarm 30 days before.
    let unfolded = ics.replace("\r\n ", "");
    let future = table
        .rows
        .iter()
        .filter(|r| r.end.is_some_and(|e| e > table.now))
        .count();
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), future);
    assert_eq!(unfolded.matches("TRIGGER:-P30D").count(), future);
    let secret = table
        .rows
        .iter()
        .find(|r| table.owner(r).app_id == SECRET_APP && r.kind == Kind::Secret)
        .unwrap();
    let owner = table.owner(secret);
    let uid = format!("UID:{}.{}@entra-wizard\r\n", secret.key_id, owner.object_id);
    assert!(unfolded.contains(&uid), "{unfolded}");
    let end = secret.end.unwrap().to_rfc3339().replace(['-', ':'], "");
    assert!(unfolded.contains(&format!("DTSTART:{end}\r\n")));
    assert!(unfolded.contains("SUMMARY:Secret of Contoso Archiver expires\r\n"));
    // The expired certificate has no event (its end is past).
    assert!(!unfolded.contains(EXPIRED_APP) || !unfolded.contains("Contoso Backup expires"));
    // The same credential keeps its UID in a later export.
    assert!(
        table
            .ics(&all, UnixTime(stamp.0 + 3600))
            .replace("\r\n ", "")
            .contains(&uid)
    );
    env.stop().await;
}
