"""uqudo: OAuth client credentials, QR sessions followed over a websocket, RS256 JWS results
judged by our own policy (docs/vendors/uqudo.md)."""
