//! The HTTPS listener (`--listen-tls`) and the client assertions Microsoft's
//! own libraries send: MSAL Python pads `x5t` with `=` and writes `exp`/`iat`
//! with microseconds, and Entra takes both.
// https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials

mod common;

use std::sync::Arc;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::*;
use entra_emulator::{Config, start};
use reqwest::StatusCode;
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde_json::{Value, json};
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// `GET path` over TLS, trusting only `ca_pem`: the status line and body.
async fn https_get(addr: &str, ca_pem: &str, host: &str, path: &str) -> (String, String) {
    let (label, der) = der::pem::decode_vec(ca_pem.as_bytes()).expect("CA PEM");
    assert_eq!(label, "CERTIFICATE");
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(der)).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(host.to_string()).unwrap();
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("the emulator's certificate verifies against its CA");
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

#[tokio::test]
async fn https_listener_with_a_generated_certificate_and_its_ca_written_to_a_file() {
    let dir = std::env::temp_dir().join(format!("entra-emulator-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    let emu = start(Config {
        tls_listen: Some("127.0.0.1:0".parse().unwrap()),
        tls_ca_file: Some(ca_file.clone()),
        ..Config::default()
    })
    .await
    .unwrap();
    let https = emu.tls_url.clone().unwrap();
    assert!(https.starts_with("https://127.0.0.1:"), "{https}");
    let ca = std::fs::read_to_string(&ca_file).unwrap();
    assert_eq!(Some(&ca), emu.tls_ca_pem.as_ref());
    let addr = https.trim_start_matches("https://");
    let tenant = emu.seed()["tenant"]["id"].as_str().unwrap().to_string();
    let path = format!("/login/{tenant}/v2.0/.well-known/openid-configuration");

    // The certificate names 127.0.0.1 and localhost; the discovery document
    // names the HTTPS endpoints, as Entra's names its own host.
    // https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
    for host in ["127.0.0.1", "localhost"] {
        let (status, body) = https_get(addr, &ca, host, &path).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            doc["token_endpoint"],
            format!("{https}/login/{tenant}/oauth2/v2.0/token")
        );
    }
    // The plain listener still names itself.
    let doc: Value = reqwest::get(format!("{}{path}", emu.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/{tenant}/oauth2/v2.0/token", emu.login_url)
    );
    emu.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// An assertion as MSAL Python writes it: `x5t` base64url with its `=`
/// padding, `exp`/`iat` fractional (RFC 7519 NumericDate).
fn msal_python_assertion(
    key_pem: &str,
    cert_der: &[u8],
    client_id: &str,
    aud: &str,
    now: i64,
) -> String {
    let key = entra_emulator::certs::private_key(key_pem);
    let der = key.to_pkcs1_der().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    let thumb = Base64UrlUnpadded::encode_string(&sha1::Sha1::digest(cert_der));
    header.x5t = Some(format!("{thumb}="));
    let now = now as f64 + 0.3309686;
    let claims = json!({"aud": aud, "iss": client_id, "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600.0});
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_padded_x5t_and_fractional_dates_are_accepted_an_expired_one_is_not() {
    let env = env().await;
    let now = now(&env).await;
    let app = env.service_app("missing-roles");
    let app_id = app["appId"].as_str().unwrap();
    let key_pem = app["privateKeyPem"].as_str().unwrap();
    let admin = env.graph_token("admin").await;
    let (_, body) = env
        .get(
            &env.graph(&format!(
                "applications(appId='{app_id}')?$select=id,keyCredentials"
            )),
            &admin,
        )
        .await;
    let cert_der =
        base64ct::Base64::decode_vec(body["keyCredentials"][0]["key"].as_str().unwrap()).unwrap();
    let send = |t: i64| {
        let a = msal_python_assertion(key_pem, &cert_der, app_id, &env.token_url(), t);
        env.http
            .post(env.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", app_id),
                ("scope", "https://graph.microsoft.com/.default"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a),
            ])
            .send()
    };
    let (s, ok) = split(send(now).await.unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(
        claims(ok["access_token"].as_str().unwrap())["appid"],
        app_id
    );
    // The fractional exp is still checked (AADSTS700024).
    let (s, e) = split(send(now - 3600).await.unwrap()).await;
    assert_eq!((s, aadsts(&e)), (StatusCode::UNAUTHORIZED, 700024), "{e}");
}
