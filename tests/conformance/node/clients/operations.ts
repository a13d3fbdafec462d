// The example operations. graphql-codegen reads the gql`` documents from this file and checks
// them against the schema; the types it generates (./generated/graphql.ts) type them here.
import { gql } from '@apollo/client';
import type { TypedDocumentNode } from '@apollo/client';

import type {
  CreateSessionMutation,
  CreateSessionMutationVariables,
  SessionQuery,
  SessionQueryVariables,
  SessionStatusSubscription,
  SessionStatusSubscriptionVariables,
} from './generated/graphql.js';

export const CREATE_SESSION: TypedDocumentNode<
  CreateSessionMutation,
  CreateSessionMutationVariables
> = gql`
  mutation CreateSession($reference: String!) {
    createSession(input: { provider: "didit", clientReference: $reference }) {
      session {
        id
        providerSessionId
        status
        verificationUrl
      }
      userErrors {
        code
        field
        message
      }
    }
  }
`;

export const SESSION: TypedDocumentNode<SessionQuery, SessionQueryVariables> = gql`
  query Session($id: ID!) {
    session(id: $id) {
      id
      status
      isFinal
      createdAt
      metadata
      history {
        cursor
      }
    }
  }
`;

// `after` resumes from a cursor (a `history { cursor }`, or the last event's); "0" replays
// every change of the session first.
export const SESSION_STATUS: TypedDocumentNode<
  SessionStatusSubscription,
  SessionStatusSubscriptionVariables
> = gql`
  subscription SessionStatus($id: ID!, $after: String) {
    sessionStatusChanged(sessionId: $id, after: $after) {
      previousStatus
      status
      source
      cursor
      occurredAt
      session {
        isFinal
      }
    }
  }
`;
