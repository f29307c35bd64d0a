// Interface text in each supported language (config `lang`); config `strings` overrides any of them.
var STRINGS = {
  en: {
    open: "Open the chat about your baby's movement",
    close: "Close chat",
    startOver: "Start over",
    startOverDone: "New conversation started.",
    disclaimer: "This assistant gives general information, not a diagnosis. In an emergency, call your local emergency number now.",
    greeting: "Hi! I can help with questions about how your baby or toddler moves: crawling backwards, bottom scooting, walking later than others. What is on your mind?",
    suggestions: ["My baby crawls backwards", "She scoots on her bottom", "My 14 month old isn't walking yet"],
    placeholder: "Type your question",
    inputLabel: "Your message",
    send: "Send",
    messagesLabel: "Conversation",
    suggestionsLabel: "Suggested answers",
    you: "You",
    assistant: "Assistant",
    typing: "The assistant is typing",
    queued: "Not sent yet: it will be sent when the connection is back.",
    offline: "You're offline or the assistant can't be reached. Keep typing: your messages will be sent when the connection is back.",
    unreachable: "We can't reach the assistant right now. Your messages are kept and will be sent as soon as it is back. If you are worried about your child now, call your healthcare provider or your local emergency number.",
    reconnected: "Connected again.",
    newSession: "Your earlier conversation could not be continued, so a new one has started.",
    tooLong: "That is over the {max}-character limit ({count} now). Please shorten it or send it in two parts; nothing is lost.",
    counter: "{count} of {max} characters",
    failed: "This message could not be delivered."
  },
  es: {
    open: "Abrir el chat sobre el movimiento de tu bebé",
    close: "Cerrar el chat",
    startOver: "Empezar de nuevo",
    startOverDone: "Nueva conversación iniciada.",
    disclaimer: "Este asistente ofrece información general, no un diagnóstico. En una emergencia, llama ahora al número de emergencias de tu país.",
    placeholder: "Escribe tu pregunta",
    inputLabel: "Tu mensaje",
    send: "Enviar",
    offline: "Sin conexión con el asistente. Puedes seguir escribiendo: tus mensajes se enviarán cuando vuelva la conexión."
  },
  fr: {
    open: "Ouvrir le chat sur la motricité de votre bébé",
    close: "Fermer le chat",
    startOver: "Recommencer",
    startOverDone: "Nouvelle conversation commencée.",
    disclaimer: "Cet assistant donne des informations générales, pas un diagnostic. En cas d'urgence, appelez tout de suite le numéro d'urgence local.",
    placeholder: "Écrivez votre question",
    inputLabel: "Votre message",
    send: "Envoyer",
    offline: "Pas de connexion avec l'assistant. Continuez d'écrire : vos messages partiront dès le retour de la connexion."
  }
};

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
