//! Checks for what an administrator types into the wizards: tenant ID,
//! application ID, the Restore Portal web address and a client secret.
//!
//! Each check returns the value in the form the rest of the wizard uses
//! (GUIDs lower-case, host names lower-case) or an error whose message says
//! what to type instead.

use core::fmt;

/// Longest Restore Portal web address accepted (Entra's redirect URI limit).
pub const MAX_PORTAL_ADDRESS_LEN: usize = 256;

/// The Restore Portal's default HTTPS port, suggested in error messages.
pub const DEFAULT_PORTAL_PORT: u16 = 4443;

/// Characters Entra refuses in a redirect URI.
const FORBIDDEN_URI_CHARS: [char; 7] = ['!', '$', '\'', '(', ')', ',', ';'];

const PORTAL_EXAMPLES: &str = "https://135.169.170.192:4443 or https://portal.abc.com:4443";

/// `true` for a GUID written as 8-4-4-4-12 hexadecimal digits.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A GUID with optional surrounding braces removed, lower-cased; `None` if the
/// text is not a GUID.
fn normalise_guid(s: &str) -> Option<String> {
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    is_guid(s).then(|| s.to_ascii_lowercase())
}

// ---------------------------------------------------------------- tenant ID

/// A directory (tenant) as the admin identified it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantId {
    /// The directory (tenant) ID, lower-case.
    Guid(String),
    /// A verified domain name of the tenant, lower-case.
    Domain(String),
}

impl TenantId {
    pub fn as_str(&self) -> &str {
        match self {
            TenantId::Guid(s) | TenantId::Domain(s) => s,
        }
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenantIdError {
    #[error(
        "Enter the tenant ID: the Directory (tenant) ID GUID from the Entra admin center \
         (Overview page), or a verified domain such as contoso.onmicrosoft.com."
    )]
    Empty,
    #[error(
        "'{0}' is not a complete GUID. A tenant ID has 32 hexadecimal digits in the form \
         xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx; copy it again from the Entra admin center \
         (Overview page, Tenant ID)."
    )]
    MalformedGuid(String),
    #[error(
        "'{0}' is a web address. Enter only the tenant ID (a GUID) or the tenant's domain, \
         such as contoso.onmicrosoft.com."
    )]
    WebAddress(String),
    #[error(
        "'{0}' is an e-mail address. Enter only the domain part after the @, \
         such as contoso.onmicrosoft.com, or the tenant ID GUID."
    )]
    EmailAddress(String),
    #[error(
        "'{0}' is not a single tenant: it stands for any tenant. Enter your own tenant ID \
         (a GUID) or a verified domain such as contoso.onmicrosoft.com."
    )]
    MultiTenantAlias(String),
    #[error(
        "'{value}' is neither a tenant ID nor a domain name: {reason}. Enter the tenant ID \
         GUID or a verified domain such as contoso.onmicrosoft.com or contoso.com."
    )]
    BadDomain {
        value: String,
        reason: DomainProblem,
    },
}

/// Why a text is not a usable DNS name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainProblem {
    /// A character other than a letter, digit, hyphen or dot.
    Character(char),
    /// Two dots in a row, or a dot at either end.
    EmptyLabel,
    /// A part between dots longer than 63 characters.
    LabelTooLong,
    /// A part starting or ending with a hyphen.
    HyphenAtEdge,
    /// More than 253 characters.
    TooLong,
    /// No dot: a domain needs a top-level domain such as `.com`.
    NoTopLevelDomain,
    /// The last part is not letters only (at least two).
    BadTopLevelDomain,
}

