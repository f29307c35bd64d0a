// The chat widget: launcher bubble, chat panel, and the socket.io conversation with the assistant.
// Configure with window.CaregiverChatConfig (set before the script) or data-* attributes on the script
// tag: serverUrl, title, lang, disclaimer, colors {primary}, strings {...}, openOnLoad.

var DEFAULTS = {
  serverUrl: null,
  socketPath: "/socket.io",
  title: STRINGS.en.title,  // the catalogue's widget.title
  lang: "en",
  disclaimer: null,
  colors: { primary: "#1f5f8b" },
  strings: {},
  openOnLoad: false,
  unreachableAfterMs: 8000,
  ackTimeoutMs: 90000,
  maxMessageChars: 1000
};

function mergeConfig(pageConfig, scriptData, scriptSrc) {
  // Defaults, then the script tag's data-* attributes, then the page's config object.
  var config = JSON.parse(JSON.stringify(DEFAULTS));
  var layers = [scriptData || {}, pageConfig || {}];
  layers.forEach(function (layer) {
    Object.keys(layer).forEach(function (key) {
      if (layer[key] === undefined || layer[key] === null || !(key in DEFAULTS)) return;
      if (key === "colors" || key === "strings") {
        Object.keys(layer[key] || {}).forEach(function (k) { config[key][k] = layer[key][k]; });
      } else {
        config[key] = layer[key];
      }
    });
  });
  if (!config.serverUrl) {
    // Default: the Rasa port (5005) on the host that served this script.
    var base = scriptSrc ? new URL(scriptSrc) : new URL(location.href);
    config.serverUrl = base.protocol + "//" + base.hostname + ":5005";
  }
  config.serverUrl = String(config.serverUrl).replace(/\/+$/, "");
  return config;
}

var ICON = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

function suggestion(example) {
  // A suggested question: the catalogue's {title, payload}, or a page's plain text (sent as shown).
  return typeof example === "string" ? { title: example, payload: example } : { title: example.title, payload: example.payload };
}

function el(doc, tag, attrs, text) {
  var node = doc.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
  if (text !== undefined) node.textContent = text;
  return node;
}

// A bot message that starts with a bold heading line shows as a collapsible section: a list of sources closed
// (its heading and how many), a long part of the advice ("What you can try", "Why it happens") open.
var SOURCES_HEADING = /^(all )?sources|^fuentes|^toutes les sources/i;
var SECTION_WORDS = 60;

function sectionOf(text) {
  var found = /^\s*\*\*([^*\n]{1,80})\*\*\s*\n([\s\S]+)$/.exec(text || "");
  if (!found) return null;
  var heading = found[1].trim();
  var rest = found[2];
  var sources = SOURCES_HEADING.test(heading);
  if (!sources && rest.split(/\s+/).length < SECTION_WORDS) return null;
  var count = rest.split("\n").filter(function (line) { return /^\s*[-*] /.test(line); }).length;
  return { heading: heading, rest: rest, sources: sources, count: count };
}

function ChatWidget(config, win, io) {
  this.config = config;
  this.win = win;
  this.doc = win.document;
  this.io = io;
  this.text = uiStrings(config.lang, config.strings);
  if (config.disclaimer) this.text.disclaimer = config.disclaimer;
  this.state = new ChatState(pickStorage(win), config.serverUrl);
  this.maxChars = config.maxMessageChars;
  this.socket = null;
  this.ready = false; // connected and the session confirmed
  this.sending = false;
  this.everConnected = false;
  this.unreachableTimer = null;
  this.pendingNote = null;
  this.generation = 0; // bumps on every disconnect
}

