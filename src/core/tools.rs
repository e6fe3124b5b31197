//! The certificate operations behind one trait: making a key, its
//! self-signed certificate and PFX, and opening a PFX or certificate file.
//! Natively (and in the page's crypto worker) they run in-process; the page
//! itself sends them to its worker (`web::crypto_worker`), so that the
//! crypto is not part of the first load and a heavy file never freezes the
//! page. The messages between page and worker are the types below.

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::core::certificate::{Certificate, CertificateError, KeyKind};
use crate::core::generate::{GenerateError, GenerateRequest, file_stem};
use crate::core::inspect::{self, OpenError, Opened, Stage};
use crate::core::keygen::{KeyGenerator, KeySize, KeygenError};
use crate::core::pfx::{ExportMode, PfxError};
use crate::core::time::UnixTime;

/// A certificate made with its key: the public certificate (DER) and the
/// password-protected PFX, the only form the key leaves its maker in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedFiles {
    pub certificate_der: Vec<u8>,
    pub pfx: Zeroizing<Vec<u8>>,
}

/// What a file turned out to hold, without its private key: the
/// certificates as DER, the key's kind, and whether Entra can use it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedFile {
    /// A PFX (else one or more public certificates).
    pub pfx: bool,
    /// The certificate of the key (or the first certificate of a
    /// certificate file).
    pub leaf: Option<Vec<u8>>,
    pub others: Vec<Vec<u8>>,
    pub friendly_names: Vec<String>,
    pub key: Option<KeyKind>,
    /// Why Entra cannot use this PFX (`None`: an RSA key with its
    /// certificate). Always `None` for certificate files.
    pub unusable: Option<PfxError>,
}

impl OpenedFile {
    pub fn of(opened: &Opened) -> OpenedFile {
        match opened {
            Opened::Certificates(certs) => OpenedFile {
                pfx: false,
                leaf: certs.first().map(|c| c.der().to_vec()),
                others: certs.iter().skip(1).map(|c| c.der().to_vec()).collect(),
                ..OpenedFile::default()
            },
            Opened::Pfx { imported, .. } => OpenedFile {
                pfx: true,
                leaf: imported.leaf.as_ref().map(|c| c.der().to_vec()),
                others: imported.others.iter().map(|c| c.der().to_vec()).collect(),
                friendly_names: imported.friendly_names.clone(),
                key: imported.key.as_ref().map(|k| k.kind()),
                unusable: imported.usable_for_entra().err(),
            },
        }
    }

    /// The certificate of a PFX that Entra can use with its key.
    pub fn usable_leaf(&self) -> Result<Certificate, ToolError> {
        if let Some(e) = &self.unusable {
            return Err(ToolError::Unusable(e.clone()));
        }
        let der = self
            .leaf
            .as_ref()
            .ok_or(ToolError::Unusable(PfxError::NoCertificate))?;
        Ok(Certificate::from_der(der)?)
    }
}

/// Why an operation failed: the core's own errors, or the worker's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ToolError {
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error(transparent)]
    Keygen(#[from] KeygenError),
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The PFX opened but Entra cannot use it, or could not be written.
    #[error(transparent)]
    Unusable(#[from] PfxError),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(
        "The page's certificate tools could not run ({0}). Reload the page and try again; \
         if you are offline, open the page once online first."
    )]
    Unavailable(String),
    #[error("Stopped: nothing was opened or made.")]
    Cancelled,
    #[error("Open the file again: it was closed.")]
    Closed,
    /// The zip of a certificate set could not be written.
    #[error(
        "The archive of PFX files could not be written ({0}). Download the PFX files one by one, \
         or make the certificates again."
    )]
    Archive(String),
}

