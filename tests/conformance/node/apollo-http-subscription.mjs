// A subscription with Apollo Client over plain HTTP: an HttpLink only, no websocket link, so
// Apollo Client uses its multipart subscription protocol (docs/clients.md).
//
//   node apollo-http-subscription.mjs <graphql http url> <session id>
//
// Follows one session from cursor 0, so its CREATED change is replayed first and nothing can
// slip between subscribing and the caller's next step. Prints one JSON line per event
// ({"event":"change", ...}); the caller drives the session to a final status, which ends the
// subscription. Exits 0 after a final status, 1 on an error or a timeout, 2 on a usage error.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

const [url, sessionId] = process.argv.slice(2);
if (!url || !sessionId) {
  console.error('usage: node apollo-http-subscription.mjs <graphql http url> <session id>');
  process.exit(2);
}
const TIMEOUT_MS = Number(process.env.CASE_TIMEOUT_S ?? 30) * 1000;

const WATCH = gql`
  subscription Watch($id: ID!) {
    sessionStatusChanged(sessionId: $id, after: "0") {
      previousStatus
      status
      source
      cursor
      sessionId
      session {
        id
        isFinal
      }
    }
  }
`;

const client = new ApolloClient({
  link: new HttpLink({ uri: url }),
  cache: new InMemoryCache(),
});

const emit = (line) => console.log(JSON.stringify(line));
const timer = setTimeout(() => {
  console.error(`timed out after ${TIMEOUT_MS} ms without a final status`);
  process.exit(1);
}, TIMEOUT_MS);

const subscription = client.subscribe({ query: WATCH, variables: { id: sessionId } }).subscribe({
  next: ({ data, error }) => {
    if (error) {
      console.error(`error in a result: ${error.message}`);
      process.exit(1);
    }
    const event = data.sessionStatusChanged;
    emit({ event: 'change', ...event });
    if (event.session?.isFinal) {
      clearTimeout(timer);
      subscription.unsubscribe();
      client.stop();
      process.exit(0);
    }
  },
  error: (error) => {
    console.error(`subscription failed: ${error?.message ?? error}`);
    process.exit(1);
  },
  complete: () => {
    console.error('the server completed the subscription before a final status');
    process.exit(1);
  },
});