ChatWidget.prototype.mount = function () {
  var doc = this.doc;
  var t = this.text;
  var primary = safeColor(this.config.colors.primary, DEFAULTS.colors.primary);
  this.host = el(doc, "div", { id: "caregiver-chat", "data-caregiver-chat": "" });
  var shadow = this.host.attachShadow({ mode: "open" });
  var style = el(doc, "style");
  style.textContent = WIDGET_CSS;
  shadow.appendChild(style);
  var root = el(doc, "div", { class: "root", lang: String(this.config.lang) });
  root.style.setProperty("--primary", primary);
  root.style.setProperty("--on-primary", readableTextColor(primary));
  root.style.setProperty("--primary-on-white", contrastRatio(primary, "#ffffff") >= 4.5 ? primary : "#000000");
  shadow.appendChild(root);

  this.launcher = el(doc, "button", { type: "button", class: "launcher", "aria-label": t.open, "aria-expanded": "false", "aria-controls": "caregiver-chat-panel" });
  this.launcher.innerHTML = ICON; // a constant icon, no message text
  this.launcher.appendChild(el(doc, "span", {}, this.config.title));
  root.appendChild(this.launcher);

  this.panel = el(doc, "section", { id: "caregiver-chat-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "caregiver-chat-title", hidden: "" });
  var header = el(doc, "div", { class: "header" });
  header.appendChild(el(doc, "h2", { class: "title", id: "caregiver-chat-title" }, this.config.title));
  this.restartButton = el(doc, "button", { type: "button", class: "restart" }, t.startOver);
  this.closeButton = el(doc, "button", { type: "button", class: "close", "aria-label": t.close }, "×");
  header.appendChild(this.restartButton);
  header.appendChild(this.closeButton);
  this.panel.appendChild(header);
  this.banner = el(doc, "p", { class: "banner", role: "status", hidden: "" });
  this.panel.appendChild(this.banner);
  this.log = el(doc, "div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": t.messagesLabel, tabindex: "0" });
  this.panel.appendChild(this.log);
  this.typing = el(doc, "div", { class: "typing", role: "status", hidden: "" });
  this.typing.appendChild(el(doc, "span", { "aria-hidden": "true" }));
  this.typing.appendChild(el(doc, "span", { "aria-hidden": "true" }));
  this.typing.appendChild(el(doc, "span", { "aria-hidden": "true" }));
  this.typing.appendChild(el(doc, "span", { class: "sr-only" }, t.typing));
  this.limit = el(doc, "p", { class: "limit", role: "alert", hidden: "" });
  var composer = el(doc, "form", { class: "composer" });
  this.input = el(doc, "textarea", { rows: "1", "aria-label": t.inputLabel, placeholder: t.placeholder, "aria-describedby": "caregiver-chat-limit" });
  this.limit.id = "caregiver-chat-limit";
  this.sendButton = el(doc, "button", { type: "submit", class: "send" }, t.send);
  composer.appendChild(this.input);
  composer.appendChild(this.sendButton);
  this.panel.appendChild(this.limit);
  this.panel.appendChild(composer);
  root.appendChild(this.panel);
  doc.body.appendChild(this.host);

  var self = this;
  this.launcher.addEventListener("click", function () { self.toggle(); });
  this.closeButton.addEventListener("click", function () { self.close(); });
  this.restartButton.addEventListener("click", function () { self.startOver(); });
  composer.addEventListener("submit", function (event) { event.preventDefault(); self.submit(); });
  this.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      self.submit();
    }
  });
  this.input.addEventListener("input", function () { self.checkLength(); });
  this.panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") self.close();
  });

  this.render();
  if (this.state.open || this.config.openOnLoad) this.open(false);
  if (this.state.session || this.state.outbox.length || this.state.open) this.connect();
};

// ---- panel ----

ChatWidget.prototype.toggle = function () {
  if (this.panel.hidden) this.open(true);
  else this.close();
};

ChatWidget.prototype.open = function (focus) {
  this.panel.hidden = false;
  this.launcher.setAttribute("aria-expanded", "true");
  this.launcher.classList.add("is-open");
  this.state.open = true;
  this.state.save();
  this.connect();
  this.scrollToEnd();
  if (focus) this.input.focus();
};

ChatWidget.prototype.close = function () {
  this.panel.hidden = true;
  this.launcher.setAttribute("aria-expanded", "false");
  this.launcher.classList.remove("is-open");
  this.state.open = false;
  this.state.save();
  this.launcher.focus();
};

ChatWidget.prototype.showBanner = function (text, kind) {
  this.banner.textContent = text || "";
  this.banner.className = "banner" + (kind ? " " + kind : "");
  this.banner.hidden = !text;
};

ChatWidget.prototype.scrollToEnd = function () {
  var reduce = this.win.matchMedia && this.win.matchMedia("(prefers-reduced-motion: reduce)").matches;
  this.log.scrollTo({ top: this.log.scrollHeight, behavior: reduce ? "auto" : "smooth" });
};

// ---- rendering ----

ChatWidget.prototype.render = function () {
  // Redraw the whole conversation from state (on start and when the server sends history).
  this.log.textContent = "";
  this.log.appendChild(el(this.doc, "p", { class: "disclaimer", role: "note" }, this.text.disclaimer));
  if (!this.state.messages.length) {
    this.appendMessage({ sender: "bot", text: this.text.greeting, quick_replies: this.text.suggestions.map(suggestion) }, true);
  }
  var self = this;
  var lastBot = -1;
  this.state.messages.forEach(function (m, i) { if (m.sender === "bot") lastBot = i; });
  this.state.messages.forEach(function (m, i) {
    var withReplies = i === lastBot && i === self.state.messages.length - 1;
    self.appendMessage(m, withReplies);
  });
  this.log.appendChild(this.typing);
  this.updateTyping();
};

