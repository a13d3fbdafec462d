// Runs graphql-http's GraphQL-over-HTTP server audits against a live endpoint.
//
//   node audit-http.mjs http://127.0.0.1:8000/graphql
//
// Prints one JSON object: {url, results: [{id, name, level, status, reason?, response?}]}.
// Exits 1 when a MUST or SHOULD audit is not 'ok', 2 on a usage error.
import { serverAudits } from 'graphql-http';

const url = process.argv[2] ?? process.env.GATEWAY_GRAPHQL_URL;
if (!url) {
  console.error('usage: node audit-http.mjs <graphql endpoint url>');
  process.exit(2);
}

/** A failing audit's response, trimmed to what helps a reader. */
async function describe(response) {
  if (!response) return undefined;
  let body;
  try {
    body = (await response.text()).slice(0, 500);
  } catch {
    body = '<body already read>';
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

const results = [];
for (const { id, name, fn } of serverAudits({ url })) {
  const level = name.split(' ', 1)[0];
  try {
    const result = await fn();
    results.push({
      id,
      name,
      level,
      status: result.status,
      reason: result.reason,
      response: await describe(result.response),
    });
  } catch (error) {
    // graphql-http throws (instead of returning a result) on a fatal problem, e.g. no server.
    results.push({ id, name, level, status: 'error', reason: `fatal: ${error?.stack ?? error}` });
  }
}

console.log(JSON.stringify({ url, results }, null, 2));
const required = new Set(['MUST', 'SHOULD']);
process.exit(results.some((r) => required.has(r.level) && r.status !== 'ok') ? 1 : 0);
