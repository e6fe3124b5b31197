//! Password-based encryption and MAC for PKCS#12, on RustCrypto primitives:
//! the PKCS#12 KDF (RFC 7292 appendix B) with 3DES and RC2, PBES2 through
//! `pkcs5`, and the HMAC integrity check.

use cipher::block_padding::Pkcs7;
use cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit, KeyIvInit};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use hmac::{Mac, SimpleHmac};
use pkcs12::kdf::{Pkcs12KeyType, derive_key};
use sha2::digest::core_api::BlockSizeUser;
use sha2::digest::{Digest, FixedOutputReset};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::PfxError;
use super::oids;

/// Highest iteration count accepted in one KDF run. Real PFX files use
/// 2,000 to 600,000 (OpenSSL 3 writes 2,048, Windows 2,000 or 10,000,
/// hardened exports 600,000).
pub const MAX_ITERATIONS: u64 = 1_000_000;
/// Highest iteration count accepted over a whole file — every bag and every
/// password tried on it (no password, then the empty one) — so that a file
/// with many bags cannot freeze the page either. A 600,000-iteration file
/// (MAC, key and certificate bags) that opens with the empty password after
/// no password failed at its MAC needs 2,400,000.
pub const MAX_TOTAL_ITERATIONS: u64 = 4_000_000;

/// The password as the two encodings PKCS#12 uses: BMPString with a
/// terminating NUL for the PKCS#12 KDF, UTF-8 for PBES2.
pub(crate) struct Password {
    bmp: Zeroizing<Vec<u8>>,
    pub(super) utf8: Zeroizing<Vec<u8>>,
}

impl Password {
    /// `None`: no password (the KDF runs over an empty string). `Some("")`:
    /// the empty password (BMP "\0\0").
    pub fn new(password: Option<&str>) -> Self {
        match password {
            None => Self {
                bmp: Zeroizing::new(Vec::new()),
                utf8: Zeroizing::new(Vec::new()),
            },
            Some(p) => {
                let mut bmp = Zeroizing::new(Vec::with_capacity(p.len() * 2 + 2));
                // UTF-16 big-endian (characters beyond the BMP as surrogate
                // pairs, as OpenSSL and Windows do), then NUL.
                for unit in p.encode_utf16() {
                    bmp.extend_from_slice(&unit.to_be_bytes());
                }
                bmp.extend_from_slice(&[0, 0]);
                Self {
                    bmp,
                    utf8: Zeroizing::new(p.as_bytes().to_vec()),
                }
            }
        }
    }
}

/// Counts the KDF iterations a file makes us run: one budget per file,
/// shared by every password tried on it ([`super::import_with_budget`]).
#[derive(Debug, Default)]
pub struct IterationBudget {
    spent: u64,
}

impl IterationBudget {
    pub fn new() -> Self {
        Self::default()
    }

    /// Iterations run so far.
    pub fn spent(&self) -> u64 {
        self.spent
    }

    /// Iterations the file may still make us run.
    pub fn remaining(&self) -> u64 {
        MAX_TOTAL_ITERATIONS.saturating_sub(self.spent)
    }

    pub(crate) fn spend(&mut self, iterations: i64) -> Result<i32, PfxError> {
        if iterations < 1 {
            return Err(PfxError::corrupt(format!(
                "iteration count {iterations} is not positive"
            )));
        }
        let it = iterations as u64;
        if it > MAX_ITERATIONS {
            return Err(PfxError::TooManyIterations { iterations: it });
        }
        if self.spent + it > MAX_TOTAL_ITERATIONS {
            return Err(PfxError::TooManyIterations {
                iterations: self.spent + it,
            });
        }
        self.spent += it;
        Ok(it as i32)
    }
}

/// The PKCS#12 PBE schemes (RFC 7292 appendix C) this module handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pkcs12Cipher {
    TripleDes3Key,
    TripleDes2Key,
    Rc2_128,
    Rc2_40,
}