impl fmt::Display for DomainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainProblem::Character(c) => write!(
                f,
                "'{}' is not allowed (use letters, digits, hyphens and dots)",
                c.escape_default()
            ),
            DomainProblem::EmptyLabel => f.write_str("it has an empty part between dots"),
            DomainProblem::LabelTooLong => {
                f.write_str("a part between dots is longer than 63 characters")
            }
            DomainProblem::HyphenAtEdge => {
                f.write_str("a part between dots starts or ends with a hyphen")
            }
            DomainProblem::TooLong => f.write_str("it is longer than 253 characters"),
            DomainProblem::NoTopLevelDomain => {
                f.write_str("it has no top-level domain such as .com")
            }
            DomainProblem::BadTopLevelDomain => {
                f.write_str("its last part is not a top-level domain such as .com")
            }
        }
    }
}

/// Checks a DNS name: labels of letters, digits and hyphens separated by dots.
/// With `need_tld`, at least two labels and an alphabetic last label.
fn check_dns_name(name: &str, need_tld: bool) -> Result<(), DomainProblem> {
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(DomainProblem::Character(c));
    }
    if name.len() > 253 {
        return Err(DomainProblem::TooLong);
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(DomainProblem::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(DomainProblem::LabelTooLong);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainProblem::HyphenAtEdge);
        }
    }
    let tld = name.rsplit('.').next().unwrap_or(name);
    if need_tld && !name.contains('.') {
        return Err(DomainProblem::NoTopLevelDomain);
    }
    if need_tld && (tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic())) {
        return Err(DomainProblem::BadTopLevelDomain);
    }
    Ok(())
}

/// Checks a tenant ID: a GUID (braces allowed) or a verified domain name.
pub fn tenant_id(input: &str) -> Result<TenantId, TenantIdError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(TenantIdError::Empty);
    }
    if let Some(g) = normalise_guid(s) {
        return Ok(TenantId::Guid(g));
    }
    let lower = s.to_ascii_lowercase();
    if s.contains("://") || s.contains('/') {
        return Err(TenantIdError::WebAddress(s.to_string()));
    }
    if s.contains('@') {
        return Err(TenantIdError::EmailAddress(s.to_string()));
    }
    if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
        return Err(TenantIdError::MultiTenantAlias(s.to_string()));
    }
    if looks_like_guid_attempt(s) {
        return Err(TenantIdError::MalformedGuid(s.to_string()));
    }
    check_dns_name(&lower, true).map_err(|reason| TenantIdError::BadDomain {
        value: s.to_string(),
        reason,
    })?;
    Ok(TenantId::Domain(lower))
}

/// Hex digits and hyphens only, with at least one hyphen and 20+ digits: an
/// attempt at a GUID that lost or gained characters.
fn looks_like_guid_attempt(s: &str) -> bool {
    let s = s.trim_start_matches('{').trim_end_matches('}');
    let digits = s.chars().filter(|c| c.is_ascii_hexdigit()).count();
    s.contains('-') && digits >= 20 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

// ----------------------------------------------------------- application ID

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationIdError {
    #[error(
        "Enter the application ID: the Application (client) ID GUID shown on the \
         application's Overview page in the Entra admin center."
    )]
    Empty,
    #[error(
        "'{0}' is not an application ID. It is a GUID in the form \
         xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: copy the Application (client) ID from the \
         application's Overview page in the Entra admin center."
    )]
    NotAGuid(String),
}

/// Checks an application (client) ID and returns it lower-case.
pub fn application_id(input: &str) -> Result<String, ApplicationIdError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ApplicationIdError::Empty);
    }
    normalise_guid(s).ok_or_else(|| ApplicationIdError::NotAGuid(s.to_string()))
}

// ----------------------------------------------------- Restore Portal address

/// The host part of a Restore Portal web address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortalHost {
    Ipv4([u8; 4]),
    /// A DNS host name, lower-case.
    Dns(String),
}

impl fmt::Display for PortalHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortalHost::Ipv4([a, b, c, d]) => write!(f, "{a}.{b}.{c}.{d}"),
            PortalHost::Dns(name) => f.write_str(name),
        }
    }
}

