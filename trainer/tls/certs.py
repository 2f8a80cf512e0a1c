"""The certificates themselves (no files): a local certificate authority and server certificates it signs.

Keys are ECDSA P-256 with SHA-256 signatures (Chrome, Edge and Windows' certificate store accept
them). The CA is a root (basicConstraints CA:TRUE, pathlen 0, keyCertSign/cRLSign) valid for ten
years, so the trainees install it once. A server certificate is valid for at most 825 days (the
longest any current browser or OS accepts for a locally trusted CA), never beyond the CA, and
carries serverAuth, digitalSignature and the typed subjectAltName entries of `ServerNames`.
"""

from __future__ import annotations

import base64
import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trainer.tls.names import ServerNames

CA_VALIDITY = dt.timedelta(days=3650)
SERVER_VALIDITY = dt.timedelta(days=825)
RENEW_BEFORE = dt.timedelta(days=30)  # a server certificate this close to expiry is reissued
BACKDATE = dt.timedelta(hours=1)  # tolerate trainees' PCs whose clock is a little behind

# keys this module makes are EC P-256; a CA or server key an operator brought may also be RSA
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def new_ca(common_name: str, now: dt.datetime) -> tuple[x509.Certificate, PrivateKey]:
    key = new_key()
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trainer"),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def new_server_cert(
    names: ServerNames, ca_cert: x509.Certificate, ca_key: PrivateKey, now: dt.datetime
) -> tuple[x509.Certificate, PrivateKey]:
    if not names:
        raise ValueError("a server certificate needs at least one name")
    key = new_key()
    common_name = next((n for n in names.dns if n != "localhost"), None) or (names.dns or tuple(map(str, names.ips)))[0]
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names.dns]
    alt_names += [x509.IPAddress(ip) for ip in names.ips]
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trainer"),
        ]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + SERVER_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def names_of(cert: x509.Certificate) -> ServerNames:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ServerNames()
    return ServerNames.of(san.get_values_for_type(x509.DNSName), san.get_values_for_type(x509.IPAddress))


def common_name(cert: x509.Certificate) -> str:
    found = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else cert.subject.rfc4514_string()


def issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """True when `ca_cert` signed `cert` (issuer name and signature both checked)."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def key_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    return spki_der(cert) == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_sha256_base64(cert: x509.Certificate) -> str:
    """Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (the form certificate pinning uses)."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki_der(cert))
    return base64.b64encode(digest.finalize()).decode("ascii")


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the whole certificate, as AB:CD:… (what `openssl x509 -fingerprint -sha256` prints)."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def thumbprint_sha1(cert: x509.Certificate) -> str:
    """SHA-1 of the whole certificate, lower-case hex: Windows shows it as the certificate's 指纹 (thumbprint)."""
    return cert.fingerprint(hashes.SHA1()).hex()  # noqa: S324 - an identifier Windows displays, not a signature


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def load_cert(data: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(data)


def load_key(data: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise ValueError(f"expected an EC or RSA private key, got {type(key).__name__}")
    return key