impl Pkcs12Cipher {
    fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match *oid {
            oids::PBE_SHA1_3DES => Self::TripleDes3Key,
            oids::PBE_SHA1_2DES => Self::TripleDes2Key,
            oids::PBE_SHA1_RC2_128 => Self::Rc2_128,
            oids::PBE_SHA1_RC2_40 => Self::Rc2_40,
            _ => return None,
        })
    }

    fn key_len(self) -> usize {
        match self {
            Self::TripleDes3Key => 24,
            Self::TripleDes2Key | Self::Rc2_128 => 16,
            Self::Rc2_40 => 5,
        }
    }
}

/// A short description of an encryption algorithm identifier, for
/// inspection ("pbeWithSHAAnd3-KeyTripleDES-CBC", "PBES2 AES-256-CBC
/// HMAC-SHA256").
pub(crate) fn describe(alg: &AlgorithmIdentifierOwned) -> String {
    if alg.oid == oids::PBES2
        && let Some(Ok(p)) = alg
            .parameters
            .as_ref()
            .map(|p| p.decode_as::<pkcs12::pbe_params::Pbes2Params>())
    {
        let prf = p
            .kdf
            .parameters
            .as_ref()
            .and_then(|k| k.decode_as::<pkcs12::pbe_params::Pbkdf2Params>().ok())
            .map(|k| super::algorithm_name(&k.prf.oid))
            .unwrap_or_else(|| "HMAC-SHA1".into());
        return format!("PBES2 {} {prf}", super::algorithm_name(&p.encryption.oid));
    }
    super::algorithm_name(&alg.oid)
}

/// The PRFs of PBKDF2 that a [`Pbkdf2Job`] names: those WebCrypto also
/// implements (a PBES2 bag with HMAC-SHA224 is derived in Rust).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prf {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Prf {
    /// The hash's name as WebCrypto spells it.
    pub fn webcrypto_name(self) -> &'static str {
        match self {
            Prf::Sha1 => "SHA-1",
            Prf::Sha256 => "SHA-256",
            Prf::Sha384 => "SHA-384",
            Prf::Sha512 => "SHA-512",
        }
    }
}

/// One PBKDF2 derivation a PBES2 bag of a PFX needs: what may run before
/// the bags are read (WebCrypto's PBKDF2 is native code and runs off the
/// thread, several at once), so that decryption then finds its key ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pbkdf2Job {
    pub prf: Prf,
    pub salt: Vec<u8>,
    pub iterations: u32,
    /// Bytes of key the bag's AES cipher takes.
    pub key_len: usize,
}

impl Pbkdf2Job {
    /// The job of a PBES2 algorithm identifier, if it is one a derived key
    /// can serve (PBKDF2 with a [`Prf`], AES-CBC).
    pub(crate) fn of(alg: &AlgorithmIdentifierOwned) -> Option<Pbkdf2Job> {
        use pkcs5::pbes2::Pbkdf2Prf;
        if alg.oid != oids::PBES2 {
            return None;
        }
        let der = alg.to_der().ok()?;
        let scheme = pkcs5::EncryptionScheme::from_der(&der).ok()?;
        let params = scheme.pbes2()?;
        let kdf = params.kdf.pbkdf2()?;
        let prf = match kdf.prf {
            Pbkdf2Prf::HmacWithSha1 => Prf::Sha1,
            Pbkdf2Prf::HmacWithSha256 => Prf::Sha256,
            Pbkdf2Prf::HmacWithSha384 => Prf::Sha384,
            Pbkdf2Prf::HmacWithSha512 => Prf::Sha512,
            _ => return None,
        };
        Some(Pbkdf2Job {
            prf,
            salt: kdf.salt.to_vec(),
            iterations: kdf.iteration_count,
            key_len: params.encryption.key_size(),
        })
    }
}

/// Keys derived ahead of decryption, each for its [`Pbkdf2Job`] and one
/// password; zeroized on drop.
#[derive(Default)]
pub struct DerivedKeys {
    keys: Vec<(Pbkdf2Job, Zeroizing<Vec<u8>>)>,
}

