//! TLS for `tls://` targets (RFC 5425): rustls with the ring provider, TLS 1.2 and 1.3 only,
//! the receiver's certificate checked against `ca_file` (or the system roots) and
//! `server_name`, and our certificate presented when configured. There is no way to skip
//! verification.
//!
//! Files are read at every connection attempt, so a renewed certificate is used at the next
//! reconnect without a restart. The errors a user can act on (unknown CA, wrong name,
//! expired certificate, a receiver refusing our certificate, a missing file) are put in words
//! by [`describe`].

use super::settings::TlsSettings;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{self, Read};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The TLS stream to the receiver.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// How long to listen after the handshake for the receiver refusing our certificate. In TLS
/// 1.3 the client finishes its handshake before the server has checked the client's
/// certificate; a refusal comes back as an alert one round trip later, and messages written
/// before it would be lost. A receiver that accepts usually sends a session ticket at once,
/// which ends the wait early.
const SETTLE: Duration = Duration::from_millis(300);

/// A TLS error a user can act on, kept as the `io::Error`'s inner error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsSetupError(String);

fn setup_error(msg: String) -> io::Error {
    io::Error::other(TlsSetupError(msg))
}

/// Reads the certificates of PEM file `path` (`what` names the key for the error).
fn certs(path: &Path, what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let bad = |e: rustls::pki_types::pem::Error| {
        setup_error(format!("forward.{what} {}: {e}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(bad)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    if certs.is_empty() {
        return Err(setup_error(format!(
            "forward.{what} {}: no CERTIFICATE in the file",
            path.display()
        )));
    }
    Ok(certs)
}

/// The client configuration of `t`, its files read now.
pub fn client_config(t: &TlsSettings) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    match &t.ca_file {
        Some(path) => {
            for cert in certs(path, "ca_file")? {
                roots
                    .add(cert)
                    .map_err(|e| setup_error(format!("forward.ca_file {}: {e}", path.display())))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(setup_error(
                    "no system CA certificates found: set forward.ca_file".into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup_error(e.to_string()))?
        .with_root_certificates(roots);
    let config = match &t.client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = certs(cert, "cert_file")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| setup_error(format!("forward.key_file {}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| setup_error(format!("forward.cert_file/key_file: {e}")))?
        }
    };
    Ok(Arc::new(config))
}

/// Runs the handshake on `tcp` and waits [`SETTLE`] for a refusal of our certificate.
pub fn connect(tcp: TcpStream, t: &TlsSettings) -> io::Result<TlsStream> {
    let config = client_config(t)?;
    let name = ServerName::try_from(t.server_name.clone())
        .map_err(|e| setup_error(format!("forward.server_name: {e}")))?;
    let conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    stream.sock.set_read_timeout(Some(SETTLE))?;
    // Receivers that check the client certificate themselves (rsyslog's x509 modes) just
    // close the connection after the handshake.
    let dropped = || {
        setup_error(format!(
            "the receiver closed the connection right after the handshake: {}",
            client_hint(t)
        ))
    };
    let settled = match stream.conn.read_tls(&mut stream.sock) {
        Ok(0) => Err(dropped()),
        Ok(_) => stream
            .conn
            .process_new_packets()
            .map(|_| ())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Err(dropped()),
        Err(e) => Err(e),
    };
    settled?;
    stream.sock.set_read_timeout(None)?;
    Ok(stream)
}

/// Whether the receiver closed the TLS session (or the connection broke): a non-blocking
/// read through the session, so records the receiver sent (tickets, alerts) are processed,
/// not lost.
pub fn closed_by_peer(stream: &mut TlsStream) -> bool {
    if stream.sock.set_nonblocking(true).is_err() {
        return true;
    }
    let mut probe = [0u8; 64];
    let closed = match stream.read(&mut probe) {
        Ok(0) => true,
        Ok(_) => false, // receivers do not talk; whatever it said is ignored
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    closed || stream.sock.set_nonblocking(false).is_err()
}

/// The likely cause when the receiver ends the session.
fn client_hint(t: &TlsSettings) -> &'static str {
    if t.client.is_some() {
        "does it trust forward.cert_file?"
    } else {
        "does it require a client certificate (forward.cert_file)?"
    }
}

/// What went wrong, in words a user can act on when it is a TLS problem; `None` otherwise.
pub fn describe(e: &io::Error, t: &TlsSettings) -> Option<String> {
    let inner = e.get_ref()?;
    if let Some(setup) = inner.downcast_ref::<TlsSetupError>() {
        return Some(setup.0.clone());
    }
    let tls = inner.downcast_ref::<rustls::Error>()?;
    let ca = t
        .ca_file
        .as_ref()
        .map_or("the system roots".to_string(), |p| p.display().to_string());
    Some(match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                format!("the receiver's certificate is not signed by a CA in {ca}")
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the receiver's certificate is not valid for `{}` (forward.server_name)",
                    t.server_name
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the receiver's certificate has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the receiver's certificate is not valid yet (check the clocks)".into()
            }
            other => format!("the receiver's certificate is refused: {other:?}"),
        },
        rustls::Error::AlertReceived(alert) => {
            format!(
                "the receiver refused the TLS session ({alert:?}): {}",
                client_hint(t)
            )
        }
        other => format!("TLS: {other}"),
    })
}
