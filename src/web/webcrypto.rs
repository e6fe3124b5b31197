//! The browser's WebCrypto, in the page's crypto worker: RSA key generation
//! (native code, ~10× faster than pure-Rust keygen in wasm; the key is
//! exported as PKCS#8 straight into `core`, and the exported copy is
//! zeroized) and PBKDF2 for the PBES2 bags of a PFX (native, several
//! derivations at once).

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use crate::core::inspect::Pbkdf2Deriver;
use crate::core::key::RsaKey;
use crate::core::keygen::{KeyGenerator, KeySize, KeygenError};
use crate::core::pfx::{DerivedKeys, Pbkdf2Job};

/// `crypto.subtle` of the global scope: a window or a worker.
fn subtle() -> Result<web_sys::SubtleCrypto, JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())?;
    let subtle = Reflect::get(&crypto, &"subtle".into())?;
    // Undefined outside a secure context (HTTPS or localhost).
    subtle
        .dyn_into::<web_sys::SubtleCrypto>()
        .map_err(|_| JsValue::from_str("crypto.subtle is missing"))
}

/// PBKDF2 with WebCrypto.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebCryptoPbkdf2;

impl Pbkdf2Deriver for WebCryptoPbkdf2 {
    type Started = Vec<(Pbkdf2Job, JsFuture)>;

    async fn start(&self, password: &[u8], jobs: &[Pbkdf2Job]) -> Self::Started {
        let mut started = Vec::with_capacity(jobs.len());
        let Ok(subtle) = subtle() else {
            return started;
        };
        let raw = Uint8Array::from(password);
        let imported = subtle.import_key_with_str(
            "raw",
            &raw,
            "PBKDF2",
            false,
            &Array::of1(&"deriveBits".into()),
        );
        let key = match imported {
            Ok(p) => JsFuture::from(p).await,
            Err(e) => Err(e),
        };
        raw.fill(0, 0, raw.length());
        // A browser that refuses (an empty password, say) leaves the jobs
        // to Rust.
        let Ok(key) = key else {
            return started;
        };
        let key: web_sys::CryptoKey = key.unchecked_into();
        // Each derivation is under way once deriveBits returns: WebCrypto
        // runs them on threads of its own, together, while this one goes on.
        for job in jobs {
            let params = Object::new();
            let set = |k: &str, v: &JsValue| Reflect::set(&params, &k.into(), v).map(|_| ());
            let promise = set("name", &"PBKDF2".into())
                .and_then(|()| set("hash", &job.prf.webcrypto_name().into()))
                .and_then(|()| set("salt", &Uint8Array::from(&job.salt[..]).into()))
                .and_then(|()| set("iterations", &job.iterations.into()))
                .and_then(|()| {
                    subtle.derive_bits_with_object(&params, &key, (job.key_len * 8) as u32)
                });
            if let Ok(promise) = promise {
                started.push((job.clone(), JsFuture::from(promise)));
            }
        }
        started
    }

    async fn finish(&self, started: Self::Started) -> DerivedKeys {
        let mut out = DerivedKeys::new();
        for (job, derivation) in started {
            if let Ok(bits) = derivation.await {
                let view = Uint8Array::new(&bits);
                let bytes = Zeroizing::new(view.to_vec());
                view.fill(0, 0, view.length());
                out.insert(job, bytes);
            }
        }
        out
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct WebCryptoKeyGenerator;

fn failed(what: &str, e: JsValue) -> KeygenError {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    KeygenError::Failed(format!("{what}: {detail}"))
}

impl KeyGenerator for WebCryptoKeyGenerator {
    async fn generate(&self, size: KeySize) -> Result<RsaKey, KeygenError> {
        let subtle = subtle().map_err(|e| {
            failed(
                "WebCrypto is not available (the page must be served over HTTPS or from localhost)",
                e,
            )
        })?;

        let algorithm = Object::new();
        let set = |k: &str, v: &JsValue| Reflect::set(&algorithm, &k.into(), v).map(|_| ());
        set("name", &"RSASSA-PKCS1-v1_5".into())
            .and_then(|()| set("modulusLength", &(size.bits() as u32).into()))
            .and_then(|()| set("publicExponent", &Uint8Array::from(&[1u8, 0, 1][..]).into()))
            .and_then(|()| set("hash", &"SHA-256".into()))
            .map_err(|e| failed("building the key request", e))?;
        let usages = Array::of2(&"sign".into(), &"verify".into());

        let pair = JsFuture::from(
            subtle
                .generate_key_with_object(&algorithm, true, &usages)
                .map_err(|e| failed("generateKey", e))?,
        )
        .await
        .map_err(|e| failed("generateKey", e))?;
        let private: web_sys::CryptoKey = Reflect::get(&pair, &"privateKey".into())
            .map_err(|e| failed("reading the key pair", e))?
            .unchecked_into();
        let exported = JsFuture::from(
            subtle
                .export_key("pkcs8", &private)
                .map_err(|e| failed("exportKey", e))?,
        )
        .await
        .map_err(|e| failed("exportKey", e))?;
        let view = Uint8Array::new(&exported);
        let pkcs8 = Zeroizing::new(view.to_vec());
        // Overwrite the JS-side copy too; the CryptoKey itself is dropped
        // with `pair` and never leaves this function.
        view.fill(0, 0, view.length());
        RsaKey::from_pkcs8_der(&pkcs8).map_err(|e| KeygenError::Failed(e.to_string()))
    }
}