impl DerivedKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the key derived for `job` (ignored if its length is not the
    /// job's: then Rust derives it).
    pub fn insert(&mut self, job: Pbkdf2Job, key: Zeroizing<Vec<u8>>) {
        if key.len() == job.key_len {
            self.keys.push((job, key));
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn get(&self, job: &Pbkdf2Job) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(j, _)| j == job)
            .map(|(_, k)| k.as_slice())
    }
}

/// AES-CBC decryption with a key derived ahead ([`DerivedKeys`]).
fn decrypt_aes_cbc(
    scheme: &pkcs5::pbes2::EncryptionScheme<'_>,
    key: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, PfxError> {
    use pkcs5::pbes2::EncryptionScheme as E;
    let bad_key = |_| PfxError::corrupt("bad key or IV length");
    let out = match scheme {
        E::Aes128Cbc { iv } => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, *iv)
            .map_err(bad_key)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        E::Aes192Cbc { iv } => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, *iv)
            .map_err(bad_key)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        E::Aes256Cbc { iv } => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, *iv)
            .map_err(bad_key)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        _ => {
            return Err(PfxError::corrupt(
                "a derived key for a cipher other than AES-CBC",
            ));
        }
    };
    out.map_err(|_| PfxError::WrongPassword)
}

/// Decrypts `ciphertext` with the algorithm `alg` and the password.
/// A padding failure is reported as a wrong password. A PBES2 key found in
/// `derived` is used as is; any other is derived here.
pub(crate) fn decrypt(
    alg: &AlgorithmIdentifierOwned,
    password: &Password,
    ciphertext: &[u8],
    budget: &mut IterationBudget,
    derived: &DerivedKeys,
) -> Result<Zeroizing<Vec<u8>>, PfxError> {
    if let Some(cipher) = Pkcs12Cipher::from_oid(&alg.oid) {
        let params: pkcs12::pbe_params::Pkcs12PbeParams = alg
            .parameters
            .as_ref()
            .ok_or_else(|| PfxError::corrupt("PBE parameters are missing"))?
            .decode_as()
            .map_err(PfxError::corrupt)?;
        let rounds = budget.spend(params.iterations.into())?;
        let salt = params.salt.as_bytes();
        let key = Zeroizing::new(derive_key::<sha1::Sha1>(
            &password.bmp,
            salt,
            Pkcs12KeyType::EncryptionKey,
            rounds,
            cipher.key_len(),
        ));
        let iv = derive_key::<sha1::Sha1>(&password.bmp, salt, Pkcs12KeyType::Iv, rounds, 8);
        let bad_key = |_| PfxError::corrupt("bad key or IV length");
        let out = match cipher {
            Pkcs12Cipher::TripleDes3Key => {
                cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                    .map_err(bad_key)?
                    .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            }
            Pkcs12Cipher::TripleDes2Key => {
                cbc::Decryptor::<des::TdesEde2>::new_from_slices(&key, &iv)
                    .map_err(bad_key)?
                    .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            }
            Pkcs12Cipher::Rc2_128 | Pkcs12Cipher::Rc2_40 => {
                let rc2 = rc2::Rc2::new_with_eff_key_len(&key, cipher.key_len() * 8);
                cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(rc2, &iv)
                    .map_err(bad_key)?
                    .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            }
        };
        return out.map(Zeroizing::new).map_err(|_| PfxError::WrongPassword);
    }
    if alg.oid == oids::PBES2 {
        let der = alg.to_der().map_err(PfxError::corrupt)?;
        check_pbes2(alg, budget)?;
        let scheme = pkcs5::EncryptionScheme::from_der(&der).map_err(PfxError::corrupt)?;
        if let Some(key) = Pbkdf2Job::of(alg).and_then(|job| derived.get(&job))
            && let Some(params) = scheme.pbes2()
        {
            return decrypt_aes_cbc(&params.encryption, key, ciphertext).map(Zeroizing::new);
        }
        return scheme
            .decrypt(&*password.utf8, ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| PfxError::WrongPassword);
    }
    Err(PfxError::unsupported(&alg.oid))
}