/// Makes and opens certificates. `async` because the page's implementation
/// runs them in its worker.
#[allow(async_fn_in_trait)] // implementations need not be Send (the worker's is not)
pub trait CertificateTools {
    /// A key of `request.key_size`, its self-signed certificate and PFX,
    /// valid from `now`. `request` and `password` must have passed
    /// [`GenerateRequest::check`]. `rng` serves an in-process maker; the
    /// worker draws its serial and salts from the browser's own randomness.
    async fn make_certificate(
        &self,
        request: &GenerateRequest,
        password: &str,
        now: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<GeneratedFiles, ToolError>;

    /// Opens a file: by its name a certificate or a PFX (`file_name`
    /// `None`: a PFX is expected). With `password` `None` a PFX is tried
    /// with no password and the empty one ([`OpenError::NeedsPassword`] if
    /// neither opens it).
    async fn open_file(
        &self,
        file_name: Option<&str>,
        data: &[u8],
        password: Option<&str>,
    ) -> Result<OpenedFile, ToolError>;
}

/// In-process, with the key from `K`: natively, and inside the worker.
impl<K: KeyGenerator> CertificateTools for K {
    async fn make_certificate(
        &self,
        request: &GenerateRequest,
        password: &str,
        now: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<GeneratedFiles, ToolError> {
        let key = KeyGenerator::generate(self, request.key_size).await?;
        let g = request.build(key, password, now, rng)?;
        Ok(GeneratedFiles {
            certificate_der: g.certificate.into_der(),
            pfx: Zeroizing::new(g.pfx),
        })
    }

    async fn open_file(
        &self,
        file_name: Option<&str>,
        data: &[u8],
        password: Option<&str>,
    ) -> Result<OpenedFile, ToolError> {
        let opened = match file_name {
            Some(name) => inspect::open(data, name, password)?,
            None => {
                if data.iter().all(u8::is_ascii_whitespace) {
                    return Err(OpenError::Empty.into());
                }
                let (imported, password) = inspect::open_pfx(data, password)?;
                Opened::Pfx {
                    imported: Box::new(imported),
                    password,
                }
            }
        };
        Ok(OpenedFile::of(&opened))
    }
}

/// One certificate of a [`CertificateSet`], with the name its PFX has in
/// the archive and as a download of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMember {
    pub file_name: String,
    pub files: GeneratedFiles,
}

/// Certificates made together (a bulk renewal: one per application), in
/// the order asked for, and one zip holding every PFX. Each PFX is
/// protected by the password; the zip itself is not (its entries are).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSet {
    pub members: Vec<SetMember>,
    pub archive: Zeroizing<Vec<u8>>,
}

/// The PFX file names of a set: each common name's [`file_stem`], with
/// `-2`, `-3`, … after names already taken (compared as Windows and macOS
/// compare them, ignoring case), so no file of the archive overwrites
/// another when it is unpacked.
pub fn set_file_names<'a>(common_names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    let mut names = Vec::new();
    for cn in common_names {
        let stem = file_stem(cn);
        let mut name = format!("{stem}.pfx");
        let mut n = 1;
        while !taken.insert(name.to_lowercase()) {
            n += 1;
            name = format!("{stem}-{n}.pfx");
        }
        names.push(name);
    }
    names
}

/// A zip of `files` (name, bytes), entries stored uncompressed (a PFX is
/// encrypted: deflate would gain nothing) and dated `now` (UTC).
pub fn zip_archive<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    now: UnixTime,
) -> Result<Zeroizing<Vec<u8>>, ToolError> {
    use std::io::Write as _;
    use zip::write::SimpleFileOptions;

    let failed = |e: &dyn core::fmt::Display| ToolError::Archive(e.to_string());
    let t = now.to_der();
    // A date zip cannot hold (before 1980, after 2107) leaves the entry at
    // zip's default date rather than failing the archive.
    let modified = zip::DateTime::from_date_and_time(
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds(),
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(modified)
        .unix_permissions(0o600);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(name, options).map_err(|e| failed(&e))?;
        zip.write_all(bytes).map_err(|e| failed(&e))?;
    }
    let cursor = zip.finish().map_err(|e| failed(&e))?;
    Ok(Zeroizing::new(cursor.into_inner()))
}

/// Makes a certificate for each of `requests` with `tools` (each its own
/// key, every PFX under `password`), then the zip of them all, telling
/// `report` where it has got to. Natively, and inside the page's worker
/// ([`Op::GenerateSet`]): the page never holds the code.
pub async fn make_set<T: CertificateTools>(
    tools: &T,
    requests: &[GenerateRequest],
    password: &str,
    now: UnixTime,
    rng: &mut impl CryptoRngCore,
    mut report: impl FnMut(Progress),
) -> Result<CertificateSet, ToolError> {
    let names = set_file_names(requests.iter().map(|r| r.subject.common_name.as_str()));
    let mut members = Vec::with_capacity(requests.len());
    for (done, (request, file_name)) in requests.iter().zip(names).enumerate() {
        report(Progress::GeneratingSet {
            done,
            total: requests.len(),
        });
        let files = tools.make_certificate(request, password, now, rng).await?;
        members.push(SetMember { file_name, files });
    }
    report(Progress::BuildingArchive);
    let archive = zip_archive(
        members
            .iter()
            .map(|m| (m.file_name.as_str(), &m.files.pfx[..])),
        now,
    )?;
    Ok(CertificateSet { members, archive })
}

