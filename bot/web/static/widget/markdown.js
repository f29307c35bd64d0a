// Safe Markdown for chat messages. Builds DOM nodes with textContent only: message text can never
// inject HTML. Supports paragraphs, line breaks, "-"/"*" and "1." lists, **bold**, *italic*, `code`,
// [links](https://...) and bare http(s) links. Links open in a new tab; other URL schemes are dropped.

var SAFE_SCHEMES = ["http:", "https:", "mailto:", "tel:"];
var INLINE = /\[([^\]\n]+)\]\(([^()\s]+)\)|\*\*([^*\n]+?)\*\*|__([^_\n]+?)__|\*([^*\s][^*\n]*?)\*|_([^_\s][^_\n]*?)_(?![A-Za-z0-9])|`([^`\n]+)`|(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"])/g;

function safeUrl(url) {
  // The URL if it is absolute and uses an allowed scheme, else null.
  var parsed;
  try {
    parsed = new URL(String(url).trim());
  } catch (e) {
    return null;
  }
  return SAFE_SCHEMES.indexOf(parsed.protocol) >= 0 ? parsed.href : null;
}

function makeLink(doc, href, label) {
  var a = doc.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  appendInline(doc, a, label, true);
  return a;
}

function appendInline(doc, parent, text, insideLink) {
  // Append text to parent, turning inline Markdown into elements.
  var last = 0;
  var match;
  var pattern = new RegExp(INLINE.source, "g");
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) parent.appendChild(doc.createTextNode(text.slice(last, match.index)));
    last = pattern.lastIndex;
    if (match[1] !== undefined) {
      var href = safeUrl(match[2]);
      if (href && !insideLink) parent.appendChild(makeLink(doc, href, match[1]));
      else appendInline(doc, parent, match[1], insideLink);
    } else if (match[3] !== undefined || match[4] !== undefined) {
      var strong = doc.createElement("strong");
      appendInline(doc, strong, match[3] !== undefined ? match[3] : match[4], insideLink);
      parent.appendChild(strong);
    } else if (match[5] !== undefined || match[6] !== undefined) {
      var em = doc.createElement("em");
      appendInline(doc, em, match[5] !== undefined ? match[5] : match[6], insideLink);
      parent.appendChild(em);
    } else if (match[7] !== undefined) {
      var code = doc.createElement("code");
      code.textContent = match[7];
      parent.appendChild(code);
    } else {
      var bare = safeUrl(match[8]);
      if (bare && !insideLink) parent.appendChild(makeLink(doc, bare, match[8]));
      else parent.appendChild(doc.createTextNode(match[8]));
    }
  }
  if (last < text.length) parent.appendChild(doc.createTextNode(text.slice(last)));
}

var LIST_ITEM = /^\s*(?:([-*•])|(\d{1,3})[.)])\s+(.*)$/;

function renderMarkdown(text, doc) {
  // A DocumentFragment for one message.
  doc = doc || document;
  var fragment = doc.createDocumentFragment();
  var lines = String(text == null ? "" : text).replace(/\r\n?/g, "\n").split("\n");
  var paragraph = null;
  var list = null;
  lines.forEach(function (line) {
    var item = LIST_ITEM.exec(line);
    if (!line.trim()) {
      paragraph = null;
      list = null;
    } else if (item) {
      var tag = item[1] ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = doc.createElement(tag);
        fragment.appendChild(list);
      }
      var li = doc.createElement("li");
      appendInline(doc, li, item[3], false);
      list.appendChild(li);
      paragraph = null;
    } else {
      list = null;
      if (paragraph) paragraph.appendChild(doc.createElement("br"));
      else {
        paragraph = doc.createElement("p");
        fragment.appendChild(paragraph);
      }
      appendInline(doc, paragraph, line, false);
    }
  });
  return fragment;
}
