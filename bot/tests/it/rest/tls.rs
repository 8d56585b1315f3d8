//! HTTPS for the double: a throwaway CA, a `discord.com` certificate it signs, and a client that
//! trusts only that CA and finds `discord.com` on 127.0.0.1. Serenity builds `https://discord.com`
//! URLs itself, so this is how its real requests reach the double with TLS verified.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub const DISCORD_HOST: &str = "discord.com";

/// A CA and the server certificate for `discord.com` it issued.
pub struct TestPki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl TestPki {
    pub fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.distinguished_name.push(DnType::CommonName, "sparta test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut leaf_params = CertificateParams::new(vec![DISCORD_HOST.to_string()]).unwrap();
        leaf_params.distinguished_name.push(DnType::CommonName, DISCORD_HOST);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

        let chain = vec![leaf_cert.der().clone(), CertificateDer::from(ca_cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self { ca_pem: ca_cert.pem(), server: Arc::new(server) }
    }

    /// A client for serenity: `discord.com` is `addr`, only the test CA is trusted, short timeouts.
    pub fn client(&self, addr: SocketAddr) -> reqwest012::Client {
        install_crypto_provider();
        reqwest012::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest012::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap())
            .resolve(DISCORD_HOST, addr)
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }
}

/// Two rustls backends are linked (aws-lc-rs, and ring through reqwest 0.12); pick one for the
/// process, as the binary does at start. A second install fails harmlessly.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