/// The worker's bin (`src/bin/crypto-worker.rs`), and the loader trunk
/// writes for it (`data-loader-shim`), which the page starts.
pub const WORKER_BIN: &str = "crypto-worker";
pub const WORKER_LOADER: &str = "crypto-worker_loader.js";

/// The protocol version: a page and a worker of different builds (a cache
/// serving an old worker) refuse each other instead of misreading.
pub const PROTOCOL: u32 = 2;

/// A request from the page to its worker.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub id: u32,
    pub op: Op,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Op {
    Generate {
        request: GenerateRequest,
        password: Zeroizing<String>,
        now: UnixTime,
    },
    /// `keep`: the worker keeps the opened key for a later [`Op::Export`]
    /// (one file at a time; opening another drops it).
    Open {
        file_name: Option<String>,
        data: Zeroizing<Vec<u8>>,
        password: Option<Zeroizing<String>>,
        keep: bool,
    },
    /// Writes the kept PFX's key and certificates as a new PFX.
    Export {
        format: ExportMode,
        password: Zeroizing<String>,
    },
    /// Forgets the kept key.
    Close,
    /// Several certificates at once, each PFX under the same `password`,
    /// and the zip of them all ([`make_set`]).
    GenerateSet {
        requests: Vec<GenerateRequest>,
        password: Zeroizing<String>,
        now: UnixTime,
    },
}

/// A message from the worker: [`Reply::Ready`] once at start, then for
/// each request any number of [`Reply::Progress`] and one [`Reply::Done`].
/// Tuple and newtype variants: the page decodes them with less code than
/// struct variants.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    /// The worker listens; its [`PROTOCOL`].
    Ready(u32),
    /// A request's [`Progress`], as the page shows it.
    Progress(u32, String),
    Done(u32, Result<Output, ToolError>),
}

/// What a request made.
#[derive(Debug, Serialize, Deserialize)]
pub enum Output {
    Generated(GeneratedFiles),
    Opened(OpenedFile),
    /// The kept PFX, written again.
    Exported(Zeroizing<Vec<u8>>),
    Closed,
    GeneratedSet(CertificateSet),
}

/// Where a long operation has got to (sent to the page as its sentence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Open(Stage),
    GeneratingKey(KeySize),
    BuildingPfx,
    /// Making the `done + 1`th certificate of a set of `total`.
    GeneratingSet {
        done: usize,
        total: usize,
    },
    /// Writing a set's zip.
    BuildingArchive,
}

