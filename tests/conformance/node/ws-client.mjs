// graphql-transport-ws conformance against a live gateway.
//
//   node ws-client.mjs <graphql http(s) url> <session id>
//
// The `subscription` case follows one session with the graphql-ws client library, from cursor 0
// (so its CREATED change is replayed first and nothing can slip between subscribing and the
// caller's next step). Once that first event arrives it prints {"event":"subscribed"}; the caller
// then drives the session to a final status, which ends the case. Alongside, raw `ws` sockets
// break the protocol on purpose and record the close code and reason the server answers with.
//
// Prints {"event":"result","cases":{<name>:{ok, ...}}} as the last stdout line; exits 1 if a case
// failed, 2 on a usage error.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [httpUrl, sessionId] = process.argv.slice(2);
if (!httpUrl || !sessionId) {
  console.error('usage: node ws-client.mjs <graphql http url> <session id>');
  process.exit(2);
}
const url = httpUrl.replace(/^http/, 'ws');
const SUBPROTOCOL = 'graphql-transport-ws';
// The server's connection_init timeout (KYCGW_CONNECTION_INIT_TIMEOUT_S), plus slack.
const INIT_TIMEOUT_MS = Number(process.env.INIT_TIMEOUT_S ?? 10) * 1000;
const CASE_TIMEOUT_MS = Number(process.env.CASE_TIMEOUT_S ?? 30) * 1000;

const WATCH = `
  subscription Watch($id: ID!) {
    sessionStatusChanged(sessionId: $id, after: "0") {
      previousStatus status source cursor sessionId session { isFinal }
    }
  }`;

const emit = (line) => console.log(JSON.stringify(line));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The graphql-ws client receives the session's changes until it reaches a final status. */
async function subscriptionCase() {
  const events = [];
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  try {
    await withTimeout(
      new Promise((resolve, reject) => {
        const unsubscribe = client.subscribe(
          { query: WATCH, variables: { id: sessionId } },
          {
            next: ({ data, errors }) => {
              if (errors) {
                reject(new Error(`errors in a next message: ${JSON.stringify(errors)}`));
                return;
              }
              const event = data.sessionStatusChanged;
              events.push(event);
              if (events.length === 1) emit({ event: 'subscribed' });
              if (event.session?.isFinal) {
                unsubscribe();
                resolve();
              }
            },
            error: (error) => reject(error instanceof Error ? error : describeError(error)),
            complete: () => reject(new Error('the server completed the subscription')),
          },
        );
      }),
      CASE_TIMEOUT_MS,
      'a final status',
    );
    return { ok: events.length > 1, events };
  } catch (error) {
    return { ok: false, events, error: String(error?.message ?? error) };
  } finally {
    await client.dispose();
  }
}

function describeError(error) {
  // graphql-ws reports a close as the CloseEvent, and GraphQL errors as an array.
  if (error && typeof error.code === 'number') {
    return new Error(`socket closed: ${error.code} ${error.reason}`);
  }
  return new Error(JSON.stringify(error));
}

/**
 * Opens a raw socket, runs `script(send, ack)` and resolves with how the server closed it.
 * `ack()` resolves once connection_ack arrives.
 */
function rawClose(script, timeoutMs) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, SUBPROTOCOL);
    const received = [];
    let acked;
    const ack = new Promise((resolveAck) => {
      acked = resolveAck;
    });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve({ code: null, reason: `no close within ${timeoutMs} ms`, received });
    }, timeoutMs);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      received.push(message.type);
      if (message.type === 'connection_ack') acked();
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: String(reason), received });
    });
    socket.on('error', () => {}); // a close always follows
    socket.on('open', () => {
      const send = (message) => socket.send(JSON.stringify(message));
      script(send, ack).catch((error) => socket.close(1000, String(error)));
    });
  });
}

const subscribe = (id) => ({
  id,
  type: 'subscribe',
  payload: { query: WATCH, variables: { id: sessionId } },
});

const PROTOCOL_CASES = {
  subscribe_before_init: {
    expect: { code: 4401, reason: 'Unauthorized' },
    script: async (send) => send(subscribe('1')),
  },
  duplicate_subscription_id: {
    expect: { code: 4409, reason: 'Subscriber for 1 already exists' },
    script: async (send, ack) => {
      send({ type: 'connection_init' });
      await ack;
      send(subscribe('1'));
      send(subscribe('1'));
    },
  },
  unknown_message_type: {
    expect: { code: 4400, reason: 'Unknown message type: shout' },
    script: async (send, ack) => {
      send({ type: 'connection_init' });
      await ack;
      send({ type: 'shout' });
    },
  },
  second_connection_init: {
    expect: { code: 4429, reason: 'Too many initialisation requests' },
    script: async (send, ack) => {
      send({ type: 'connection_init' });
      await ack;
      send({ type: 'connection_init' });
    },
  },
  no_connection_init: {
    expect: { code: 4408, reason: 'Connection initialisation timeout' },
    script: async () => {},
    timeoutMs: INIT_TIMEOUT_MS + 5000,
  },
};

async function protocolCase({ expect, script, timeoutMs }) {
  const started = Date.now();
  const actual = await rawClose(script, timeoutMs ?? 10000);
  const ok = actual.code === expect.code && actual.reason === expect.reason;
  return { ok, expected: expect, actual, ms: Date.now() - started };
}

const [subscription, ...protocol] = await Promise.all([
  subscriptionCase(),
  ...Object.values(PROTOCOL_CASES).map(protocolCase),
]);
const cases = { subscription };
Object.keys(PROTOCOL_CASES).forEach((name, index) => {
  cases[name] = protocol[index];
});
emit({ event: 'result', cases });
process.exit(Object.values(cases).every((c) => c.ok) ? 0 : 1);
