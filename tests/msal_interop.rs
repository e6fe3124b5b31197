//! Microsoft's own client library against the emulator: MSAL Python (PyPI
//! `msal`) obtains app-only tokens from the emulator's HTTPS listener, with
//! the PFX the page generates for download and with a client secret the page
//! created through `addPassword`, the way the services this page connects
//! authenticate.
//!
//! MSAL insists on an `https` authority, so the emulator serves HTTPS with a
//! certificate it generated (`Config::tls_listen`) and `REQUESTS_CA_BUNDLE`
//! trusts its CA. `validate_authority=False` and `instance_discovery=False`
//! keep MSAL from asking login.microsoftonline.com about the authority.
//! https://learn.microsoft.com/en-us/entra/msal/python/getting-started/acquire-token-client-credentials

mod flows_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use entra_emulator::{Config, RunningEmulator};
use entra_wizard::client::ApiClient;
use entra_wizard::cloud::Cloud;
use entra_wizard::core::keygen::RsaKeyGenerator;
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::certificate::{self, CertificateSource};
use entra_wizard::graph;
use entra_wizard::http::{RetryPolicy, Sleeper};
use flows_support::{GRAPH_APP_ID, Native};
use serde_json::{Value, json};

const PASSWORD: &str = "Correct-Horse-Battery-9";
/// Microsoft Graph's Application.Read.All app role.
const APPLICATION_READ_ALL: &str = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30";