/// A checked Restore Portal web address, to register as a redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalAddress {
    pub host: PortalHost,
    pub port: u16,
    /// Whether the admin ended the address with `/` (kept in the redirect URI).
    pub trailing_slash: bool,
}

impl PortalAddress {
    /// `https://<host>:<port>` (plus `/` if the admin typed one), lower-case
    /// host: the redirect URI to register.
    pub fn redirect_uri(&self) -> String {
        let slash = if self.trailing_slash { "/" } else { "" };
        format!("https://{}:{}{slash}", self.host, self.port)
    }
}

impl fmt::Display for PortalAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redirect_uri())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortalAddressError {
    #[error("Enter the Restore Portal web address, for example {PORTAL_EXAMPLES}.")]
    Empty,
    #[error(
        "The web address is {0} characters long; Entra accepts at most 256. \
         Use a shorter host name, for example https://portal.abc.com:4443."
    )]
    TooLong(usize),
    #[error("Remove the spaces from the web address; for example {PORTAL_EXAMPLES}.")]
    Whitespace,
    #[error(
        "The web address contains '{0}', which Entra does not allow in a redirect URI \
         (none of ! $ ' ( ) , ; may appear). Use only the host and port, for example \
         {PORTAL_EXAMPLES}."
    )]
    ForbiddenCharacter(char),
    #[error("Start the web address with https://, for example {PORTAL_EXAMPLES}.")]
    MissingScheme,
    #[error(
        "The Restore Portal is served over HTTPS only: replace '{0}://' with 'https://', \
         for example {PORTAL_EXAMPLES}."
    )]
    NotHttps(String),
    #[error(
        "Remove the user name part (before '@') from the web address; enter only the host \
         and port, for example {PORTAL_EXAMPLES}."
    )]
    UserInfo,
    #[error(
        "The web address has no host name or IPv4 address after https://; for example {PORTAL_EXAMPLES}."
    )]
    MissingHost,
    #[error(
        "IPv6 addresses are not supported for the Restore Portal. Use its public IPv4 \
         address or DNS name, for example {PORTAL_EXAMPLES}."
    )]
    Ipv6,
    #[error(
        "'{0}' is not a valid IPv4 address (four numbers from 0 to 255 separated by dots). \
         For example https://135.169.170.192:4443."
    )]
    BadIpv4(String),
    #[error(
        "'{value}' is not a valid DNS host name: {reason}. For example https://portal.abc.com:4443."
    )]
    BadHostName {
        value: String,
        reason: DomainProblem,
    },
    #[error(
        "Add the port after the host: the Restore Portal uses port 4443 unless you changed \
         it in the REST API settings, for example {PORTAL_EXAMPLES}."
    )]
    MissingPort,
    #[error(
        "'{0}' is not a port number: use a number from 1 to 65535 (by default 4443, as set \
         in the REST API settings)."
    )]
    BadPort(String),
    #[error(
        "Remove the path '{0}': the Restore Portal web address is only https://<host>:<port>, \
         for example {PORTAL_EXAMPLES}."
    )]
    Path(String),
    #[error(
        "Remove the query ('?…') from the web address: enter only https://<host>:<port>, \
         for example {PORTAL_EXAMPLES}."
    )]
    Query,
    #[error(
        "Remove the fragment ('#…') from the web address: enter only https://<host>:<port>, \
         for example {PORTAL_EXAMPLES}."
    )]
    Fragment,
}