/// Checks a PBES2 algorithm before `pkcs5` runs it: PBKDF2 with a known PRF,
/// an AES-CBC cipher, and a sane iteration count.
fn check_pbes2(
    alg: &AlgorithmIdentifierOwned,
    budget: &mut IterationBudget,
) -> Result<(), PfxError> {
    let p: pkcs12::pbe_params::Pbes2Params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| PfxError::corrupt("PBES2 parameters are missing"))?
        .decode_as()
        .map_err(PfxError::corrupt)?;
    if p.kdf.oid != oids::PBKDF2 {
        return Err(PfxError::unsupported(&p.kdf.oid));
    }
    if ![oids::AES_128_CBC, oids::AES_192_CBC, oids::AES_256_CBC].contains(&p.encryption.oid) {
        return Err(PfxError::unsupported(&p.encryption.oid));
    }
    // The PRF is optional (default hmacWithSHA1); decode leniently.
    #[derive(der::Sequence)]
    struct Pbkdf2<'a> {
        salt: der::AnyRef<'a>,
        iterations: u64,
        key_length: Option<u16>,
        prf: Option<spki::AlgorithmIdentifierRef<'a>>,
    }
    let kdf: Pbkdf2<'_> = p
        .kdf
        .parameters
        .as_ref()
        .ok_or_else(|| PfxError::corrupt("PBKDF2 parameters are missing"))?
        .decode_as()
        .map_err(PfxError::corrupt)?;
    if let Some(prf) = kdf.prf
        && ![
            oids::HMAC_SHA1,
            oids::HMAC_SHA224,
            oids::HMAC_SHA256,
            oids::HMAC_SHA384,
            oids::HMAC_SHA512,
        ]
        .contains(&prf.oid)
    {
        return Err(PfxError::unsupported(&prf.oid));
    }
    let _ = (kdf.salt, kdf.key_length);
    budget.spend(i64::try_from(kdf.iterations).unwrap_or(i64::MAX))?;
    Ok(())
}

/// Encrypts with pbeWithSHAAnd3-KeyTripleDES-CBC; returns the algorithm
/// identifier and the ciphertext.
pub(crate) fn encrypt_3des(
    password: &Password,
    salt: &[u8],
    iterations: i32,
    plaintext: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), PfxError> {
    let key = Zeroizing::new(derive_key::<sha1::Sha1>(
        &password.bmp,
        salt,
        Pkcs12KeyType::EncryptionKey,
        iterations,
        24,
    ));
    let iv = derive_key::<sha1::Sha1>(&password.bmp, salt, Pkcs12KeyType::Iv, iterations, 8);
    let ct = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
        .map_err(|e| PfxError::Export(e.to_string()))?
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let params = pkcs12::pbe_params::Pkcs12PbeParams {
        salt: der::asn1::OctetString::new(salt).map_err(|e| PfxError::Export(e.to_string()))?,
        iterations,
    };
    let alg = AlgorithmIdentifierOwned {
        oid: oids::PBE_SHA1_3DES,
        parameters: Some(
            der::Any::encode_from(&params).map_err(|e| PfxError::Export(e.to_string()))?,
        ),
    };
    Ok((alg, ct))
}

/// Encrypts with PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC.
pub(crate) fn encrypt_pbes2(
    password: &Password,
    salt: &[u8],
    iv: &[u8; 16],
    iterations: u32,
    plaintext: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), PfxError> {
    let export = |e: &dyn core::fmt::Display| PfxError::Export(e.to_string());
    let params = pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, salt, iv)
        .map_err(|e| export(&e))?;
    let ct = params
        .encrypt(&*password.utf8, plaintext)
        .map_err(|e| export(&e))?;
    let der = pkcs5::EncryptionScheme::from(params)
        .to_der()
        .map_err(|e| export(&e))?;
    let alg = AlgorithmIdentifierOwned::from_der(&der).map_err(|e| export(&e))?;
    Ok((alg, ct))
}

