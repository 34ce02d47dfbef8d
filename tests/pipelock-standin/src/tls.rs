//! TLS for inspection: the bottle's CA (loaded as pipelock loads it), a leaf
//! certificate per CONNECT host signed by it, and a client configuration that
//! trusts the image's system roots for the real server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rcgen::{CertificateParams, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Where the image keeps its trusted roots (pipelock is `FROM scratch` with
/// only this file); `SSL_CERT_FILE` overrides it, as for Go.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The loaded CA and the server configurations made so far, per host.
pub struct Interceptor {
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    servers: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
    client: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Interceptor")
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Interceptor {
    /// Loads the CA as pipelock's `certgen.LoadCA` does: a certificate that
    /// is a CA with certSign, an `EC PRIVATE KEY` (SEC 1) that matches it.
    pub fn load(cert_path: &str, key_path: &str) -> Result<Self, String> {
        let cert_pem =
            std::fs::read_to_string(cert_path).map_err(|e| format!("read CA cert: {e}"))?;
        let key_pem = std::fs::read_to_string(key_path).map_err(|e| format!("read CA key: {e}"))?;
        let sec1 =
            pem_block(&key_pem, "EC PRIVATE KEY").ok_or("parse CA key: not an EC PRIVATE KEY")?;
        let pkcs8 = pkcs8_from_sec1(&sec1).ok_or("parse CA key: not a P-256 key")?;
        let key = KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8),
            &PKCS_ECDSA_P256_SHA256,
        )
        .map_err(|e| format!("parse CA key: {e}"))?;
        let issuer =
            Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|e| format!("parse CA cert: {e}"))?;
        let ca_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| format!("parse CA cert: {e}"))?;
        Ok(Self {
            issuer,
            ca_der,
            servers: Mutex::new(HashMap::new()),
            client: Arc::new(client_config()?),
        })
    }

    /// The server side for `host`: a leaf certificate for it, chained to the CA.
    pub fn server_for(&self, host: &str) -> Result<Arc<rustls::ServerConfig>, String> {
        let mut servers = self.servers.lock().map_err(|_| "poisoned".to_string())?;
        if let Some(config) = servers.get(host) {
            return Ok(Arc::clone(config));
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
        let params = CertificateParams::new(vec![host.to_string()]).map_err(|e| e.to_string())?;
        let leaf = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| e.to_string())?;
        let chain = vec![leaf.der().clone(), self.ca_der.clone()];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| e.to_string())?;
        let config = Arc::new(config);
        servers.insert(host.to_string(), Arc::clone(&config));
        Ok(config)
    }

    pub fn client(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.client)
    }
}

fn client_config() -> Result<rustls::ClientConfig, String> {
    let path = std::env::var("SSL_CERT_FILE").unwrap_or_else(|_| SYSTEM_ROOTS.to_string());
    let mut roots = rustls::RootCertStore::empty();
    if let Ok(certs) = CertificateDer::pem_file_iter(&path) {
        for cert in certs.flatten() {
            let _ = roots.add(cert);
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The DER inside the first PEM block labelled `label`.
fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let b64: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64_decode(&b64)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().take_while(|&c| c != b'=') {
        let v = u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// ring's PKCS #8 form of a P-256 key given as SEC 1 (`ECPrivateKey`): the
/// scalar after `02 01 01 04 20`, the public point after `03 42 00`.
fn pkcs8_from_sec1(sec1: &[u8]) -> Option<Vec<u8>> {
    const SCALAR: [u8; 5] = [0x02, 0x01, 0x01, 0x04, 0x20];
    const POINT: [u8; 3] = [0x03, 0x42, 0x00];
    let at = sec1.windows(5).position(|w| w == SCALAR)? + 5;
    let scalar = sec1.get(at..at + 32)?;
    let p = sec1.windows(3).position(|w| w == POINT)? + 3;
    let point = sec1.get(p..p + 65)?;
    let mut der = vec![
        0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
        0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30,
        0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
    ];
    der.extend_from_slice(scalar);
    der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    der.extend_from_slice(point);
    Some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk").unwrap(), b"hi");
        assert!(base64_decode("a*b").is_none());
    }

    #[test]
    fn a_sec1_ca_signs_leaves_for_hosts() {
        // A CA made the way claude-bottle makes one: rcgen, SEC 1 key.
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
        let cert = params.self_signed(&key).unwrap();
        let pkcs8 = key.serialize_der();
        let at = pkcs8
            .windows(5)
            .position(|w| w == [2, 1, 1, 4, 32])
            .unwrap()
            + 5;
        let mut sec1 = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
        sec1.extend_from_slice(&pkcs8[at..at + 32]);
        sec1.extend_from_slice(&[
            0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
        ]);
        sec1.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
        sec1.extend_from_slice(key.public_key_raw());
        let dir = std::env::temp_dir().join(format!("standin-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        let b64 = base64_encode(&sec1);
        std::fs::write(
            &key_path,
            format!("-----BEGIN EC PRIVATE KEY-----\n{b64}\n-----END EC PRIVATE KEY-----\n"),
        )
        .unwrap();
        let tls =
            Interceptor::load(cert_path.to_str().unwrap(), key_path.to_str().unwrap()).unwrap();
        assert!(tls.server_for("allowed.test").is_ok());
        assert!(Arc::ptr_eq(
            &tls.server_for("allowed.test").unwrap(),
            &tls.server_for("allowed.test").unwrap()
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn base64_encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
        out
    }
}