ChatWidget.prototype.appendMessage = function (message, withReplies) {
  var doc = this.doc;
  var bubble = el(doc, "div", { class: "msg " + (message.sender === "user" ? "user" : "bot") });
  bubble.appendChild(el(doc, "span", { class: "sr-only" }, (message.sender === "user" ? this.text.you : this.text.assistant) + ": "));
  var body = el(doc, "div", { class: "body" });
  var section = sectionOf(message.sender === "user" ? "" : message.text);
  if (section) {
    var details = el(doc, "details", section.sources ? {} : { open: "" });
    details.appendChild(el(doc, "summary", {}, section.sources ? section.heading + " (" + section.count + ")" : section.heading));
    details.appendChild(renderMarkdown(section.rest, doc));
    body.appendChild(details);
  } else {
    body.appendChild(renderMarkdown(message.text, doc));
  }
  bubble.appendChild(body);
  if (section && section.sources) bubble.classList.add("sources");
  if (message.id && this.state.isQueued(message.id)) {
    bubble.setAttribute("data-queued", message.id);
    bubble.appendChild(el(doc, "span", { class: "status" }, this.text.queued));
  }
  if (message.failed) bubble.appendChild(el(doc, "span", { class: "status" }, this.text.failed));
  this.log.insertBefore(bubble, this.typing.parentNode === this.log ? this.typing : null);
  this.clearReplies();
  if (withReplies && message.quick_replies && message.quick_replies.length) this.appendReplies(message.quick_replies);
  this.scrollToEnd();
  return bubble;
};

ChatWidget.prototype.appendNote = function (text) {
  var note = el(this.doc, "p", { class: "note" }, text);
  this.log.insertBefore(note, this.typing.parentNode === this.log ? this.typing : null);
};

ChatWidget.prototype.clearReplies = function () {
  var old = this.log.querySelectorAll(".replies");
  Array.prototype.forEach.call(old, function (node) { node.remove(); });
};

ChatWidget.prototype.appendReplies = function (replies) {
  var self = this;
  var group = el(this.doc, "div", { class: "replies", role: "group", "aria-label": this.text.suggestionsLabel });
  replies.forEach(function (reply) {
    var button = el(self.doc, "button", { type: "button" }, reply.title);
    button.addEventListener("click", function () {
      var hadFocus = group.contains(self.doc.activeElement) || group.contains(self.host.shadowRoot.activeElement);
      self.send(reply.payload, reply.title);
      if (hadFocus) self.input.focus();
    });
    group.appendChild(button);
  });
  this.log.insertBefore(group, this.typing.parentNode === this.log ? this.typing : null);
};

ChatWidget.prototype.updateTyping = function () {
  this.typing.hidden = !(this.ready && this.sending);
  if (!this.typing.hidden) this.scrollToEnd();
};

// ---- composing ----

ChatWidget.prototype.checkLength = function () {
  var count = this.input.value.length;
  var over = count > this.maxChars;
  this.sendButton.disabled = over;
  this.limit.hidden = !over;
  this.limit.textContent = over ? format(this.text.tooLong, { max: this.maxChars, count: count }) : "";
  return !over;
};

ChatWidget.prototype.submit = function () {
  var text = this.input.value.trim();
  if (!text || !this.checkLength()) return;
  this.input.value = "";
  this.send(text, text);
  this.input.focus();
};

ChatWidget.prototype.send = function (text, shown) {
  var entry = this.state.queue(text, shown);
  this.appendMessage({ sender: "user", text: entry.shown, id: entry.id }, false);
  this.connect();
  this.flush();
};

ChatWidget.prototype.markSent = function (id) {
  var node = this.log.querySelector('[data-queued="' + id + '"]');
  if (!node) return;
  node.removeAttribute("data-queued");
  var status = node.querySelector(".status");
  if (status) status.remove();
};

ChatWidget.prototype.flush = function () {
  // Send queued messages one at a time, in order; each stays queued until the server acknowledges it.
  // A re-send carries the same id, so the server runs it once.
  if (!this.ready || this.sending || !this.state.outbox.length) return;
  var self = this;
  var entry = this.state.outbox[0];
  var generation = this.generation;
  var payload = { message: entry.text, client_id: entry.id };
  if (entry.shown !== entry.text) payload.shown_as = entry.shown;
  this.sending = true;
  this.updateTyping();
  this.socket.timeout(this.config.ackTimeoutMs).emit("user_uttered", payload, function (err, ack) {
    if (generation !== self.generation) return; // the connection it was sent on is gone; the reconnect re-sends
    self.sending = false;
    if (!err && ack && (ack.ok || ack.error === "too_long")) {
      self.state.delivered(entry.id);
      self.markSent(entry.id);
    }
    self.updateTyping();
    var delivered = !err && ack && (ack.ok || ack.error === "too_long");
    if (delivered) self.flush();
    else self.win.setTimeout(function () { self.flush(); }, 3000); // timeout or server trouble: try again shortly
  });
};