fn hmac_pkcs12<D>(password: &Password, salt: &[u8], rounds: i32, data: &[u8]) -> SimpleHmac<D>
where
    D: Digest + FixedOutputReset + BlockSizeUser,
{
    let key = Zeroizing::new(derive_key::<D>(
        &password.bmp,
        salt,
        Pkcs12KeyType::Mac,
        rounds,
        <D as Digest>::output_size(),
    ));
    let mut mac =
        <SimpleHmac<D> as KeyInit>::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac
}

/// Computes the PKCS#12 MAC (HMAC keyed by the PKCS#12 KDF with the same
/// digest) over `data`.
pub(crate) fn compute_mac(
    digest: &ObjectIdentifier,
    password: &Password,
    salt: &[u8],
    rounds: i32,
    data: &[u8],
) -> Result<Vec<u8>, PfxError> {
    Ok(match *digest {
        oids::SHA1 => hmac_pkcs12::<sha1::Sha1>(password, salt, rounds, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        oids::SHA224 => hmac_pkcs12::<sha2::Sha224>(password, salt, rounds, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        oids::SHA256 => hmac_pkcs12::<sha2::Sha256>(password, salt, rounds, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        oids::SHA384 => hmac_pkcs12::<sha2::Sha384>(password, salt, rounds, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        oids::SHA512 => hmac_pkcs12::<sha2::Sha512>(password, salt, rounds, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        _ => return Err(PfxError::unsupported(digest)),
    })
}

/// Verifies the PKCS#12 MAC in constant time.
pub(crate) fn verify_mac(
    digest: &ObjectIdentifier,
    password: &Password,
    salt: &[u8],
    rounds: i32,
    data: &[u8],
    expected: &[u8],
) -> Result<(), PfxError> {
    let ok = match *digest {
        oids::SHA1 => {
            hmac_pkcs12::<sha1::Sha1>(password, salt, rounds, data).verify_slice(expected)
        }
        oids::SHA224 => {
            hmac_pkcs12::<sha2::Sha224>(password, salt, rounds, data).verify_slice(expected)
        }
        oids::SHA256 => {
            hmac_pkcs12::<sha2::Sha256>(password, salt, rounds, data).verify_slice(expected)
        }
        oids::SHA384 => {
            hmac_pkcs12::<sha2::Sha384>(password, salt, rounds, data).verify_slice(expected)
        }
        oids::SHA512 => {
            hmac_pkcs12::<sha2::Sha512>(password, salt, rounds, data).verify_slice(expected)
        }
        _ => return Err(PfxError::unsupported(digest)),
    };
    ok.map_err(|_| PfxError::WrongPassword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_encode_as_bmp_with_nul_and_utf8() {
        assert!(Password::new(None).bmp.is_empty());
        assert_eq!(*Password::new(Some("")).bmp, [0, 0]);
        assert_eq!(*Password::new(Some("aé")).bmp, [0, b'a', 0, 0xE9, 0, 0]);
        assert_eq!(*Password::new(Some("aé")).utf8, "aé".as_bytes());
        // Beyond the BMP: a surrogate pair.
        assert_eq!(
            *Password::new(Some("😀")).bmp,
            [0xD8, 0x3D, 0xDE, 0x00, 0, 0]
        );
    }

    #[test]
    fn budget_refuses_absurd_iteration_counts() {
        let mut b = IterationBudget::new();
        assert_eq!(b.spend(2048), Ok(2048));
        assert_eq!(
            b.spend(1_000_001),
            Err(PfxError::TooManyIterations {
                iterations: 1_000_001
            })
        );
        assert!(b.spend(0).is_err());
        assert!(b.spend(-1).is_err());
        for _ in 0..3 {
            b.spend(1_000_000).unwrap();
        }
        assert_eq!(b.spent(), 3_002_048);
        // A fourth million would take the file past 4,000,000; refused
        // iterations are not counted, so the rest of the budget remains.
        assert_eq!(
            b.spend(1_000_000),
            Err(PfxError::TooManyIterations {
                iterations: 4_002_048
            })
        );
        assert_eq!(b.spend(997_952), Ok(997_952));
        assert_eq!(b.spent(), MAX_TOTAL_ITERATIONS);
        assert!(b.spend(1).is_err());
    }

    #[test]
    fn three_des_round_trips_and_a_wrong_password_fails() {
        let pw = Password::new(Some("secret"));
        let (alg, ct) = encrypt_3des(&pw, &[1; 8], 2048, b"attack at dawn").unwrap();
        assert_eq!(describe(&alg), "pbeWithSHAAnd3-KeyTripleDES-CBC");
        let pt = decrypt(
            &alg,
            &pw,
            &ct,
            &mut IterationBudget::new(),
            &DerivedKeys::new(),
        )
        .unwrap();
        assert_eq!(&**pt, b"attack at dawn");
        // A wrong key almost always breaks the padding; try a few passwords
        // and require that none decrypts to the plaintext.
        for wrong in ["Secret", "secret ", "x"] {
            let r = decrypt(
                &alg,
                &Password::new(Some(wrong)),
                &ct,
                &mut IterationBudget::new(),
                &DerivedKeys::new(),
            );
            assert!(r.as_deref().map(|p| &**p) != Ok(b"attack at dawn".as_slice()));
        }
    }

    #[test]
    fn pbes2_round_trips() {
        let pw = Password::new(Some("pässword"));
        let (alg, ct) = encrypt_pbes2(&pw, &[2; 16], &[3; 16], 2048, b"hello").unwrap();
        assert_eq!(describe(&alg), "PBES2 AES-256-CBC HMAC-SHA256");
        let pt = decrypt(
            &alg,
            &pw,
            &ct,
            &mut IterationBudget::new(),
            &DerivedKeys::new(),
        )
        .unwrap();
        assert_eq!(&**pt, b"hello");
    }

    #[test]
    fn pbes2_decrypts_every_aes_size_with_sha1_and_sha256_prfs() {
        use pkcs5::pbes2::{EncryptionScheme, Parameters, Pbkdf2Params, Pbkdf2Prf};
        let pw = Password::new(Some("pw"));
        let iv = [9u8; 16];
        for prf in [Pbkdf2Prf::HmacWithSha1, Pbkdf2Prf::HmacWithSha256] {
            for (scheme, name) in [
                (EncryptionScheme::Aes128Cbc { iv: &iv }, "AES-128-CBC"),
                (EncryptionScheme::Aes192Cbc { iv: &iv }, "AES-192-CBC"),
                (EncryptionScheme::Aes256Cbc { iv: &iv }, "AES-256-CBC"),
            ] {
                let params = Parameters {
                    kdf: Pbkdf2Params {
                        salt: &[4; 16],
                        iteration_count: 2048,
                        key_length: None,
                        prf,
                    }
                    .into(),
                    encryption: scheme,
                };
                let ct = params.encrypt(b"pw", b"plaintext").unwrap();
                let der = pkcs5::EncryptionScheme::from(params).to_der().unwrap();
                let alg = AlgorithmIdentifierOwned::from_der(&der).unwrap();
                let prf_name = match prf {
                    Pbkdf2Prf::HmacWithSha1 => "HMAC-SHA1",
                    _ => "HMAC-SHA256",
                };
                assert_eq!(describe(&alg), format!("PBES2 {name} {prf_name}"));
                let pt = decrypt(
                    &alg,
                    &pw,
                    &ct,
                    &mut IterationBudget::new(),
                    &DerivedKeys::new(),
                )
                .unwrap();
                assert_eq!(&**pt, b"plaintext");
            }
        }
    }

    #[test]
    fn mac_verifies_only_with_the_right_password() {
        let pw = Password::new(Some("pw"));
        for d in [oids::SHA1, oids::SHA256, oids::SHA512] {
            let mac = compute_mac(&d, &pw, b"salt", 2048, b"data").unwrap();
            assert!(verify_mac(&d, &pw, b"salt", 2048, b"data", &mac).is_ok());
            assert_eq!(
                verify_mac(&d, &Password::new(Some("pW")), b"salt", 2048, b"data", &mac),
                Err(PfxError::WrongPassword)
            );
        }
    }
}