/// MSAL Python: one app-only token per credential given on the command line
/// (`pfx:PATH:PASSWORD`, `pem:PATH:THUMBPRINT`, `secret:TEXT`), as JSON.
const MSAL_SCRIPT: &str = r#"
import json, sys, msal
authority, client_id = sys.argv[1], sys.argv[2]
out = []
for spec in sys.argv[3:]:
    kind, _, rest = spec.partition(":")
    if kind == "pfx":
        path, _, password = rest.partition(":")
        credential = {"private_key_pfx_path": path, "passphrase": password}
        if tuple(int(p) for p in msal.__version__.split(".")[:2]) < (1, 29):
            # Before MSAL 1.29 (Debian's python3-msal): the PFX's key and SHA-1 thumbprint.
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.serialization import pkcs12
            key, cert, _ = pkcs12.load_key_and_certificates(open(path, "rb").read(), password.encode())
            credential = {"thumbprint": cert.fingerprint(hashes.SHA1()).hex(), "private_key": key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()}
    elif kind == "pem":
        path, _, thumbprint = rest.partition(":")
        credential = {"private_key": open(path).read(), "thumbprint": thumbprint}
    else:
        credential = rest
    app = msal.ConfidentialClientApplication(
        client_id, authority=authority, client_credential=credential,
        validate_authority=False, instance_discovery=False)
    out.append(app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"]))
print(json.dumps(out))
"#;

/// Writes the PFX's private key as PKCS#8 PEM (Python `cryptography`, which
/// MSAL itself needs).
const PFX_TO_PEM: &str = r#"
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
key, cert, _ = pkcs12.load_key_and_certificates(open(sys.argv[1], "rb").read(), sys.argv[2].encode())
open(sys.argv[3], "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
"#;

/// `python3` with `msal` importable: installs it from PyPI when missing (as
/// `cargo xtask test` does); `None` only when Python or pip is unavailable.
fn python_with_msal() -> Option<&'static str> {
    let has = || {
        Command::new("python3")
            .args(["-c", "import msal, cryptography"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has() {
        return Some("python3");
    }
    let installed = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "msal"])
        .status()
        .is_ok_and(|s| s.success());
    if installed && has() {
        Some("python3")
    } else {
        eprintln!(
            "SKIPPED: MSAL Python is not installed and pip cannot install it \
             (python3 -m pip install msal); cargo xtask test installs it"
        );
        None
    }
}

struct TokioSleeper;

impl Sleeper for TokioSleeper {
    async fn sleep(&self, millis: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
}

struct Tenant {
    emulator: RunningEmulator,
    https: String,
    ca_file: PathBuf,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    seed: Value,
}

impl Tenant {
    async fn start() -> Tenant {
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("emulator-ca.pem");
        let emulator = entra_emulator::start(Config {
            tls_listen: Some("127.0.0.1:0".parse().unwrap()),
            tls_ca_file: Some(ca_file.clone()),
            ..Config::default()
        })
        .await
        .expect("emulator starts");
        let https = emulator.tls_url.clone().expect("HTTPS listener");
        let seed = emulator.seed();
        Tenant {
            emulator,
            https,
            ca_file,
            dir,
            http: reqwest::Client::new(),
            seed,
        }
    }

    fn tenant_id(&self) -> String {
        self.seed["tenant"]["id"].as_str().unwrap().to_string()
    }

    fn graph(&self, path: &str) -> String {
        format!("{}/v1.0/{path}", self.emulator.graph_url)
    }

    async fn admin_token(&self) -> String {
        let form = [
            ("grant_type", "password".to_string()),
            (
                "client_id",
                self.seed["client"]["appId"].as_str().unwrap().into(),
            ),
            (
                "username",
                format!("admin@{}", self.seed["tenant"]["domain"].as_str().unwrap()),
            ),
            ("password", self.seed["password"].as_str().unwrap().into()),
            ("scope", "https://graph.microsoft.com/.default".into()),
        ];
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.emulator.login_url,
            self.tenant_id()
        );
        let r = json_of(self.http.post(url).form(&form)).await;
        r["access_token"].as_str().expect("admin token").to_string()
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.graph(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// A new application and service principal holding Graph's
    /// Application.Read.All app role: `(object id, appId)`.
    async fn service_app(&self, admin: &str, name: &str) -> (String, String) {
        let app = self
            .post(admin, "applications", json!({"displayName": name}))
            .await;
        let app_id = app["appId"].as_str().unwrap().to_string();
        let sp = self
            .post(admin, "servicePrincipals", json!({"appId": app_id}))
            .await;
        let url = self.graph(&format!("servicePrincipals(appId='{GRAPH_APP_ID}')"));
        let graph_sp = json_of(self.http.get(url).bearer_auth(admin)).await;
        self.post(
            admin,
            &format!(
                "servicePrincipals/{}/appRoleAssignedTo",
                graph_sp["id"].as_str().unwrap()
            ),
            json!({
                "principalId": sp["id"],
                "resourceId": graph_sp["id"],
                "appRoleId": APPLICATION_READ_ALL,
            }),
        )
        .await;
        (app["id"].as_str().unwrap().to_string(), app_id)
    }

    /// Runs [`MSAL_SCRIPT`] against the HTTPS authority (on a blocking
    /// thread: the emulator answers on this test's runtime).
    async fn msal(&self, python: &str, app_id: &str, credentials: &[String]) -> Vec<Value> {
        let authority = format!("{}/login/{}", self.https, self.tenant_id());
        let mut command = Command::new(python);
        command
            .args(["-c", MSAL_SCRIPT, &authority, app_id])
            .args(credentials)
            .env("REQUESTS_CA_BUNDLE", &self.ca_file);
        let out = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "MSAL Python failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("MSAL script prints JSON")
    }

    /// The token works on Graph and carries the app's identity and role.
    async fn check_token(&self, result: &Value, app_id: &str) {
        let token = result["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("MSAL got no token: {result}"));
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value =
            serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
        assert_eq!(claims["appid"], app_id);
        assert_eq!(claims["idtyp"], "app");
        assert_eq!(claims["aud"], "https://graph.microsoft.com");
        assert_eq!(claims["roles"], json!(["Application.Read.All"]));
        let r = self
            .http
            .get(self.graph(&format!("applications(appId='{app_id}')")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the MSAL token reads Graph");
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn arg(kind: &str, path: &Path, extra: &str) -> String {
    format!("{kind}:{}:{extra}", path.display())
}

#[tokio::test]
async fn msal_python_gets_app_only_tokens_with_the_pages_pfx_and_the_pages_secret() {
    let Some(python) = python_with_msal() else {
        return;
    };
    let t = Tenant::start().await;
    let ca = std::fs::read_to_string(&t.ca_file).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    let admin = t.admin_token().await;

    // The certificate the wizard generates, its PFX as the admin downloads it.
    let (object_id, app_id) = t.service_app(&admin, "MSAL with a certificate").await;
    let now = UnixTime(t.emulator.emulator.clock.now() as u64);
    let source = CertificateSource::generate("MSAL interop", PASSWORD.into(), PASSWORD.into());
    let chosen = certificate::decide(&source, &RsaKeyGenerator, now, &mut rand_core::OsRng)
        .await
        .unwrap();
    let generated = chosen.generated.expect("a generated PFX");
    let pfx = t.file(&generated.file_name);
    std::fs::write(&pfx, &*generated.pfx).unwrap();
    let r = t
        .http
        .patch(t.graph(&format!("applications/{object_id}")))
        .bearer_auth(&admin)
        .json(&json!({"keyCredentials": [{
            "type": "AsymmetricX509Cert", "usage": "Verify",
            "key": Base64::encode_string(&chosen.der),
        }]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // MSAL reads the PFX (PS256, `x5t#S256`), and the same key as PEM with
    // the SHA-1 thumbprint (RS256, `x5t` which MSAL pads with `=`).
    let pem = t.file("key.pem");
    let out = Command::new(python)
        .args(["-c", PFX_TO_PEM])
        .arg(&pfx)
        .arg(PASSWORD)
        .arg(&pem)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = t
        .msal(
            python,
            &app_id,
            &[
                arg("pfx", &pfx, PASSWORD),
                arg("pem", &pem, &generated.thumbprint),
            ],
        )
        .await;
    assert_eq!(results.len(), 2);
    for r in &results {
        t.check_token(r, &app_id).await;
    }

    // A secret created by the page's addPassword call.
    let (object_id, app_id) = t.service_app(&admin, "MSAL with a secret").await;
    let native = Native::default();
    let api = ApiClient::new(
        &native,
        &TokioSleeper,
        Cloud::Local {
            base_url: t.emulator.base_url.clone(),
        }
        .endpoints(),
        RetryPolicy::default(),
        7,
        now,
    )
    .with_graph_token(admin.clone());
    let secret = graph::add_password(&api, &object_id, "MSAL interop", None)
        .await
        .unwrap();
    let wrong = format!("{}x", secret.secret_text);
    let results = t
        .msal(
            python,
            &app_id,
            &[
                format!("secret:{}", secret.secret_text),
                format!("secret:{wrong}"),
            ],
        )
        .await;
    t.check_token(&results[0], &app_id).await;
    // Entra's answer to a wrong secret reaches MSAL's caller unchanged.
    // https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
    assert_eq!(results[1]["error"], "invalid_client", "{}", results[1]);
    assert_eq!(results[1]["error_codes"], json!([7000215]));

    // Four client-credentials requests reached the token endpoint.
    let log = json_of(
        t.http
            .get(format!("{}/_emulator/requests", t.emulator.base_url)),
    )
    .await;
    let tokens = log["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{}/oauth2/v2.0/token", t.tenant_id()))
                && e["requestBody"]
                    .as_str()
                    .unwrap()
                    .contains("grant_type=client_credentials")
        })
        .count();
    assert_eq!(tokens, 4);
    t.emulator.stop().await;
}