impl core::fmt::Display for Progress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Progress::Open(stage) => stage.fmt(f),
            Progress::GeneratingKey(size) => {
                write!(f, "Generating an RSA {}-bit key…", size.bits())
            }
            Progress::BuildingPfx => f.write_str("Building the certificate and the PFX…"),
            Progress::GeneratingSet { done, total } => {
                write!(f, "Generating certificate {} of {total}…", done + 1)
            }
            Progress::BuildingArchive => f.write_str("Writing the archive of PFX files…"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::certificate::CertificateRequest;
    use crate::core::keygen::RsaKeyGenerator;
    use rand_core::OsRng;

    fn ready<F: core::future::Future>(fut: F) -> F::Output {
        let mut fut = core::pin::pin!(fut);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            core::task::Poll::Ready(v) => v,
            core::task::Poll::Pending => panic!("in-process tools finish in one poll"),
        }
    }

    #[test]
    fn in_process_tools_make_a_pfx_that_opens_and_say_why_a_file_is_unusable() {
        let request = GenerateRequest {
            subject: CertificateRequest::new("tools"),
            ..GenerateRequest::default()
        };
        let now = UnixTime(1_800_000_000);
        let files =
            ready(RsaKeyGenerator.make_certificate(&request, "Pw-1", now, &mut OsRng)).unwrap();
        let opened =
            ready(RsaKeyGenerator.open_file(Some("t.pfx"), &files.pfx, Some("Pw-1"))).unwrap();
        assert!(opened.pfx);
        assert_eq!(opened.leaf.as_deref(), Some(&files.certificate_der[..]));
        assert_eq!(opened.key, Some(KeyKind::Rsa { bits: 2048 }));
        assert_eq!(
            opened.usable_leaf().unwrap().der(),
            &files.certificate_der[..]
        );

        // By name, a certificate; with no name, a PFX is expected.
        let cert =
            ready(RsaKeyGenerator.open_file(Some("t.cer"), &files.certificate_der, None)).unwrap();
        assert!(!cert.pfx && cert.unusable.is_none());
        assert_eq!(
            ready(RsaKeyGenerator.open_file(None, &files.certificate_der, None)),
            Err(ToolError::Open(OpenError::Pfx(PfxError::DerCertificate)))
        );
        assert_eq!(
            ready(RsaKeyGenerator.open_file(None, &files.pfx, None)),
            Err(ToolError::Open(OpenError::NeedsPassword))
        );
    }

    #[test]
    fn a_set_has_one_pfx_per_request_under_unique_names_in_one_zip() {
        let request = |cn: &str| GenerateRequest {
            subject: CertificateRequest::new(cn),
            ..GenerateRequest::default()
        };
        let requests = [
            request("Contoso Backup"),
            request("contoso backup"),
            request("Sync/01"),
        ];
        let now = UnixTime(1_800_000_000);
        let mut stages = Vec::new();
        let set = ready(make_set(
            &RsaKeyGenerator,
            &requests,
            "Bulk-Pw-9",
            now,
            &mut OsRng,
            |s| stages.push(s.to_string()),
        ))
        .unwrap();
        assert_eq!(
            stages,
            [
                "Generating certificate 1 of 3…",
                "Generating certificate 2 of 3…",
                "Generating certificate 3 of 3…",
                "Writing the archive of PFX files…"
            ]
        );
        let names: Vec<_> = set.members.iter().map(|m| m.file_name.as_str()).collect();
        assert_eq!(
            names,
            ["Contoso-Backup.pfx", "contoso-backup-2.pfx", "Sync-01.pfx"]
        );

        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(set.archive.to_vec())).unwrap();
        assert_eq!(zip.len(), 3);
        for member in &set.members {
            let mut entry = zip.by_name(&member.file_name).unwrap();
            assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
            let modified = entry.last_modified().unwrap();
            assert_eq!(
                (modified.year(), modified.month(), modified.day()),
                (2027, 1, 15)
            );
            let mut pfx = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut pfx).unwrap();
            assert_eq!(pfx, member.files.pfx[..]);
            let opened = ready(RsaKeyGenerator.open_file(None, &pfx, Some("Bulk-Pw-9"))).unwrap();
            assert_eq!(
                opened.leaf.as_deref(),
                Some(&member.files.certificate_der[..])
            );
        }
        // Each its own key.
        assert_ne!(
            set.members[0].files.certificate_der,
            set.members[1].files.certificate_der
        );
        // A set that cannot be made says why, and makes nothing more.
        assert_eq!(
            ready(make_set(
                &RsaKeyGenerator,
                &requests,
                "",
                now,
                &mut OsRng,
                |_| ()
            ))
            .map(|_| ()),
            Err(ToolError::Generate(GenerateError::Password(
                crate::core::password::PasswordError::Empty
            )))
        );
    }

    #[test]
    fn messages_round_trip_through_json() {
        let reply = Reply::Done(
            7,
            Err(ToolError::Open(OpenError::Pfx(PfxError::NotRsa {
                kind: KeyKind::Ec {
                    curve: "P-256".into(),
                },
            }))),
        );
        let text = serde_json::to_string(&reply).unwrap();
        match serde_json::from_str::<Reply>(&text).unwrap() {
            Reply::Done(7, Err(error)) => {
                assert_eq!(
                    error.to_string(),
                    "Entra accepts only RSA certificates, and this one has an EC-P-256 key. Create or export an RSA certificate (2048 bits or more)."
                )
            }
            other => panic!("{other:?}"),
        }
        for kind in [
            KeyKind::Rsa { bits: 3072 },
            KeyKind::Other {
                algorithm: "Ed25519".into(),
            },
        ] {
            let file = OpenedFile {
                key: Some(kind.clone()),
                ..OpenedFile::default()
            };
            let text = serde_json::to_string(&file).unwrap();
            assert_eq!(serde_json::from_str::<OpenedFile>(&text).unwrap(), file);
        }
        // The tag stays where the inspect CLI's JSON has always had it.
        assert_eq!(
            serde_json::to_string(&KeyKind::Rsa { bits: 2048 }).unwrap(),
            r#"{"type":"rsa","bits":2048}"#
        );
        assert!(serde_json::from_str::<KeyKind>(r#"{"type":"ec"}"#).is_err());
        let stage = Progress::Open(Stage::Deriving {
            keys: 2,
            iterations: 1_200_000,
        });
        assert_eq!(
            stage.to_string(),
            "Deriving 2 keys from the password (1,200,000 iterations)…"
        );
    }
}
