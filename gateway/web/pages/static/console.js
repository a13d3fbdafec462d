/* kyc-gateway console: create a session, follow its status live (graphql-transport-ws).
   The followed session's id is kept in the URL (#session=…), so a reload follows it again. */
(function () {
  "use strict";
  var FINAL = ["APPROVED", "DECLINED", "CANCELLED", "EXPIRED", "ABANDONED", "FAILED"];
  var $ = function (id) { return document.getElementById(id); };
  var wsClient = null;
  var unsubscribe = null;
  var seen = {};  // cursors already on the timeline: a resubscription replays from `after`
  var lastCursor = null;

  function apiKey() { return $("api-key").value.trim(); }

  function headers() {
    var h = { "content-type": "application/json" };
    if (apiKey()) h.authorization = "Bearer " + apiKey();
    return h;
  }

  function gql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ query: query, variables: variables || {} })
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
      return body.data;
    });
  }

  function showError(message) {
    var el = $("error");
    el.textContent = message || "";
    el.hidden = !message;
  }

  function addEvent(status, providerStatus, source, at, cursor) {
    if (cursor) {
      if (seen[cursor]) return;
      seen[cursor] = true;
      lastCursor = cursor;
    }
    var li = document.createElement("li");
    li.dataset.status = status;
    if (FINAL.indexOf(status) >= 0) li.className = "final";
    li.textContent = (at ? new Date(at).toLocaleTimeString() + " " : "") + status +
      (providerStatus ? " (" + providerStatus + ")" : "") + (source ? " via " + source : "");
    $("timeline").appendChild(li);
    $("status").textContent = status;
    $("provider-status").textContent = providerStatus || "";
  }

  function subscribe(sessionId, after) {
    if (unsubscribe) { unsubscribe(); unsubscribe = null; }
    if (wsClient) { wsClient.dispose(); wsClient = null; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var params = apiKey() ? { authorization: "Bearer " + apiKey() } : {};
    wsClient = graphqlWs.createClient({
      url: scheme + location.host + "/graphql",
      connectionParams: params,
      retryAttempts: 5,
      on: {
        connected: function () { $("live").textContent = "(live)"; },
        closed: function () { $("live").textContent = "(disconnected)"; }
      }
    });
    unsubscribe = wsClient.subscribe({
      query: "subscription($id: ID!, $after: String) { sessionStatusChanged(sessionId: $id, " +
        "after: $after) { status providerStatus source occurredAt cursor } }",
      // A reconnect resubscribes with these: from the last change shown, nothing missed.
      variables: { id: sessionId, after: after || null }
    }, {
      next: function (result) {
        if (result.errors && result.errors.length) { showError(result.errors[0].message); return; }
        var e = result.data.sessionStatusChanged;
        addEvent(e.status, e.providerStatus, e.source, e.occurredAt, e.cursor);
      },
      error: function (err) {
        showError("subscription: " + (err && err.message ? err.message : String(err && err.reason || err)));
      },
      complete: function () {}
    });
  }

  /* The vendor's QR code, else one the gateway draws for the link. */
  function showQr(qrCode, url) {
    var qr = $("qr");
    var show = function (src) {
      if (src && src.indexOf("data:image/") === 0) { qr.src = src; qr.hidden = false; }
    };
    if (qrCode) { show(qrCode); return; }
    if (!url) return;
    fetch("/console/qr", {
      method: "POST", headers: headers(), body: JSON.stringify({ text: url })
    }).then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (body) { show(body.dataUrl); })
      .catch(function () {});
  }

  var providers = {};

  function loadProviders() {
    return gql("{ providers { name mode capabilities personFlow } }").then(function (data) {
      var select = $("provider");
      select.textContent = "";
      data.providers.forEach(function (p) {
        providers[p.name] = p;
        var option = document.createElement("option");
        option.value = p.name;
        option.textContent = p.name + " (" + p.mode + ")";
        select.appendChild(option);
      });
    }).catch(function (err) { showError("providers: " + err.message); });
  }

  var CREATE = "mutation($input: CreateSessionInput!) { createSession(input: $input) { " +
    "session { id provider status providerStatus verificationUrl qrCode createdAt } " +
    "warnings { code field message } userErrors { code field message } } }";

  function sessionFromUrl() {
    var match = /(?:^#|&)session=([^&]+)/.exec(location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  /* The hash, not the query: it never reaches the server, its logs or a Referer. */
  function rememberSession(id) {
    history.replaceState(null, "", location.pathname + location.search + "#session=" +
      encodeURIComponent(id));
  }

  function showSession(s, warningList) {
    $("session-card").hidden = false;
    $("session-id").textContent = s.id;
    $("timeline").textContent = "";
    seen = {};
    lastCursor = null;
    var link = $("verification-link");
    if (s.verificationUrl) { link.href = s.verificationUrl; link.hidden = false; } else { link.hidden = true; }
    // No hosted page at this vendor: say how the person's part happens instead.
    var flow = $("person-flow");
    var note = (providers[s.provider] || {}).personFlow;
    flow.textContent = !s.verificationUrl && note ? note : "";
    flow.hidden = !flow.textContent;
    var warnings = $("warnings");
    warnings.textContent = "";
    warningList.forEach(function (w) {
      var item = document.createElement("li");
      item.textContent = w.code + ": " + w.message;
      warnings.appendChild(item);
    });
    warnings.hidden = !warningList.length;
    $("qr").hidden = true;
    showQr(s.qrCode, s.verificationUrl);
    rememberSession(s.id);
  }

  var FOLLOW = "query($id: ID!) { session(id: $id) { id provider status providerStatus " +
    "verificationUrl qrCode createdAt history { status providerStatus source occurredAt cursor } } }";

  /* After a reload: the session as it is, its history, then its changes from there on. */
  function follow(id) {
    return gql(FOLLOW, { id: id }).then(function (data) {
      var s = data.session;
      if (!s) { showError("session " + id + " not found"); return; }
      showSession(s, []);
      (s.history || []).forEach(function (h) {
        addEvent(h.status, h.providerStatus, h.source, h.occurredAt, h.cursor);
      });
      if (!(s.history || []).length) addEvent(s.status, s.providerStatus, "", s.createdAt);
      subscribe(s.id, lastCursor);
    }).catch(function (err) {
      showError("following " + id + ": " + err.message + (apiKey() ? "" : " (enter the API key)"));
    });
  }

  $("create-form").addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    var input = { provider: $("provider").value };
    var ref = $("client-reference").value.trim();
    if (ref) input.clientReference = ref;
    var chosen = providers[input.provider] || {};
    // A vendor built on steps needs at least one: the simplest is to identify the person.
    if ((chosen.capabilities || []).indexOf("STEPS") >= 0) input.steps = [{ type: "IDENTIFY" }];
    gql(CREATE, { input: input }).then(function (data) {
      var payload = data.createSession;
      if (payload.userErrors.length) {
        showError(payload.userErrors.map(function (e) { return e.code + ": " + e.message; }).join("; "));
        return;
      }
      var s = payload.session;
      showSession(s, payload.warnings);
      addEvent(s.status, s.providerStatus, "API", s.createdAt);
      subscribe(s.id);
    }).catch(function (err) { showError(err.message); });
  });

  // Keyed deployment: the key is not kept across a reload; entering it resumes following.
  $("api-key").addEventListener("change", function () {
    // Keyed: nothing, not even the vendor list, answers before a key is entered.
    if (!$("provider").options.length) { showError(""); loadProviders(); }
    var id = sessionFromUrl();
    if (id && !unsubscribe) { showError(""); follow(id); }
  });

  $("client-reference").value = "console-" + Math.random().toString(36).slice(2, 10);
  loadProviders().then(function () {
    var id = sessionFromUrl();
    if (id) follow(id);
  });
})();
