/* kyc-gateway GraphiQL: strawberry's GraphiQL page, with every asset served by the gateway. */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var EXAMPLE = "# GraphiQL on kyc-gateway. Run with Ctrl-Enter or the play button.\n" +
    "# Subscriptions run over graphql-transport-ws on this endpoint.\n" +
    "# Keyed deployment: add {\"Authorization\": \"Bearer <key>\"} under Headers.\n\n" +
    "{\n  providers {\n    name\n    mode\n  }\n}\n";

  function updateURL(name, value) {
    if (value) params.set(name, value); else params.delete(name);
    var search = params.toString();
    history.replaceState(null, "", search ? "?" + search : location.pathname);
  }

  var url = location.origin + location.pathname;
  var fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: url.replace(/^http/, "ws")
  });

  function App() {
    // `q`, as strawberry's page: a GET with `query` runs that operation instead of GraphiQL.
    var query = React.useState(params.get("q") || EXAMPLE);
    var variables = React.useState(params.get("variables") || undefined);
    var explorer = React.useMemo(function () { return GraphiQLPluginExplorer.explorerPlugin(); }, []);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      query: query[0],
      variables: variables[0],
      onEditQuery: function (q) { query[1](q); updateURL("q", q); },
      onEditVariables: function (v) { variables[1](v); updateURL("variables", v); },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
