/* kyc-gateway console: create a session, follow its status live (graphql-transport-ws),
   and see the outbound webhooks it caused. The followed session's id is kept in the URL
   (#session=…), so a reload follows it again. */
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
      if (body.errors && body.errors.length) {
        var error = new Error(body.errors[0].message);
        error.code = (body.errors[0].extensions || {}).code;  // FORBIDDEN, UNAUTHENTICATED, …
        throw error;
      }
      return body.data;
    });
  }

  function showError(message) {
    var el = $("error");
    el.textContent = message || "";
    el.hidden = !message;
  }

  /* False when the change is on the timeline already. */
  function addEvent(status, providerStatus, source, at, cursor) {
    if (cursor) {
      if (seen[cursor]) return false;
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
    return true;
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
        // A new status means new webhooks to the integrator: show how they went.
        if (addEvent(e.status, e.providerStatus, e.source, e.occurredAt, e.cursor)) {
          webhooksSoon();
        }
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
    webhookSession = s.id;
    $("session-deliveries").hidden = false;
    refreshWebhooks(true);
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

  /* Outbound webhooks (webhooks:manage): the endpoints, and the followed session's last
     deliveries with every attempt. Refreshed on each status change and on the button; while
     a delivery is still PENDING or SENDING, again after a pause that doubles up to 30 s. */
  var ENDPOINT_FIELDS = "webhookEndpoints { id url events providers enabled disabledReason " +
    "static }";
  var DELIVERY_FIELDS = "webhookDeliveries(sessionId: $id, first: 20) { edges { node { id " +
    "webhookId eventType endpointId status attemptCount lastStatusCode lastError " +
    "attempts { attemptedAt statusCode error } } } }";
  var IN_FLIGHT = ["PENDING", "SENDING"];
  var FIRST_PAUSE_MS = 1000;
  var LONGEST_PAUSE_MS = 30000;
  var webhookSession = null;  // the session whose deliveries are shown
  var webhookRun = 0;  // only the latest refresh's answer is shown
  var webhookTimer = null;
  var webhookPause = FIRST_PAUSE_MS;

  function cell(row, label, text) {
    var td = document.createElement("td");
    td.dataset.label = label;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  /* "500", "500: <the answer's start>", or why nothing answered ("timeout (…)"). */
  function answerText(statusCode, error) {
    if (statusCode === null || statusCode === undefined) return error || "no answer";
    var prefix = "HTTP " + statusCode;
    var rest = error && error.indexOf(prefix) === 0 ? error.slice(prefix.length) : error;
    return String(statusCode) + (rest ? (rest.charAt(0) === ":" ? rest : ": " + rest) : "");
  }

  function webhooksNote(text) {
    var note = $("webhooks-note");
    note.textContent = text || "";
    note.hidden = !text;
  }

  function showEndpoints(endpoints) {
    var table = $("webhook-endpoints");
    var body = table.tBodies[0];
    body.textContent = "";
    var urls = {};
    endpoints.forEach(function (e) {
      urls[e.id] = e.url;
      var row = document.createElement("tr");
      row.dataset.endpointId = e.id;
      cell(row, "url", e.url);
      cell(row, "events", e.events.join(", "));
      cell(row, "providers", e.providers.length ? e.providers.join(", ") : "all");
      cell(row, "state", e.enabled ? "enabled" : "disabled: " + (e.disabledReason || "no reason"));
      cell(row, "static", e.static ? "yes" : "no");
      body.appendChild(row);
    });
    table.hidden = !endpoints.length;
    webhooksNote(endpoints.length ? "" : "No webhook endpoints yet: create one with the " +
      "createWebhookEndpoint mutation (in GraphiQL) or set KYCGW_WEBHOOK_ENDPOINTS.");
    return urls;
  }

  /* True when a delivery is still on its way (worth asking again soon). */
  function showDeliveries(edges, urls) {
    var table = $("webhook-deliveries");
    var body = table.tBodies[0];
    body.textContent = "";
    var inFlight = false;
    edges.forEach(function (edge) {
      var d = edge.node;
      if (IN_FLIGHT.indexOf(d.status) >= 0) inFlight = true;
      var row = document.createElement("tr");
      row.dataset.deliveryId = d.id;
      row.dataset.eventType = d.eventType;
      row.dataset.status = d.status;
      cell(row, "event", d.eventType);
      cell(row, "status", d.status).className = "delivery-" + d.status.toLowerCase();
      cell(row, "attempts", String(d.attemptCount));
      cell(row, "last answer", d.attemptCount ? answerText(d.lastStatusCode, d.lastError) : "");
      cell(row, "endpoint", urls[d.endpointId] || d.endpointId);
      var id = document.createElement("code");
      id.textContent = d.webhookId;
      cell(row, "webhook id", "").appendChild(id);
      var log = document.createElement("ol");
      log.className = "attempts";
      d.attempts.forEach(function (a) {
        var item = document.createElement("li");
        item.dataset.answer = a.statusCode === null ? a.error || "no answer" : String(a.statusCode);
        item.textContent = new Date(a.attemptedAt).toLocaleTimeString() + " " +
          answerText(a.statusCode, a.error);
        log.appendChild(item);
      });
      cell(row, "attempt log", "").appendChild(log);
      body.appendChild(row);
    });
    table.hidden = !edges.length;
    var note = $("deliveries-note");
    note.textContent = edges.length ? "" : "No deliveries for this session yet.";
    note.hidden = !!edges.length;
    return inFlight;
  }

  function webhooksRefused(err) {
    $("webhook-endpoints").hidden = true;
    $("session-deliveries").hidden = true;
    if (err.code === "FORBIDDEN") {
      webhooksNote("This API key lacks the webhooks:manage scope.");
    } else if (err.code === "UNAUTHENTICATED") {
      webhooksNote("Enter an API key with the webhooks:manage scope to see the webhooks.");
    } else {
      webhooksNote("webhooks: " + err.message);
    }
  }

  /* `fresh`: a new reason to look (a change, the button), so the pauses start short again. */
  function refreshWebhooks(fresh) {
    clearTimeout(webhookTimer);
    if (fresh) webhookPause = FIRST_PAUSE_MS;
    var run = ++webhookRun;
    var sessionId = webhookSession;
    var query = sessionId ? "query($id: ID!) { " + ENDPOINT_FIELDS + " " + DELIVERY_FIELDS + " }"
      : "{ " + ENDPOINT_FIELDS + " }";
    gql(query, sessionId ? { id: sessionId } : {}).then(function (data) {
      if (run !== webhookRun) return;
      var urls = showEndpoints(data.webhookEndpoints);
      $("session-deliveries").hidden = !sessionId;
      if (!sessionId) return;
      if (showDeliveries(data.webhookDeliveries.edges, urls)) {
        webhookTimer = setTimeout(refreshWebhooks, webhookPause);
        webhookPause = Math.min(webhookPause * 2, LONGEST_PAUSE_MS);
      }
    }).catch(function (err) {
      if (run === webhookRun) webhooksRefused(err);
    });
  }

  /* After a status change: the gateway writes its webhooks in the same commit and sends
     them at once; a moment later most have their first answer. */
  function webhooksSoon() {
    clearTimeout(webhookTimer);
    webhookPause = FIRST_PAUSE_MS;
    webhookTimer = setTimeout(refreshWebhooks, 300);
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
    refreshWebhooks(true);
  });

  $("webhooks-refresh").addEventListener("click", function () { refreshWebhooks(true); });

  $("client-reference").value = "console-" + Math.random().toString(36).slice(2, 10);
  refreshWebhooks(true);
  loadProviders().then(function () {
    var id = sessionFromUrl();
    if (id) follow(id);
  });
})();
