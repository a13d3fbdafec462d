"""The uqudo emulator's RSA signing key: RS256 JWS for results and access tokens, and the
public half as a JWKS with a `kid` (docs/vendors/uqudo.md, Webhooks and signature).

The key is generated at first start and persisted (PKCS#8 PEM) in the state file, so results
signed before a restart still verify against the JWKS after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

JSON = dict[str, Any]
ALGORITHM = "RS256"
KEY_SIZE = 2048


@dataclass
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        # The documented kid is 32 hex digits ("e49b9f971574455ba969b20697a2c7b6").
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        return cls(kid=uuid.uuid4().hex, private_key=key)

    # -- persistence ----------------------------------------------------------------------
    def to_json(self) -> JSON:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {"kid": self.kid, "private_key_pem": pem.decode("ascii")}

    @classmethod
    def from_json(cls, data: JSON) -> SigningKey:
        key = serialization.load_pem_private_key(data["private_key_pem"].encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the persisted signing key is not an RSA key")
        kid = data["kid"]
        if not isinstance(kid, str) or not kid:
            raise ValueError("the persisted signing key has no kid")
        return cls(kid=kid, private_key=key)

    # -- use ------------------------------------------------------------------------------
    def jwk(self) -> JSON:
        """The public key (RFC 7517): `use` only, no `key_ops` (the two SHOULD NOT mix)."""
        public = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
            "n": public["n"],
            "e": public["e"],
        }

    def jwks(self) -> JSON:
        return {"keys": [self.jwk()]}

    def sign(self, claims: JSON) -> str:
        """Compact RS256 JWS; header `{"kid", "alg"}` only (no `typ`, as observed)."""
        return jwt.encode(
            claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": None}
        )

    def verify(self, token: str) -> JSON:
        """Signature and algorithm only; the caller checks claims and times (the sandbox's
        clock is not the wall clock). Raises `jwt.InvalidTokenError`."""
        header = jwt.get_unverified_header(token)
        if header.get("kid") != self.kid:
            raise jwt.InvalidTokenError("unknown kid")
        return jwt.decode(
            token,
            self.private_key.public_key(),
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