/// Checks a Restore Portal web address: `https://<IPv4 or DNS name>:<port>`,
/// optionally ending in a single `/`.
pub fn portal_address(input: &str) -> Result<PortalAddress, PortalAddressError> {
    use PortalAddressError as E;
    let s = input.trim();
    if s.is_empty() {
        return Err(E::Empty);
    }
    let len = s.chars().count();
    if len > MAX_PORTAL_ADDRESS_LEN {
        return Err(E::TooLong(len));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(E::Whitespace);
    }
    if let Some(c) = s.chars().find(|c| FORBIDDEN_URI_CHARS.contains(c)) {
        return Err(E::ForbiddenCharacter(c));
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(E::MissingScheme);
    };
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(E::NotHttps(scheme.to_string()));
    }

    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let trailing_slash = match tail {
        "" => false,
        "/" => true,
        t if t.starts_with('?') => return Err(E::Query),
        t if t.starts_with('#') => return Err(E::Fragment),
        t if t.contains('?') => return Err(E::Query),
        t if t.contains('#') => return Err(E::Fragment),
        t => return Err(E::Path(t.to_string())),
    };

    if authority.contains('@') {
        return Err(E::UserInfo);
    }
    if authority.starts_with('[') {
        return Err(E::Ipv6);
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(E::MissingHost);
    }
    if host.contains(':') {
        return Err(E::Ipv6);
    }
    let host = parse_host(host)?;
    let port = match port {
        None | Some("") => return Err(E::MissingPort),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n >= 1 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(E::BadPort(p.to_string())),
        },
    };
    Ok(PortalAddress {
        host,
        port,
        trailing_slash,
    })
}

fn parse_host(host: &str) -> Result<PortalHost, PortalAddressError> {
    let lower = host.to_ascii_lowercase();
    // Digits and dots only: it is meant as an IPv4 address.
    if lower.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_ipv4(&lower)
            .map(PortalHost::Ipv4)
            .ok_or_else(|| PortalAddressError::BadIpv4(host.to_string()));
    }
    check_dns_name(&lower, false).map_err(|reason| PortalAddressError::BadHostName {
        value: host.to_string(),
        reason,
    })?;
    // A last label of digits only (1.2.3.x9 aside) is not a DNS name either.
    if lower
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(PortalAddressError::BadHostName {
            value: host.to_string(),
            reason: DomainProblem::BadTopLevelDomain,
        });
    }
    Ok(PortalHost::Dns(lower))
}

/// Dotted-quad IPv4; leading zeros are refused (they read as octal elsewhere).
fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for slot in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

// ------------------------------------------------------------ client secret

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientSecretError {
    #[error(
        "Enter the client secret's Value, copied when the secret was created \
         (Certificates & secrets page). If it is lost, create a new secret."
    )]
    Empty,
}

/// Something about a secret that is probably a mistake but not certainly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretWarning {
    #[error(
        "This looks like the secret's ID (a GUID), not its Value. Entra rejects the ID \
         with AADSTS7000215: copy the Value column, shown only once when the secret was \
         created, or create a new secret."
    )]
    LooksLikeSecretId,
    #[error(
        "The secret starts or ends with spaces or line breaks, which are not part of a \
         client secret; check that it was copied exactly."
    )]
    SurroundingWhitespace,
}

