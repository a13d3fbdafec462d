// Runs the documented client against a gateway: creates a session, reads it, and follows its
// status changes until it is final, printing one JSON line per step.
//
//   node dist/example.js <graphql url>
import WebSocket from 'ws';

import { createGatewayClient } from './client.js';
import { CREATE_SESSION, SESSION, SESSION_STATUS } from './operations.js';

const url = process.argv[2];
if (!url) {
  console.error('usage: node dist/example.js <graphql url>');
  process.exit(2);
}
const client = createGatewayClient({ url, credential: process.env.KYCGW_API_KEY, webSocketImpl: WebSocket });

const created = await client.mutate({
  mutation: CREATE_SESSION,
  variables: { reference: `codegen-example-${Date.now()}` },
});
const session = created.data?.createSession.session;
if (!session) throw new Error(`createSession failed: ${JSON.stringify(created)}`);
console.log(JSON.stringify({ step: 'created', id: session.id, providerSessionId: session.providerSessionId }));

const read = await client.query({ query: SESSION, variables: { id: session.id } });
const status: string | undefined = read.data?.session?.status;
console.log(JSON.stringify({ step: 'read', status }));

client.subscribe({ query: SESSION_STATUS, variables: { id: session.id, after: '0' } }).subscribe({
  next: ({ data, error }) => {
    if (error || !data) throw error ?? new Error('no data');
    const event = data.sessionStatusChanged;
    console.log(JSON.stringify({ step: 'change', status: event.status, cursor: event.cursor }));
    if (event.session?.isFinal) process.exit(0);
  },
  error: (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
});
