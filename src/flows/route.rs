//! The page's addresses: hash routes (`#/connect/existing?app=…`), so that
//! `dist/` stays plain static files and every wizard can be opened with
//! data from a link (a service account's "Check roles", a pasted error).
//! Parsing and formatting are pure Rust; the page only listens to
//! `hashchange` and sets `location.hash`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What a link may fill in a wizard: `?app=`, `?thumbprint=`, `?tenant=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prefill {
    /// Application (client) ID.
    pub app: Option<String>,
    /// SHA-1 thumbprint of a certificate.
    pub thumbprint: Option<String>,
    /// Tenant ID or domain.
    pub tenant: Option<String>,
}

impl Prefill {
    pub fn app(app_id: impl Into<String>) -> Prefill {
        Prefill {
            app: Some(app_id.into()),
            ..Prefill::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.app.is_none() && self.thumbprint.is_none() && self.tenant.is_none()
    }

    fn fields(&self) -> [(&'static str, Option<&String>); 3] {
        [
            ("app", self.app.as_ref()),
            ("tenant", self.tenant.as_ref()),
            ("thumbprint", self.thumbprint.as_ref()),
        ]
    }

    fn query(&self) -> String {
        let pairs: Vec<String> = self
            .fields()
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
            .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }

    fn parse(query: &str) -> Prefill {
        let mut p = Prefill::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let v = Some(v.trim().to_string()).filter(|v| !v.is_empty());
            match k.as_ref() {
                "app" | "appId" => p.app = v,
                "thumbprint" => p.thumbprint = v,
                "tenant" => p.tenant = v,
                _ => {}
            }
        }
        p
    }
}

/// The connect wizards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wizard {
    /// F1 register a new application.
    NewApp,
    /// F2 use an existing application.
    ExistingApp,
    /// F4 check and assign Azure roles.
    Roles,
    /// F5 Restore Portal application.
    Portal,
}

impl Wizard {
    pub const ALL: [Wizard; 4] = [
        Wizard::NewApp,
        Wizard::ExistingApp,
        Wizard::Roles,
        Wizard::Portal,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Wizard::NewApp => "new",
            Wizard::ExistingApp => "existing",
            Wizard::Roles => "roles",
            Wizard::Portal => "portal",
        }
    }

    /// The wizard's name in the page's chooser.
    pub fn label(self) -> &'static str {
        match self {
            Wizard::NewApp => "Register a new application",
            Wizard::ExistingApp => "Use an existing application",
            Wizard::Roles => "Check and assign Azure roles",
            Wizard::Portal => "Restore Portal application",
        }
    }

    fn from_slug(slug: &str) -> Option<Wizard> {
        Wizard::ALL.into_iter().find(|w| w.slug() == slug)
    }
}

/// The navigation's sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Connect,
    ServiceAccounts,
    Dashboard,
    Certificates,
    Settings,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Connect,
        Section::ServiceAccounts,
        Section::Dashboard,
        Section::Certificates,
        Section::Settings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Connect => "Connect",
            Section::ServiceAccounts => "Service accounts",
            Section::Dashboard => "Dashboard",
            Section::Certificates => "Certificates",
            Section::Settings => "Settings",
        }
    }

    /// Where the section's link goes.
    pub fn home(self) -> Route {
        match self {
            Section::Connect => Route::Connect(Wizard::NewApp, Prefill::default()),
            Section::ServiceAccounts => Route::Accounts,
            Section::Dashboard => Route::Dashboard,
            Section::Certificates => Route::Certificates,
            Section::Settings => Route::Settings,
        }
    }
}

/// Every page the address can name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `#/connect/{new|existing|roles|portal}?app=…&tenant=…&thumbprint=…`
    /// (`#/connect` alone is the first wizard).
    Connect(Wizard, Prefill),
    /// `#/accounts` (also the older `#/service-accounts`).
    Accounts,
    /// `#/accounts/{id}`: one saved service account (see
    /// `ConnectionRecord::route_id`).
    Account(String),
    /// `#/renew?app=…&thumbprint=…&tenant=…`
    Renew(Prefill),
    /// `#/dashboard`
    Dashboard,
    /// `#/certificates`, and the page's home (an empty fragment).
    Certificates,
    /// `#/settings`
    Settings,
    /// Anything else: the fragment as it was, decoded.
    NotFound(String),
}

