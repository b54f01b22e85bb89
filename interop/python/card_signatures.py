#!/usr/bin/env python3
"""Agent card signatures with the official Python SDK (a2a-sdk 1.3.0, `signing` extra).

Usage:
  card_signatures.py verify CARD_URL PUBLIC_KEY_PEM_FILE ALG
      Fetches the card at CARD_URL and verifies its signatures with the SDK's verifier,
      trusting the one public key. Prints ``verified`` and exits 0, or prints why and exits 1.
  card_signatures.py sign
      Makes a P-256 key, signs a card with the SDK's signer (kid ``py-1``) and prints one JSON
      object: {"card": <the signed card, ProtoJSON>, "public_pem": <the key's public half>}.

Run by crates/harbor/tests/card_signing.rs; only the SDK signs and verifies.
"""

from __future__ import annotations

import json
import sys

import httpx

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.json_format import MessageToDict, ParseDict

from a2a.types import AgentCard
from a2a.utils.signing import create_agent_card_signer, create_signature_verifier


def verify(card_url: str, key_file: str, alg: str) -> int:
    with open(key_file, encoding='utf-8') as f:
        public_pem = f.read()
    response = httpx.get(card_url, timeout=30)
    response.raise_for_status()
    card = ParseDict(response.json(), AgentCard(), ignore_unknown_fields=True)
    if not card.signatures:
        print('the card carries no signature')
        return 1
    verifier = create_signature_verifier(
        key_provider=lambda _kid, _jku: public_pem, algorithms=[alg]
    )
    try:
        verifier(card)
    except Exception as e:  # the SDK's SignatureVerificationError and PyJWT's errors
        print(f'not verified: {type(e).__name__}: {e}')
        return 1
    print('verified')
    return 0


def sign() -> int:
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode()
    card = ParseDict(
        {
            'name': 'Python signed agent',
            'description': 'A card signed by a2a-sdk: ünïcödé and "quotes" included',
            'version': '1.0.0',
            'supportedInterfaces': [
                {
                    'url': 'http://127.0.0.1:1/a2a/jsonrpc',
                    'protocolBinding': 'JSONRPC',
                    'protocolVersion': '1.0',
                }
            ],
            'capabilities': {'streaming': True, 'pushNotifications': False},
            'defaultInputModes': ['text/plain'],
            'defaultOutputModes': ['text/plain'],
            'skills': [
                {
                    'id': 'echo',
                    'name': 'Echo',
                    'description': 'echoes',
                    'tags': ['echo'],
                }
            ],
        },
        AgentCard(),
    )
    signer = create_agent_card_signer(
        signing_key=private_pem,
        protected_header={'kid': 'py-1', 'alg': 'ES256', 'typ': 'JOSE'},
    )
    signed = signer(card)
    print(json.dumps({'card': MessageToDict(signed), 'public_pem': public_pem}))
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[1] == 'verify':
        return verify(argv[2], argv[3], argv[4])
    if len(argv) == 2 and argv[1] == 'sign':
        return sign()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