// ---- connection ----

ChatWidget.prototype.connect = function () {
  if (this.socket) return;
  var self = this;
  this.socket = this.io(this.config.serverUrl, {
    path: this.config.socketPath,
    transports: ["websocket", "polling"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
    timeout: 8000
  });
  this.unreachableTimer = this.win.setTimeout(function () {
    if (!self.ready) self.showBanner(self.text.unreachable, "error");
  }, this.config.unreachableAfterMs);
  this.socket.on("connect", function () {
    var session = self.state.session;
    self.socket.emit("session_request", session ? { session_id: session.id, session_token: session.token } : {});
  });
  this.socket.on("session_state", function (state) { self.onSession(state); });
  this.socket.on("bot_uttered", function (message) { self.onBotMessage(message); });
  this.socket.on("user_echo", function (message) {
    self.state.addUser(message.text);
    self.appendMessage({ sender: "user", text: message.text }, false);
  });
  this.socket.on("disconnect", function () {
    self.generation += 1;
    self.ready = false;
    self.sending = false;
    self.updateTyping();
    self.showBanner(self.text.offline);
    self.win.clearTimeout(self.unreachableTimer);
    self.unreachableTimer = self.win.setTimeout(function () {
      if (!self.ready) self.showBanner(self.text.unreachable, "error");
    }, self.config.unreachableAfterMs);
  });
  this.socket.on("connect_error", function () {
    if (!self.ready && self.banner.hidden) self.showBanner(self.text.offline);
  });
};

ChatWidget.prototype.onSession = function (state) {
  this.win.clearTimeout(this.unreachableTimer);
  if (state.max_message_chars) this.maxChars = state.max_message_chars;
  var shown = JSON.stringify(this.state.messages);
  var lost = this.state.adoptSession(state);
  this.ready = true;
  // Redraw only when the server's history differs from what is shown, so screen readers do not
  // hear the whole conversation again on every reconnect.
  if (lost || this.pendingNote || JSON.stringify(this.state.messages) !== shown) this.render();
  if (lost) this.appendNote(this.text.newSession);
  if (this.pendingNote) this.appendNote(this.pendingNote);
  this.pendingNote = null;
  if (this.everConnected && !this.banner.hidden) {
    this.showBanner(this.text.reconnected, "ok");
    var self = this;
    this.win.setTimeout(function () { if (self.ready) self.showBanner(""); }, 2500);
  } else {
    this.showBanner("");
  }
  this.everConnected = true;
  this.checkLength();
  this.flush();
};

ChatWidget.prototype.onBotMessage = function (message) {
  message = message && typeof message === "object" ? message : { text: String(message || "") };
  var replies = (message.quick_replies || message.buttons || []).map(function (b) { return { title: b.title, payload: b.payload }; });
  var entry = { sender: "bot", text: message.text || "", quick_replies: replies };
  this.state.addBot(entry);
  this.appendMessage(entry, true);
};

ChatWidget.prototype.startOver = function () {
  var previous = this.state.session; // revoked on the server: its token no longer opens the conversation
  this.state.reset();
  this.render();
  this.appendNote(this.text.startOverDone);
  this.pendingNote = this.text.startOverDone; // shown again once the new session is confirmed
  if (this.socket && this.socket.connected) {
    this.generation += 1;
    this.ready = false;
    this.sending = false;
    this.socket.emit("session_request", previous ? { session_id: previous.id, session_token: previous.token, revoke: true } : {});
  } else {
    this.connect();
  }
  this.input.focus();
};

function scriptData(script) {
  // Config from data-* attributes of the embedding script tag.
  if (!script) return {};
  var d = script.dataset;
  var data = { serverUrl: d.serverUrl, title: d.title, lang: d.lang, disclaimer: d.disclaimer, openOnLoad: d.openOnLoad === "true" ? true : undefined };
  if (d.primaryColor) data.colors = { primary: d.primaryColor };
  return data;
}

function boot(win, script) {
  if (win.CaregiverChat && win.CaregiverChat.widget) return win.CaregiverChat.widget;
  var config = mergeConfig(win.CaregiverChatConfig, scriptData(script), script && script.src);
  var widget = new ChatWidget(config, win, socketIo);
  var start = function () { widget.mount(); };
  if (win.document.body) start();
  else win.document.addEventListener("DOMContentLoaded", start);
  return widget;
}
