// Apollo Client for the gateway: queries and mutations over HTTP, subscriptions over a
// websocket (graphql-transport-ws, the graphql-ws library), chosen per operation.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';

export interface GatewayOptions {
  /** The GraphQL endpoint, e.g. `https://kyc.example.com/graphql`. */
  url: string;
  /**
   * An API key (servers only), or in a browser a client token from `issueClientToken`
   * (it may follow its own session only). None against a dev-mode gateway.
   */
  credential?: string;
  /** Node < 22 has no global WebSocket: pass the `ws` package's. Browsers need nothing. */
  webSocketImpl?: unknown;
}

export function createGatewayClient({ url, credential, webSocketImpl }: GatewayOptions) {
  const auth: Record<string, string> = credential ? { authorization: `Bearer ${credential}` } : {};
  const http = new HttpLink({ uri: url, headers: auth });
  const websocket = new GraphQLWsLink(
    createClient({
      url: url.replace(/^http/, 'ws'),
      // A websocket cannot carry headers from a browser: credentials go in connection_init.
      connectionParams: auth,
      webSocketImpl,
      // Reconnect after a deploy or a dropped connection; resubscribe with `after` set to the
      // last cursor you saw to get the changes you missed.
      retryAttempts: 10,
    }),
  );
  const link = ApolloLink.split(
    ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
    websocket,
    http,
  );
  return new ApolloClient({ link, cache: new InMemoryCache() });
}