/// Checks a client secret without copying it. Returns the warnings to show
/// (empty when it looks right).
pub fn client_secret(input: &str) -> Result<Vec<SecretWarning>, ClientSecretError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ClientSecretError::Empty);
    }
    let mut warnings = Vec::new();
    if normalise_guid(trimmed).is_some() {
        warnings.push(SecretWarning::LooksLikeSecretId);
    }
    if trimmed.len() != input.len() {
        warnings.push(SecretWarning::SurroundingWhitespace);
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn guid_shape() {
        assert!(is_guid(GUID));
        assert!(is_guid("72F988BF-86F1-41AF-91AB-2D7CD011DB47"));
        assert!(!is_guid("72f988bf86f141af91ab2d7cd011db47"));
        assert!(!is_guid("72f988bf-86f1-41af-91ab-2d7cd011db4"));
        assert!(!is_guid("72f988bf-86f1-41af-91ab-2d7cd011db4g"));
    }

    #[test]
    fn tenant_id_accepts_guid_and_domains() {
        assert_eq!(tenant_id(GUID), Ok(TenantId::Guid(GUID.into())));
        assert_eq!(
            tenant_id(" {72F988BF-86F1-41AF-91AB-2D7CD011DB47} "),
            Ok(TenantId::Guid(GUID.into()))
        );
        assert_eq!(
            tenant_id("Contoso.onmicrosoft.com"),
            Ok(TenantId::Domain("contoso.onmicrosoft.com".into()))
        );
        assert_eq!(
            tenant_id("contoso-eu.com").map(|t| t.to_string()),
            Ok("contoso-eu.com".to_string())
        );
        assert_eq!(
            tenant_id("fabrikam.partner.onmschina.cn").unwrap().as_str(),
            "fabrikam.partner.onmschina.cn"
        );
    }

    #[test]
    fn tenant_id_errors_are_specific() {
        assert_eq!(tenant_id("  "), Err(TenantIdError::Empty));
        assert_eq!(
            tenant_id("72f988bf-86f1-41af-91ab-2d7cd011db4"),
            Err(TenantIdError::MalformedGuid(
                "72f988bf-86f1-41af-91ab-2d7cd011db4".into()
            ))
        );
        assert!(matches!(
            tenant_id("https://login.microsoftonline.com/contoso.com"),
            Err(TenantIdError::WebAddress(_))
        ));
        assert!(matches!(
            tenant_id("admin@contoso.com"),
            Err(TenantIdError::EmailAddress(_))
        ));
        assert!(matches!(
            tenant_id("organizations"),
            Err(TenantIdError::MultiTenantAlias(_))
        ));
        let bad = |s: &str| match tenant_id(s) {
            Err(TenantIdError::BadDomain { reason, .. }) => reason,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(bad("contoso"), DomainProblem::NoTopLevelDomain);
        assert_eq!(bad("contoso_corp.com"), DomainProblem::Character('_'));
        assert_eq!(bad("contoso..com"), DomainProblem::EmptyLabel);
        assert_eq!(bad("-contoso.com"), DomainProblem::HyphenAtEdge);
        assert_eq!(bad("contoso.c0m"), DomainProblem::BadTopLevelDomain);
        assert_eq!(
            bad(&format!("{}.com", "a".repeat(64))),
            DomainProblem::LabelTooLong
        );
        let msg = tenant_id("contoso").unwrap_err().to_string();
        assert!(msg.contains("contoso.onmicrosoft.com"), "{msg}");
    }

    #[test]
    fn application_id_is_a_guid() {
        assert_eq!(application_id(&GUID.to_uppercase()), Ok(GUID.to_string()));
        assert_eq!(application_id(""), Err(ApplicationIdError::Empty));
        assert_eq!(
            application_id("My backup app"),
            Err(ApplicationIdError::NotAGuid("My backup app".into()))
        );
        assert!(
            application_id("x")
                .unwrap_err()
                .to_string()
                .contains("Overview")
        );
    }

    #[test]
    fn portal_address_accepts_the_documented_forms() {
        let ip = portal_address("https://135.169.170.192:4443").unwrap();
        assert_eq!(ip.host, PortalHost::Ipv4([135, 169, 170, 192]));
        assert_eq!(ip.port, 4443);
        assert_eq!(ip.redirect_uri(), "https://135.169.170.192:4443");

        let dns = portal_address(" HTTPS://Portal.ABC.com:4443/ ").unwrap();
        assert_eq!(dns.host, PortalHost::Dns("portal.abc.com".into()));
        assert_eq!(dns.redirect_uri(), "https://portal.abc.com:4443/");
        assert_eq!(portal_address("https://vbo365:1").unwrap().port, 1);
        assert_eq!(portal_address("https://vbo365:65535").unwrap().port, 65535);
    }

    #[test]
    fn portal_address_errors_are_specific() {
        use PortalAddressError as E;
        let err = |s: &str| portal_address(s).unwrap_err();
        assert_eq!(err(""), E::Empty);
        assert_eq!(
            err("http://portal.abc.com:4443"),
            E::NotHttps("http".into())
        );
        assert_eq!(err("portal.abc.com:4443"), E::MissingScheme);
        assert_eq!(err("https://portal.abc.com"), E::MissingPort);
        assert_eq!(err("https://portal.abc.com:"), E::MissingPort);
        assert_eq!(err("https://portal.abc.com:0"), E::BadPort("0".into()));
        assert_eq!(
            err("https://portal.abc.com:65536"),
            E::BadPort("65536".into())
        );
        assert_eq!(
            err("https://portal.abc.com:+443"),
            E::BadPort("+443".into())
        );
        assert_eq!(
            err("https://portal.abc.com:4443/vbo"),
            E::Path("/vbo".into())
        );
        assert_eq!(err("https://portal.abc.com:4443//"), E::Path("//".into()));
        assert_eq!(err("https://portal.abc.com:4443?x=1"), E::Query);
        assert_eq!(err("https://portal.abc.com:4443/a?x=1"), E::Query);
        assert_eq!(err("https://portal.abc.com:4443#top"), E::Fragment);
        assert_eq!(err("https://admin@portal.abc.com:4443"), E::UserInfo);
        assert_eq!(err("https://[2001:db8::1]:4443"), E::Ipv6);
        assert_eq!(err("https://:4443"), E::MissingHost);
        assert_eq!(err("https://portal abc.com:4443"), E::Whitespace);
        assert_eq!(
            err("https://135.169.170.256:4443"),
            E::BadIpv4("135.169.170.256".into())
        );
        assert_eq!(
            err("https://135.169.170:4443"),
            E::BadIpv4("135.169.170".into())
        );
        assert_eq!(
            err("https://135.169.070.1:4443"),
            E::BadIpv4("135.169.070.1".into())
        );
        assert!(matches!(
            err("https://portal_1.abc.com:4443"),
            E::BadHostName {
                reason: DomainProblem::Character('_'),
                ..
            }
        ));
        assert!(matches!(
            err("https://portal.abc-.com:4443"),
            E::BadHostName {
                reason: DomainProblem::HyphenAtEdge,
                ..
            }
        ));
        assert!(matches!(
            err("https://1.2.3.4x.5:4443"),
            E::BadHostName {
                reason: DomainProblem::BadTopLevelDomain,
                ..
            }
        ));
        for c in ['!', '$', '\'', '(', ')', ',', ';'] {
            assert_eq!(
                err(&format!("https://portal{c}.abc.com:4443")),
                E::ForbiddenCharacter(c)
            );
        }
        let long = format!("https://{}.abc.com:4443", "a".repeat(250));
        assert_eq!(err(&long), E::TooLong(long.len()));
    }

    #[test]
    fn portal_messages_suggest_port_and_examples() {
        let missing = portal_address("https://portal.abc.com")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("4443"), "{missing}");
        let scheme = portal_address("http://portal.abc.com:4443")
            .unwrap_err()
            .to_string();
        assert!(scheme.contains("https://135.169.170.192:4443"), "{scheme}");
        assert!(scheme.contains("https://portal.abc.com:4443"), "{scheme}");
    }

    #[test]
    fn client_secret_warns_about_pasted_secret_id() {
        assert_eq!(client_secret(""), Err(ClientSecretError::Empty));
        assert_eq!(client_secret(" \n"), Err(ClientSecretError::Empty));
        assert_eq!(
            client_secret("Xyz8Q~abcDEFghiJKLmnoPQRstuVWXyz0123456.-_"),
            Ok(vec![])
        );
        assert_eq!(
            client_secret(GUID),
            Ok(vec![SecretWarning::LooksLikeSecretId])
        );
        assert_eq!(
            client_secret("Xyz8Q~abcDEF\n"),
            Ok(vec![SecretWarning::SurroundingWhitespace])
        );
        let msg = SecretWarning::LooksLikeSecretId.to_string();
        assert!(
            msg.contains("AADSTS7000215") && msg.contains("Value"),
            "{msg}"
        );
    }
}
