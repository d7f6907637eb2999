"""Throw-away PKI for the Kubernetes API simulator (python3-cryptography).

make_pki(dir) writes into dir:
  ca.crt, ca.key            the cluster CA (self-signed)
  server.crt, server.key    serving cert: IP SAN 127.0.0.1, ::1, DNS localhost
  client.crt, client.key    client cert signed by the CA (CN=user, O=groups)
Keys are RSA 2048 in the traditional "RSA PRIVATE KEY" PEM form, like
kubeadm writes them.  make_client_cert() makes more client certs (other
users, or signed by a foreign CA for negative tests).
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _validity(b):
    now = datetime.datetime.utcnow()
    return (b.not_valid_before(now - datetime.timedelta(hours=1))
             .not_valid_after(now + datetime.timedelta(days=365)))


def make_ca(cn="kubesim-ca"):
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number()))
    b = _validity(b)
    b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None),
                        critical=True)
    b = b.add_extension(x509.KeyUsage(
        digital_signature=True, content_commitment=False,
        key_encipherment=True, data_encipherment=False, key_agreement=False,
        key_cert_sign=True, crl_sign=True, encipher_only=False,
        decipher_only=False), critical=True)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(
        key.public_key()), critical=False)
    cert = b.sign(key, hashes.SHA256())
    return key, cert


def _leaf(ca_key, ca_cert, subject, usage, sans=None):
    key = _key()
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number()))
    b = _validity(b)
    b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None),
                        critical=True)
    b = b.add_extension(x509.KeyUsage(
        digital_signature=True, content_commitment=False,
        key_encipherment=True, data_encipherment=False, key_agreement=False,
        key_cert_sign=False, crl_sign=False, encipher_only=False,
        decipher_only=False), critical=True)
    b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
        ca_key.public_key()), critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


def make_client_cert(ca_key, ca_cert, user, groups=()):
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
    key, cert = _leaf(ca_key, ca_cert, x509.Name(attrs),
                      ExtendedKeyUsageOID.CLIENT_AUTH)
    return _key_pem(key), _cert_pem(cert)


def make_pki(d, user="sim-cert-user", groups=("system:masters",)):
    """Create the CA, the serving and the client certificates in d.
    Returns a dict of the file paths."""
    os.makedirs(d, exist_ok=True)
    ca_key, ca_cert = make_ca()
    sans = [x509.DNSName("localhost"), x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default.svc"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1"))]
    s_key, s_cert = _leaf(ca_key, ca_cert, x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        ExtendedKeyUsageOID.SERVER_AUTH, sans)
    c_key_pem, c_cert_pem = make_client_cert(ca_key, ca_cert, user, groups)
    paths = {k: os.path.join(d, k) for k in (
        "ca.crt", "ca.key", "server.crt", "server.key", "client.crt",
        "client.key")}
    _write(paths["ca.crt"], _cert_pem(ca_cert))
    _write(paths["ca.key"], _key_pem(ca_key), 0o600)
    _write(paths["server.crt"], _cert_pem(s_cert) + _cert_pem(ca_cert))
    _write(paths["server.key"], _key_pem(s_key), 0o600)
    _write(paths["client.crt"], c_cert_pem)
    _write(paths["client.key"], c_key_pem, 0o600)
    return paths


def load_ca(d):
    """(key, cert) of the CA written by make_pki(d)."""
    with open(os.path.join(d, "ca.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    with open(os.path.join(d, "ca.crt"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return key, cert
