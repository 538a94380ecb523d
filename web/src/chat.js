/*
 * Vivalia — assistant de crise : le widget de conversation de la page publique.
 *
 * Talks to Rasa's Socket.IO channel over WebSocket only (events session_request /
 * session_confirm, user_uttered, bot_uttered; session_persistence: true). Plain script, no
 * framework. Every text, the user's and the assistant's, is put in the page as text nodes
 * (textContent), never as HTML; the only links made are tel: links for the phone numbers the
 * page lists in data-phones.
 *
 * The page works without this script: the essentials are in the HTML, and the chat stays hidden.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "vivalia-chat-v1";
  var MAX_HISTORY = 100;
  var CONNECT_TIMEOUT_MS = 8000;
  var RECONNECT_GRACE_MS = 4000;
  var REPLY_TIMEOUT_MS = 20000;

  var root = document.getElementById("chat");
  var app = document.getElementById("chat-app");
  var unavailable = document.getElementById("chat-unavailable");
  if (!root || !app || !unavailable) return;

  function setUnavailable(on) {
    if (on && !unavailable.hidden) return;
    unavailable.hidden = !on;
  }

  if (
    typeof window.io !== "function" ||
    !window.crypto ||
    typeof window.crypto.getRandomValues !== "function"
  ) {
    setUnavailable(true);
    return;
  }

  var log = document.getElementById("chat-log");
  var announcer = document.getElementById("chat-announcer");
  var statusLine = document.getElementById("chat-status");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var resetButton = document.getElementById("chat-reset");

  var rasaUrl = root.getAttribute("data-rasa-url") || "";
  var socketPath = root.getAttribute("data-socket-path") || "/socket.io/";
  var phones = readJson(root.getAttribute("data-phones"), []).filter(function (p) {
    return typeof p === "string" && /^[0-9][0-9 ./]{1,20}$/.test(p);
  });
  var greeting = root.getAttribute("data-greeting") || "";
  var starters = cleanButtons(readJson(root.getAttribute("data-suggestions"), []));
  var phonePattern = buildPhonePattern(phones);

  // --- Helpers -------------------------------------------------------------------------------

  function readJson(text, fallback) {
    if (!text) return fallback;
    try {
      return JSON.parse(text);
    } catch (e) {
      return fallback;
    }
  }

  function cleanButtons(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string" && b.title;
      })
      .map(function (b) {
        return { title: b.title.slice(0, 120), payload: b.payload.slice(0, 500) };
      })
      .slice(0, 10);
  }

  /** 128 random bits as 32 hex digits (what the server accepts as a session id). */
  function newSessionId() {
    for (;;) {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      var id = "";
      for (var i = 0; i < bytes.length; i++) id += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
      // The server refuses ids made of fewer than 8 distinct digits (about 1 draw in 10^7).
      var distinct = {};
      for (var j = 0; j < id.length; j++) distinct[id.charAt(j)] = true;
      if (Object.keys(distinct).length >= 8) return id;
    }
  }

  function buildPhonePattern(numbers) {
    if (!numbers.length) return null;
    var alternatives = numbers
      .slice()
      .sort(function (a, b) {
        return b.length - a.length;
      })
      .map(function (n) {
        return n.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&");
      });
    // No look-behind (older Safari): the character before the number is captured instead.
    return new RegExp("(^|[^0-9/.])(" + alternatives.join("|") + ")(?![0-9]|[/.][0-9])", "g");
  }

  /** Append one line of text, with the known phone numbers as tel: links. */
  function appendLine(parent, line) {
    var last = 0;
    var match;
    if (phonePattern) {
      phonePattern.lastIndex = 0;
      while ((match = phonePattern.exec(line)) !== null) {
        var start = match.index + match[1].length;
        if (start > last) parent.appendChild(document.createTextNode(line.slice(last, start)));
        var link = document.createElement("a");
        link.href = "tel:" + match[2].replace(/[^0-9]/g, "");
        link.textContent = match[2];
        parent.appendChild(link);
        last = start + match[2].length;
        if (match[0].length === 0) phonePattern.lastIndex++;
      }
    }
    if (last < line.length) parent.appendChild(document.createTextNode(line.slice(last)));
  }

  function appendText(parent, text) {
    String(text)
      .split("\n")
      .forEach(function (line, i) {
        if (i > 0) parent.appendChild(document.createElement("br"));
        appendLine(parent, line);
      });
  }

  // --- State, kept in sessionStorage so that a reload keeps the conversation -------------------

  var memoryStore = null;

  function loadState() {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(STORAGE_KEY);
    } catch (e) {
      raw = memoryStore;
    }
    var data = readJson(raw, null);
    if (!data || typeof data.sessionId !== "string" || !/^[0-9a-f]{32}$/.test(data.sessionId)) {
      return { sessionId: newSessionId(), messages: [] };
    }
    var messages = Array.isArray(data.messages) ? data.messages : [];
    return {
      sessionId: data.sessionId,
      messages: messages
        .filter(function (m) {
          return m && (m.who === "user" || m.who === "bot") && typeof m.text === "string";
        })
        .map(function (m) {
          return { who: m.who, text: m.text, buttons: cleanButtons(m.buttons) };
        })
        .slice(-MAX_HISTORY),
    };
  }

  function saveState() {
    state.messages = state.messages.slice(-MAX_HISTORY);
    var raw = JSON.stringify(state);
    try {
      window.sessionStorage.setItem(STORAGE_KEY, raw);
    } catch (e) {
      memoryStore = raw;
    }
  }

  var state = loadState();
  saveState();

  // --- Rendering -------------------------------------------------------------------------------

  function isDateNote(text) {
    return /^Information du [^\n]{1,40}\.$/.test(text);
  }

  function renderMessage(message, withButtons) {
    var item = document.createElement("li");
    item.className = "msg msg-" + message.who + (isDateNote(message.text) ? " msg-note" : "");
    var author = document.createElement("span");
    author.className = "msg-author";
    author.textContent = message.who === "user" ? "Vous" : "Assistant";
    var body = document.createElement("p");
    body.className = "msg-text";
    var lines = message.text.split("\n");
    var last = lines[lines.length - 1];
    if (message.who === "bot" && lines.length > 1 && isDateNote(last)) {
      // "Information du 17 mai." closes each answer: shown smaller, on its own line.
      appendText(body, lines.slice(0, -1).join("\n"));
      var date = document.createElement("span");
      date.className = "msg-date";
      date.textContent = last;
      body.appendChild(date);
    } else {
      appendText(body, message.text);
    }
    item.appendChild(author);
    item.appendChild(body);
    if (withButtons && message.buttons && message.buttons.length) {
      item.appendChild(renderButtons(message.buttons));
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function renderButtons(buttons) {
    var group = document.createElement("div");
    group.className = "suggestions";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Réponses proposées");
    buttons.forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.textContent = b.title;
      button.addEventListener("click", function () {
        send(b.payload, b.title);
        input.focus();
      });
      group.appendChild(button);
    });
    return group;
  }

  function renderGreeting() {
    if (!greeting && !starters.length) return;
    renderMessage({ who: "bot", text: greeting || "Bonjour.", buttons: starters }, true);
  }

  function renderAll() {
    log.textContent = "";
    if (!state.messages.length) {
      renderGreeting();
      return;
    }
    state.messages.forEach(function (m, i) {
      renderMessage(m, i === state.messages.length - 1);
    });
  }

  function clearButtons() {
    var groups = log.querySelectorAll(".suggestions");
    for (var i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
    state.messages.forEach(function (m) {
      m.buttons = [];
    });
  }

  function announce(text) {
    var p = document.createElement("p");
    p.textContent = text;
    announcer.appendChild(p);
    while (announcer.childNodes.length > 4) announcer.removeChild(announcer.firstChild);
  }

  function setStatus(text) {
    statusLine.textContent = text;
  }

  // --- Connection ------------------------------------------------------------------------------

  var ready = false; // connected and the session confirmed
  var everConnected = false;
  var pending = []; // messages typed while the session was being confirmed
  var connectTimer = null;
  var replyTimer = null;

  function clearTimer(timer) {
    if (timer !== null) window.clearTimeout(timer);
    return null;
  }

  function goneUnavailable() {
    ready = false;
    noAnswer();
    // Never reached and nothing to show: the notice alone, rather than a chat that cannot work.
    if (!everConnected && !state.messages.length) app.hidden = true;
  }

  /** No reply in time: say so, but keep the connection (a later reply hides the notice). */
  function noAnswer() {
    replyTimer = clearTimer(replyTimer);
    setUnavailable(true);
    setStatus("Assistant indisponible");
  }

  // WebSocket only, no HTTP long-polling first: Rasa may run several worker processes, and the
  // polling requests of one connection would reach different ones (the server refuses polling).
  var socket = window.io(rasaUrl, {
    path: socketPath,
    transports: ["websocket"],
    timeout: CONNECT_TIMEOUT_MS,
    reconnectionDelay: 2000,
    reconnectionDelayMax: 15000,
    withCredentials: false,
  });

  connectTimer = window.setTimeout(function () {
    if (!ready) goneUnavailable();
  }, CONNECT_TIMEOUT_MS);

  function requestSession() {
    socket.emit("session_request", { session_id: state.sessionId });
  }

  socket.on("connect", function () {
    setStatus("Connexion à l'assistant…");
    requestSession();
  });

  socket.on("session_confirm", function (sessionId) {
    if (sessionId !== state.sessionId) return;
    ready = true;
    everConnected = true;
    app.hidden = false;
    connectTimer = clearTimer(connectTimer);
    setUnavailable(false);
    setStatus("Assistant en ligne");
    var queued = pending;
    pending = [];
    queued.forEach(function (text) {
      emitMessage(text);
    });
  });

  socket.on("connect_error", function () {
    goneUnavailable();
  });

  socket.on("disconnect", function (reason) {
    ready = false;
    setStatus("Reconnexion…");
    connectTimer = clearTimer(connectTimer);
    connectTimer = window.setTimeout(function () {
      if (!ready) goneUnavailable();
    }, RECONNECT_GRACE_MS);
    if (reason === "io server disconnect") socket.connect();
  });

  socket.on("bot_uttered", function (data) {
    if (!data || typeof data !== "object") return;
    var text = typeof data.text === "string" ? data.text : "";
    var buttons = cleanButtons(data.quick_replies || data.buttons || []);
    if (!text && !buttons.length) return;
    replyTimer = clearTimer(replyTimer);
    setUnavailable(false);
    setStatus("Assistant en ligne");
    clearButtons();
    var message = { who: "bot", text: text, buttons: buttons };
    state.messages.push(message);
    saveState();
    renderMessage(message, true);
    var spoken = "Assistant : " + text;
    if (buttons.length) {
      spoken +=
        " Réponses proposées : " +
        buttons
          .map(function (b) {
            return b.title;
          })
          .join(", ") +
        ".";
    }
    announce(spoken);
  });

  function emitMessage(text) {
    socket.emit("user_uttered", { message: text, session_id: state.sessionId });
    setStatus("L'assistant écrit…");
    replyTimer = clearTimer(replyTimer);
    replyTimer = window.setTimeout(noAnswer, REPLY_TIMEOUT_MS);
  }

  /** Send a message; `shown` is what the conversation shows (a button's title). */
  function send(text, shown) {
    text = String(text || "").trim();
    if (!text) return false;
    if (!ready && !socket.connected) {
      // Say it again, so that a screen reader hears it (role="alert").
      setUnavailable(false);
      window.setTimeout(function () {
        setUnavailable(true);
      }, 50);
      return false;
    }
    clearButtons();
    if (!state.messages.length) log.textContent = ""; // the local greeting goes
    var message = { who: "user", text: String(shown || text), buttons: [] };
    state.messages.push(message);
    saveState();
    renderMessage(message, false);
    if (ready) emitMessage(text);
    else pending.push(text);
    return true;
  }

  // --- Controls --------------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (send(input.value)) input.value = "";
    input.focus();
  });

  resetButton.addEventListener("click", function () {
    state = { sessionId: newSessionId(), messages: [] };
    saveState();
    pending = [];
    replyTimer = clearTimer(replyTimer);
    renderAll();
    announce("Nouvelle conversation.");
    if (socket.connected) {
      ready = false;
      requestSession();
    }
    input.value = "";
    input.focus();
  });

  renderAll();
  app.hidden = false;
})();
