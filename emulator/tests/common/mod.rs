//! Shared helpers: start an emulator in-process on 127.0.0.1:0 and talk to it
//! over real HTTP.
#![allow(dead_code)]

use entra_emulator::faults::FaultConfig;
use entra_emulator::{Config, RunningEmulator, start};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub struct Env {
    pub emu: RunningEmulator,
    pub http: Client,
    pub seed: Value,
}

pub async fn env_with(seed: &str, faults: &str) -> Env {
    let config = Config {
        seed: seed.into(),
        faults: FaultConfig::default()
            .apply_spec(faults)
            .expect("valid faults"),
        ..Config::default()
    };
    let emu = start(config).await.expect("emulator starts");
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let seed = http
        .get(format!("{}/_emulator/seed", emu.base_url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    Env { emu, http, seed }
}

pub async fn env() -> Env {
    env_with("demo", "").await
}

impl Env {
    pub fn tenant(&self) -> String {
        self.seed["tenant"]["id"].as_str().unwrap().to_string()
    }
    pub fn client_id(&self) -> String {
        self.seed["client"]["appId"].as_str().unwrap().to_string()
    }
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.emu.login_url, self.tenant())
    }
    pub fn upn(&self, name: &str) -> String {
        format!("{name}@{}", self.seed["tenant"]["domain"].as_str().unwrap())
    }
    pub fn user_id(&self, name: &str) -> String {
        let upn = self.upn(name);
        self.seed["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["userPrincipalName"] == upn.as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
    pub fn service_app(&self, scenario: &str) -> Value {
        self.seed["serviceApps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["scenario"] == scenario)
            .unwrap()
            .clone()
    }

    /// The object ID of the demo's service application in `scenario`.
    pub fn service_object_id(&self, scenario: &str) -> String {
        self.service_app(scenario)["objectId"]
            .as_str()
            .unwrap()
            .to_string()
    }
    pub fn subscription(&self, name: &str) -> String {
        self.seed["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["displayName"] == name)
            .unwrap()["subscriptionId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn token_form(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.token_url())
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A delegated token for a seeded user through ROPC.
    pub async fn user_token(&self, name: &str, scope: &str) -> String {
        let upn = self.upn(name);
        let client = self.client_id();
        let resp = self
            .token_form(&[
                ("grant_type", "password"),
                ("client_id", &client),
                ("username", &upn),
                ("password", "Demo-Passw0rd!"),
                ("scope", scope),
            ])
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "token for {name}");
        resp.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn graph_token(&self, name: &str) -> String {
        self.user_token(
            name,
            "https://graph.microsoft.com/.default offline_access openid profile",
        )
        .await
    }

    pub async fn arm_token(&self, name: &str) -> String {
        self.user_token(name, "https://management.azure.com/.default")
            .await
    }

    pub fn graph(&self, path: &str) -> String {
        format!("{}/v1.0/{path}", self.emu.graph_url)
    }
    pub fn arm(&self, path: &str) -> String {
        format!("{}/{path}", self.emu.arm_url)
    }

    pub async fn get(&self, url: &str, token: &str) -> (StatusCode, Value) {
        let r = self.http.get(url).bearer_auth(token).send().await.unwrap();
        split(r).await
    }
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .request(method, url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        split(r).await
    }
    pub async fn post(&self, url: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, url, token, body).await
    }
    /// Creates an application as `token`'s user; fails the test unless Graph
    /// answers 201 Created.
    pub async fn create_app(&self, token: &str, body: Value) -> Value {
        let (status, app) = self.post(&self.graph("applications"), token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{app}");
        app
    }
    pub async fn patch(&self, url: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, url, token, body).await
    }
    pub async fn put(&self, url: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, url, token, body).await
    }
    pub async fn delete(&self, url: &str, token: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .delete(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        split(r).await
    }
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_emulator/{path}", self.emu.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.unwrap()
    }
    /// `GET /_emulator/{path}` (requests, state, throttle…).
    pub async fn control_get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/_emulator/{path}", self.emu.base_url))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.unwrap()
    }
    /// A browser's CORS preflight for `method` with a token and a JSON body.
    pub async fn preflight(&self, url: &str, origin: &str, method: &str) -> Response {
        self.http
            .request(reqwest::Method::OPTIONS, url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap()
    }
    pub async fn advance(&self, seconds: i64) {
        self.control("clock", json!({ "advance_seconds": seconds }))
            .await;
    }
}

pub async fn split(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The AADSTS code from a token error body.
pub fn aadsts(v: &Value) -> u64 {
    v["error_codes"][0].as_u64().unwrap_or(0)
}

/// Decodes a JWT's claims without verifying it.
pub fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims
}

/// The emulator's current time (Unix seconds).
pub async fn now(env: &Env) -> i64 {
    let v: Value = env
        .http
        .get(format!("{}/_emulator/clock", env.emu.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["unix"].as_i64().unwrap()
}

/// Signs a client assertion (RS256 with x5t, or PS256 with x5t#S256).
pub fn assertion(
    key_pem: &str,
    cert_der: &[u8],
    client_id: &str,
    aud: &str,
    alg: jsonwebtoken::Algorithm,
    now: i64,
) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use sha2::Digest;
    let key = entra_emulator::certs::private_key(key_pem);
    let der = key.to_pkcs1_der().unwrap();
    let mut header = jsonwebtoken::Header::new(alg);
    if alg == jsonwebtoken::Algorithm::PS256 {
        header.x5t_s256 = Some(Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(
            cert_der,
        )));
    } else {
        header.x5t = Some(Base64UrlUnpadded::encode_string(&sha1::Sha1::digest(
            cert_der,
        )));
    }
    let claims = json!({"aud": aud, "iss": client_id, "sub": client_id, "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "iat": now, "exp": now + 600});
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
    )
    .unwrap()
}

/// A proof-of-possession JWT for addKey/removeKey.
pub fn proof(key_pem: &str, cert_der: &[u8], app_object_id: &str, now: i64) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use sha2::Digest;
    let key = entra_emulator::certs::private_key(key_pem);
    let der = key.to_pkcs1_der().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5t = Some(Base64UrlUnpadded::encode_string(&sha1::Sha1::digest(
        cert_der,
    )));
    let claims = json!({"aud": "00000002-0000-0000-c000-000000000000", "iss": app_object_id, "nbf": now, "exp": now + 600});
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
    )
    .unwrap()
}

/// base64 DER of a certificate, as Graph's keyCredentials.key.
pub fn b64(der: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    Base64::encode_string(der)
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use sha2::Digest;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}