impl Route {
    /// Reads `location.hash` (with or without its `#`).
    pub fn parse(hash: &str) -> Route {
        let raw = hash.strip_prefix('#').unwrap_or(hash);
        let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let prefill = || Prefill::parse(query);
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segs.as_slice() {
            [] | ["certificates"] => Route::Certificates,
            ["connect"] => Route::Connect(Wizard::NewApp, prefill()),
            ["connect", w] => match Wizard::from_slug(w) {
                Some(w) => Route::Connect(w, prefill()),
                None => Route::NotFound(decode(raw)),
            },
            ["accounts"] | ["service-accounts"] => Route::Accounts,
            ["accounts", id] => Route::Account(id.to_string()),
            ["renew"] => Route::Renew(prefill()),
            ["dashboard"] => Route::Dashboard,
            ["settings"] => Route::Settings,
            _ => Route::NotFound(decode(raw)),
        }
    }

    /// The fragment for this route, `#` included; `parse` reads it back.
    pub fn format(&self) -> String {
        match self {
            Route::Connect(w, p) => format!("#/connect/{}{}", w.slug(), p.query()),
            Route::Accounts => "#/accounts".into(),
            Route::Account(id) => format!("#/accounts/{}", encode(id)),
            Route::Renew(p) => format!("#/renew{}", p.query()),
            Route::Dashboard => "#/dashboard".into(),
            Route::Certificates => "#/certificates".into(),
            Route::Settings => "#/settings".into(),
            Route::NotFound(raw) => format!("#{}", encode_path(raw)),
        }
    }

    /// The navigation entry this route belongs to (none for an unknown one).
    pub fn section(&self) -> Option<Section> {
        Some(match self {
            Route::Connect(..) => Section::Connect,
            Route::Accounts | Route::Account(_) => Section::ServiceAccounts,
            Route::Renew(_) => Section::ServiceAccounts,
            Route::Dashboard => Section::Dashboard,
            Route::Certificates => Section::Certificates,
            Route::Settings => Section::Settings,
            Route::NotFound(_) => return None,
        })
    }

    /// The page that shows this route: every Connect route is the one
    /// Connect page (it follows the wizard and its prefill itself), so that
    /// choosing another wizard does not rebuild the page.
    pub fn page(&self) -> Route {
        match self {
            Route::Connect(..) => Route::Connect(Wizard::NewApp, Prefill::default()),
            other => other.clone(),
        }
    }

    /// Whether the first load shows this route. The pages that call
    /// Microsoft's APIs are a second wasm module, loaded on the first visit
    /// to one of them; the first load holds the shell, sign-in, the offline
    /// certificate tools and the settings.
    pub fn in_first_load(&self) -> bool {
        match self {
            Route::Certificates | Route::Settings | Route::NotFound(_) => true,
            Route::Connect(..)
            | Route::Accounts
            | Route::Account(_)
            | Route::Renew(_)
            | Route::Dashboard => false,
        }
    }

    /// The page's heading.
    pub fn title(&self) -> &'static str {
        match self {
            Route::Renew(_) => "Renew a credential",
            Route::NotFound(_) => "Page not found",
            other => other.section().map(Section::title).unwrap_or_default(),
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (and
/// `@`, which the account IDs use).
/// What a fragment value keeps unescaped: RFC 3986's unreserved characters
/// and `@` (record IDs are `appId@tenant`).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// A fragment path also keeps its own separators.
const PATH: &AsciiSet = &VALUE.remove(b'/').remove(b'?').remove(b'&').remove(b'=');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, VALUE).to_string()
}

/// Like [`encode`], keeping the fragment's own separators.
fn encode_path(s: &str) -> String {
    utf8_percent_encode(s, PATH).to_string()
}

/// Decodes `%XX` sequences; a malformed one is kept as it is, and bytes
/// that are not UTF-8 become U+FFFD.
fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "d8b0490d-823f-46df-8680-25017029384a";

    #[test]
    fn parses_every_page() {
        assert_eq!(Route::parse(""), Route::Certificates);
        assert_eq!(Route::parse("#"), Route::Certificates);
        assert_eq!(Route::parse("#/"), Route::Certificates);
        assert_eq!(Route::parse("#/certificates"), Route::Certificates);
        assert_eq!(Route::parse("#/settings"), Route::Settings);
        assert_eq!(Route::parse("#/dashboard"), Route::Dashboard);
        assert_eq!(Route::parse("#/accounts"), Route::Accounts);
        assert_eq!(Route::parse("#/service-accounts"), Route::Accounts);
        assert_eq!(Route::parse("#/accounts/abc"), Route::Account("abc".into()));
        assert_eq!(
            Route::parse("#/connect"),
            Route::Connect(Wizard::NewApp, Prefill::default())
        );
        for w in Wizard::ALL {
            assert_eq!(
                Route::parse(&format!("#/connect/{}", w.slug())),
                Route::Connect(w, Prefill::default())
            );
        }
        assert_eq!(Route::parse("#/renew"), Route::Renew(Prefill::default()));
    }

