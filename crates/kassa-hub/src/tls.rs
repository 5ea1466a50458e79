//! TLS to a hub on another machine: rustls with the *ring* provider (what the core's HTTP
//! client already links, so no OpenSSL and nothing new to build), as a `MakeTlsConnect` for
//! the `postgres` client.
//!
//! The hub's certificate is verified against the platform's root certificates (as the
//! providers' APIs are, `kassa_core::http`) plus the shop's own CA from `hub.ca_file`, the one
//! a shop with a private CA for its hub sets. `verify-full` (the default away from loopback)
//! checks the chain and the name; `verify-ca` and `require` the chain only (see
//! [`HubTls`]). There is no mode that skips the chain: a hub with a self-signed certificate
//! gets a small CA instead (README, "Several tills").
//!
//! Why not the `tokio-postgres-rustls` crate (0.13/0.14, on rustls 0.23): it is the same
//! connector (the verifier is ours to configure either way) plus SCRAM channel binding, for
//! which it adds an X.509 parser (`x509-cert`, or `sha2` 0.11 in 0.14) to the build. Channel
//! binding guards the password exchange against a man in the middle holding a certificate
//! the client accepts; with the chain always verified there is no such certificate to hold
//! short of a compromised CA. So this connector offers no binding, and SCRAM-SHA-256 runs as
//! it does on loopback.

use kassa_core::settings::HubTls;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The TLS side of a hub connection, built once per [`crate::Hub`].
#[derive(Clone)]
pub struct HubTlsConnect {
    config: Arc<ClientConfig>,
}

impl HubTlsConnect {
    /// Trusts the platform's roots and the certificates in `ca_file`; checks the name for
    /// [`HubTls::VerifyFull`]. The error names the cause (the CA file unreadable or holding no
    /// certificate, no root certificates at all).
    pub fn new(mode: HubTls, ca_file: Option<&Path>) -> Result<HubTlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            // One unreadable platform certificate must not take the others down with it.
            let _ = roots.add(cert);
        }
        if let Some(path) = ca_file {
            for cert in shop_ca(path)? {
                roots.add(cert).map_err(|e| {
                    format!(
                        "hub.ca_file {}: a certificate in it is unusable ({e})",
                        path.display()
                    )
                })?;
            }
        }
        if roots.is_empty() {
            return Err(
                "this computer has no root certificates to check the hub's TLS \
                        certificate against (install ca-certificates, or set hub.ca_file)"
                    .into(),
            );
        }
        let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("cannot set up TLS to the hub: {e}"))?;
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS to the hub: {e}"))?;
        let config = match mode {
            HubTls::VerifyCa => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(chain))),
            HubTls::VerifyFull | HubTls::Off => builder.with_webpki_verifier(chain),
        }
        .with_no_client_auth();
        Ok(HubTlsConnect {
            config: Arc::new(config),
        })
    }
}

/// The certificates of a `hub.ca_file` (PEM: one or more `BEGIN CERTIFICATE` blocks).
fn shop_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let what = |e: &dyn std::fmt::Display| format!("hub.ca_file {}: {e}", path.display());
    let text = std::fs::read(path).map_err(|e| what(&e))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| what(&format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(what(&"holds no certificate (-----BEGIN CERTIFICATE-----)"));
    }
    Ok(certs)
}

/// `verify-ca`: the full check of the chain (issuer, validity, purpose), and only a name that
/// does not match forgiven. webpki checks the name last, after the chain, so a
/// `NotValidForName` means the chain passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

impl<S> MakeTlsConnect<S> for HubTlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = HubTlsStream<S>;
    type TlsConnect = Handshake;
    type Error = rustls::pki_types::InvalidDnsNameError;

    /// `host` of `hub.url` (also with `hostaddr`): a DNS name or an IP address literal.
    fn make_tls_connect(&mut self, host: &str) -> Result<Handshake, Self::Error> {
        Ok(Handshake {
            config: self.config.clone(),
            name: ServerName::try_from(host)?.to_owned(),
        })
    }
}

/// One TLS handshake with the hub named `name`.
pub struct Handshake {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Handshake
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = HubTlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<HubTlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move { connector.connect(self.name, stream).await.map(HubTlsStream) })
    }
}

/// A TLS connection to the hub.
pub struct HubTlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for HubTlsStream<S> {
    /// None offered: see the module's docs.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for HubTlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for HubTlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}
