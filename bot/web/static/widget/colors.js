// Colour helpers: the widget picks black or white text for the configured brand colour so that
// buttons and bubbles keep WCAG AA contrast (4.5:1) whatever colour a site chooses.

function parseColor(value) {
  var hex = String(value || "").trim().replace(/^#/, "");
  if (/^[0-9a-f]{3}$/i.test(hex)) hex = hex.replace(/./g, function (c) { return c + c; });
  if (!/^[0-9a-f]{6}$/i.test(hex)) return null;
  return [0, 2, 4].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
}

function luminance(rgb) {
  var c = rgb.map(function (v) {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

function contrastRatio(a, b) {
  var la = luminance(parseColor(a));
  var lb = luminance(parseColor(b));
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function readableTextColor(background) {
  // "#ffffff" or "#000000", whichever contrasts more: one of them always reaches 4.58:1.
  if (!parseColor(background)) return "#ffffff";
  return contrastRatio(background, "#ffffff") >= contrastRatio(background, "#000000") ? "#ffffff" : "#000000";
}

function safeColor(value, fallback) {
  return parseColor(value) ? "#" + String(value).trim().replace(/^#/, "") : fallback;
}
