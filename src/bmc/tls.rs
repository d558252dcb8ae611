//! How aerie trusts a BMC's TLS certificate, never silently: the system's
//! trusted CAs (the default), a SHA-256 fingerprint pinned in the site
//! (`tls-fingerprint`), or an explicit `--insecure`. Whatever the trust, the
//! handshake's signatures are checked, and the certificate the BMC presented
//! is remembered so a refusal can say which fingerprint to pin.

use crate::site::bmc::TlsFingerprint;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::{Arc, Mutex};

/// Which certificates a BMC may present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Signed by a CA this machine trusts, for the BMC's name.
    System,
    /// Exactly the certificate with this fingerprint (name and CA not checked).
    Pin(TlsFingerprint),
    /// Any certificate (`--insecure`: said on every run).
    Insecure,
}

/// The fingerprint of the certificate the BMC presented, once it has.
pub type Seen = Arc<Mutex<Option<TlsFingerprint>>>;

#[derive(Debug)]
struct Verifier {
    trust: Trust,
    system: Option<Arc<dyn ServerCertVerifier>>,
    provider: Arc<CryptoProvider>,
    seen: Seen,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = TlsFingerprint::of(end_entity.as_ref());
        *self.seen.lock().expect("seen") = Some(presented);
        match (&self.trust, &self.system) {
            (Trust::Pin(pin), _) if *pin == presented => Ok(ServerCertVerified::assertion()),
            (Trust::Pin(pin), _) => Err(rustls::Error::General(format!(
                "the certificate's fingerprint {presented} is not the pinned {pin}"
            ))),
            (Trust::Insecure, _) => Ok(ServerCertVerified::assertion()),
            (Trust::System, Some(system)) => system.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            (Trust::System, None) => Err(rustls::Error::General("no system verifier".to_string())),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client configuration (ring, TLS 1.2 and 1.3) that trusts as said
/// and records the presented certificate in `seen`.
pub fn client_config(trust: Trust, seen: Seen) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let system: Option<Arc<dyn ServerCertVerifier>> = match trust {
        Trust::System => Some(Arc::new(rustls_platform_verifier::Verifier::new(
            provider.clone(),
        )?)),
        _ => None,
    };
    let verifier = Verifier {
        trust,
        system,
        provider: provider.clone(),
        seen,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}
