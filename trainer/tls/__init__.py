"""HTTPS for the training room: a local certificate authority and a server certificate for this
machine's names and addresses, so browsers on the trainees' PCs allow the microphone.

`names` (what the certificate names) · `certs` (making and reading certificates, no files) ·
`store` (the TLS folder: `init_tls`, `load_tls`) · `guide` (the Chinese install instructions).
"""

from trainer.tls.names import ServerNames, machine_names, parse_host
from trainer.tls.store import InitResult, TlsError, TlsPaths, TlsStatus, init_tls, load_tls

__all__ = ["InitResult", "ServerNames", "TlsError", "TlsPaths", "TlsStatus", "init_tls", "load_tls", "machine_names", "parse_host"]
