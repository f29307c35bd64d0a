// What the widget remembers in the browser (localStorage, per assistant server): the session and its
// token, the messages shown, and the outbox of typed messages not yet acknowledged by the server.

function memoryStorage() {
  var data = {};
  return {
    getItem: function (k) { return Object.prototype.hasOwnProperty.call(data, k) ? data[k] : null; },
    setItem: function (k, v) { data[k] = String(v); },
    removeItem: function (k) { delete data[k]; }
  };
}

function pickStorage(win) {
  // localStorage when the browser allows it (private modes may refuse), else memory for this page.
  try {
    var probe = "__caregiver_chat_probe__";
    win.localStorage.setItem(probe, "1");
    win.localStorage.removeItem(probe);
    return win.localStorage;
  } catch (e) {
    return memoryStorage();
  }
}

function randomId() {
  // 128 random bits as hex (works on plain-http LAN pages, where crypto.randomUUID is missing).
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
}

function ChatState(storage, serverUrl) {
  this.storage = storage;
  this.key = "caregiver-chat:" + serverUrl;
  var saved = null;
  try { saved = JSON.parse(storage.getItem(this.key) || "null"); } catch (e) { saved = null; }
  saved = saved && typeof saved === "object" ? saved : {};
  this.session = saved.session && saved.session.id ? saved.session : null;
  this.messages = Array.isArray(saved.messages) ? saved.messages : [];
  this.outbox = Array.isArray(saved.outbox) ? saved.outbox : [];
  this.open = !!saved.open;
  this.dropped = {}; // ids this tab saw delivered or discarded, never to be merged back in
  this.own = {}; // ids this tab queued (or found queued when it loaded)
  var own = this.own;
  this.outbox.forEach(function (e) { own[e.id] = true; });
}

ChatState.prototype.save = function () {
  // Another tab of the site may have queued messages since this one loaded: keep them.
  var stored = null;
  try { stored = JSON.parse(this.storage.getItem(this.key) || "null"); } catch (e) { stored = null; }
  var self = this;
  var others = (stored && Array.isArray(stored.outbox)) ? stored.outbox.filter(function (e) { return e && e.id; }) : [];
  var inStorage = {};
  others.forEach(function (e) { inStorage[e.id] = true; });
  // Another tab's entries stay only while they are still queued in storage (that tab may deliver them).
  this.outbox = this.outbox.filter(function (e) { return self.own[e.id] || inStorage[e.id]; });
  var here = {};
  this.outbox.forEach(function (e) { here[e.id] = true; });
  others.forEach(function (e) { if (!here[e.id] && !self.dropped[e.id]) self.outbox.push(e); });
  var data = { session: this.session, messages: this.messages.slice(-300), outbox: this.outbox, open: this.open };
  try { this.storage.setItem(this.key, JSON.stringify(data)); } catch (e) { /* storage full: keep going in memory */ }
};

ChatState.prototype.queue = function (text, shown) {
  // Record a typed (or tapped) message before sending: it survives reloads until the server has it.
  var entry = { id: randomId(), text: text, shown: shown || text };
  this.own[entry.id] = true;
  this.outbox.push(entry);
  this.messages.push({ sender: "user", text: entry.shown, id: entry.id });
  this.save();
  return entry;
};

ChatState.prototype.delivered = function (id) {
  this.dropped[id] = true;
  this.outbox = this.outbox.filter(function (e) { return e.id !== id; });
  this.save();
};

ChatState.prototype.isQueued = function (id) {
  return this.outbox.some(function (e) { return e.id === id; });
};

ChatState.prototype.addBot = function (message) {
  // Same shape as the server's history, so a resumed conversation compares equal to what is shown.
  var entry = { sender: "bot", text: message.text || "" };
  if (message.quick_replies && message.quick_replies.length) entry.quick_replies = message.quick_replies;
  this.messages.push(entry);
  this.save();
};

ChatState.prototype.addUser = function (text) {
  this.messages.push({ sender: "user", text: text });
  this.save();
};

ChatState.prototype.adoptSession = function (state) {
  // Take the server's session. When it resumed ours, its history is the truth: keep only the queued
  // messages it has not seen. Otherwise the old view is dropped and queued messages go to the new one.
  var resumedOurs = state.resumed && this.session && this.session.id === state.session_id;
  var known = {};
  var dropped = this.dropped;
  (state.history || []).forEach(function (m) { if (m.id) { known[m.id] = true; dropped[m.id] = true; } });
  this.outbox = this.outbox.filter(function (e) { return !known[e.id]; });
  var lostSession = !!this.session && !resumedOurs;
  this.session = { id: state.session_id, token: state.session_token };
  this.messages = (resumedOurs ? state.history || [] : []).concat(
    this.outbox.map(function (e) { return { sender: "user", text: e.shown, id: e.id }; })
  );
  this.save();
  return lostSession;
};

ChatState.prototype.reset = function () {
  // "Start over": forget the conversation (queued messages included) and ask for a new session.
  var dropped = this.dropped;
  this.outbox.forEach(function (e) { dropped[e.id] = true; });
  this.session = null;
  this.messages = [];
  this.outbox = [];
  this.save();
};
