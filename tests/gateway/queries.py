"""GraphQL documents shared by the gateway tests."""

SESSION_FIELDS = """
  id provider providerSessionId status providerStatus isFinal environment clientReference
  metadata verificationUrl createdAt updatedAt expiresAt capabilities
  decision { outcome reasonCodes decidedBy }
  history { sequence previousStatus status providerStatus source cursor }
"""

CREATE = f"""
mutation Create($input: CreateSessionInput!) {{
  createSession(input: $input) {{
    session {{ {SESSION_FIELDS} }}
    userErrors {{ code field message providerCode retryAfter }}
  }}
}}
"""

GET = f"query Get($id: ID!) {{ session(id: $id) {{ {SESSION_FIELDS} }} }}"

DECIDE = """
mutation Decide($id: ID!, $decision: DecisionAction!, $reason: String) {
  decideSession(id: $id, decision: $decision, reason: $reason) {
    session { id status providerStatus history { status source } }
    userErrors { code field message providerCode }
  }
}
"""

CANCEL = """
mutation Cancel($id: ID!) {
  cancelSession(id: $id) { session { id } userErrors { code field message } }
}
"""

REFRESH = """
mutation Refresh($id: ID!) {
  refreshSession(id: $id) {
    session { id status providerStatus history { status source } }
    userErrors { code field message }
  }
}
"""
