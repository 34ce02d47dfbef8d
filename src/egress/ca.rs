//! A certificate authority made for one bottle: its sidecar signs the
//! certificates it presents to the agent when it inspects TLS, and the agent
//! trusts it. The key exists only for that bottle: made at launch, copied
//! into the sidecar, and gone when the sidecar is removed.

use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};

/// How long a bottle's CA is valid. Bottles live for hours or days; a kept
/// bottle older than this gets a new sidecar (and CA) when it is resumed.
const VALID_DAYS: i64 = 90;

/// A bottle's CA as PEM text.
#[derive(Clone, PartialEq, Eq)]
pub struct BottleCa {
    /// `-----BEGIN CERTIFICATE-----`: no secret, given to the agent.
    pub cert_pem: String,
    /// `-----BEGIN EC PRIVATE KEY-----` (SEC 1), the form pipelock reads
    /// (`x509.ParseECPrivateKey`); it refuses PKCS #8, RSA and Ed25519.
    pub key_pem: String,
}

/// Never printed: `{:?}` shows the certificate only.
impl std::fmt::Debug for BottleCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BottleCa")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<hidden>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("could not make the bottle's TLS inspection CA: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("could not make the bottle's TLS inspection CA: unexpected key encoding")]
    KeyEncoding,
}

/// Makes an ECDSA P-256 CA named for `bottle` (e.g. the agent container's
/// name), valid from a day ago for [`VALID_DAYS`], that may sign leaf
/// certificates only (path length 0).
pub fn generate(bottle: &str) -> Result<BottleCa, CaError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "claude-bottle");
    params.distinguished_name.push(
        DnType::CommonName,
        format!("claude-bottle inspection CA for {bottle}"),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let today = days_since_epoch();
    let (y, m, d) = civil_date(today - 1);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = civil_date(today + VALID_DAYS);
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let cert = params.self_signed(&key)?;
    let sec1 =
        sec1_from_pkcs8(&key.serialize_der(), key.public_key_raw()).ok_or(CaError::KeyEncoding)?;
    Ok(BottleCa {
        cert_pem: cert.pem(),
        key_pem: pem::encode(&pem::Pem::new("EC PRIVATE KEY", sec1)),
    })
}

fn days_since_epoch() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(0)
}

/// The calendar date `days` after 1970-01-01 (Hinnant's civil-from-days).
fn civil_date(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(2000),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

/// The P-256 OID (prime256v1), as it stands in SEC 1's `parameters [0]`.
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// SEC 1 `ECPrivateKey` DER for a P-256 key, out of its PKCS #8 DER and raw
/// public key. PKCS #8 wraps the same structure but moves the curve out of
/// it (into the algorithm identifier), and Go's parser needs it back in:
/// `SEQUENCE { 1, OCTET STRING d, [0] curve, [1] BIT STRING public }`.
fn sec1_from_pkcs8(pkcs8: &[u8], public: &[u8]) -> Option<Vec<u8>> {
    // Inside the PKCS #8 octet string: version 1, then the 32-byte scalar.
    const SCALAR_HEADER: [u8; 5] = [0x02, 0x01, 0x01, 0x04, 0x20];
    let at = pkcs8
        .windows(SCALAR_HEADER.len())
        .position(|w| w == SCALAR_HEADER)?
        + SCALAR_HEADER.len();
    let scalar = pkcs8.get(at..at + 32)?;
    if public.len() != 65 || public.first() != Some(&0x04) {
        return None;
    }
    let mut body = Vec::with_capacity(119);
    body.extend_from_slice(&SCALAR_HEADER);
    body.extend_from_slice(scalar);
    body.extend_from_slice(&[0xa0, 0x0a]);
    body.extend_from_slice(&P256_OID);
    body.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    body.extend_from_slice(public);
    let mut der = vec![0x30, u8::try_from(body.len()).ok()?];
    der.extend(body);
    Some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_790), (2026, 12, 3));
    }

    #[test]
    fn the_ca_is_a_p256_ca_with_a_sec1_key_that_matches_it() {
        let ca = generate("cb-coder-1234-agent").unwrap();
        assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let key = pem::parse(&ca.key_pem).unwrap();
        assert_eq!(key.tag(), "EC PRIVATE KEY");
        let der = key.contents();
        assert_eq!(der.len(), 121, "SEQUENCE of 119 bytes");
        assert_eq!(&der[..2], &[0x30, 0x77]);
        assert!(der.windows(P256_OID.len()).any(|w| w == P256_OID));
        assert!(!format!("{ca:?}").contains(&ca.key_pem));
    }

    #[test]
    fn sec1_carries_the_same_scalar_and_public_key_as_pkcs8() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let pkcs8 = key.serialize_der();
        let sec1 = sec1_from_pkcs8(&pkcs8, key.public_key_raw()).unwrap();
        let scalar = &sec1[7..39];
        assert!(pkcs8.windows(32).any(|w| w == scalar));
        assert_eq!(&sec1[sec1.len() - 65..], key.public_key_raw());
    }

    #[test]
    fn two_bottles_get_two_keys() {
        let (a, b) = (generate("a").unwrap(), generate("b").unwrap());
        assert_ne!(a.key_pem, b.key_pem);
        assert_ne!(a.cert_pem, b.cert_pem);
    }

    #[test]
    fn a_key_that_is_not_pkcs8_p256_is_refused() {
        assert_eq!(sec1_from_pkcs8(&[0x30, 0x00], &[0x04; 65]), None);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        assert_eq!(sec1_from_pkcs8(&key.serialize_der(), &[0x04; 10]), None);
    }
}
