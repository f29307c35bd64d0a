// Interface text: STRINGS (by language, from the message catalogue knowledge/messages/) is written into the bundle
// by bot/web/bundle.py. English is complete; another language (config `lang`) may translate only some keys, and
// config `strings` overrides any of them.

function uiStrings(lang, overrides) {
  // English as the base, then the language's own strings, then the page's overrides.
  var base = {};
  var code = String(lang || "en").toLowerCase().split("-")[0];
  [STRINGS.en, STRINGS[code] || {}, overrides || {}].forEach(function (layer) {
    Object.keys(layer).forEach(function (key) { base[key] = layer[key]; });
  });
  return base;
}

function format(template, values) {
  return String(template).replace(/\{(\w+)\}/g, function (_, key) {
    return values[key] !== undefined ? String(values[key]) : "{" + key + "}";
  });
}