    #[test]
    fn query_parameters_prefill_a_wizard() {
        let r = Route::parse(&format!(
            "#/connect/existing?app={APP}&tenant=contoso.onmicrosoft.com&unknown=1"
        ));
        assert_eq!(
            r,
            Route::Connect(
                Wizard::ExistingApp,
                Prefill {
                    app: Some(APP.into()),
                    tenant: Some("contoso.onmicrosoft.com".into()),
                    thumbprint: None,
                }
            )
        );
        let r = Route::parse("#/renew?thumbprint=AB%20CD&app=");
        assert_eq!(
            r,
            Route::Renew(Prefill {
                thumbprint: Some("AB CD".into()),
                ..Prefill::default()
            })
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a%2Fb%3d%C3%A9"), "a/b=é");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%FF"), "\u{FFFD}");
        assert_eq!(
            Route::parse("#/accounts/app%40tenant%2Fx"),
            Route::Account("app@tenant/x".into())
        );
        assert_eq!(
            Route::parse("#/connect/roles?app=a+b%2Bc"),
            Route::Connect(Wizard::Roles, Prefill::app("a b+c"))
        );
    }

    #[test]
    fn formats_and_round_trips() {
        let routes = [
            Route::Certificates,
            Route::Settings,
            Route::Dashboard,
            Route::Accounts,
            Route::Account(format!("{APP}@contoso.onmicrosoft.com")),
            Route::Account("odd / id?&=#".into()),
            Route::Connect(Wizard::NewApp, Prefill::default()),
            Route::Connect(Wizard::Roles, Prefill::app(APP)),
            Route::Connect(
                Wizard::ExistingApp,
                Prefill {
                    app: Some(APP.into()),
                    tenant: Some("Contoso & Co".into()),
                    thumbprint: Some("0A1B".into()),
                },
            ),
            Route::Renew(Prefill {
                app: Some(APP.into()),
                thumbprint: Some("0A1B".into()),
                tenant: None,
            }),
        ];
        for r in routes {
            let f = r.format();
            assert!(f.starts_with("#/"), "{f}");
            assert_eq!(Route::parse(&f), r, "{f}");
        }
        assert_eq!(
            Route::Connect(Wizard::Roles, Prefill::app(APP)).format(),
            format!("#/connect/roles?app={APP}")
        );
        assert_eq!(Route::Account("x y".into()).format(), "#/accounts/x%20y");
    }

    #[test]
    fn unknown_routes_are_named() {
        assert_eq!(
            Route::parse("#/nowhere"),
            Route::NotFound("/nowhere".into())
        );
        assert_eq!(
            Route::parse("#/connect/elsewhere?app=1"),
            Route::NotFound("/connect/elsewhere?app=1".into())
        );
        assert_eq!(
            Route::parse("#/settings/extra"),
            Route::NotFound("/settings/extra".into())
        );
        assert_eq!(Route::parse("#/n%C3%A9"), Route::NotFound("/né".into()));
        let r = Route::parse("#/nowhere");
        assert_eq!(r.section(), None);
        assert_eq!(r.title(), "Page not found");
        assert_eq!(Route::parse(&r.format()), r);
    }

    #[test]
    fn sections_and_titles() {
        for s in Section::ALL {
            assert_eq!(s.home().section(), Some(s));
            assert_eq!(s.home().title(), s.title());
        }
        assert_eq!(
            Route::parse("#/accounts/x").section(),
            Some(Section::ServiceAccounts)
        );
    }

    #[test]
    fn the_first_load_shows_the_offline_pages_only() {
        let first: Vec<bool> = ["#/", "#/certificates", "#/settings", "#/nowhere"]
            .iter()
            .map(|h| Route::parse(h).in_first_load())
            .collect();
        assert_eq!(first, [true; 4]);
        for h in [
            "#/connect",
            "#/connect/roles?app=x",
            "#/accounts",
            "#/accounts/a@t",
            "#/renew?app=x",
            "#/dashboard",
        ] {
            assert!(!Route::parse(h).in_first_load(), "{h}");
        }
    }

    #[test]
    fn every_connect_route_is_one_page() {
        let page = Route::parse("#/connect/portal?app=x").page();
        assert_eq!(page, Route::parse("#/connect").page());
        assert_eq!(page, Route::Connect(Wizard::NewApp, Prefill::default()));
        assert_eq!(Route::Dashboard.page(), Route::Dashboard);
    }
}
