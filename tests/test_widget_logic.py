"""Unit tests of the widget's own logic, run in Chromium on the bundled script (CaregiverChat.lib)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.browser import DESKTOP, WidgetPage
from tests.servers import Services


@pytest.fixture(scope="module")
def page(browser: Any, web_server: Services) -> Iterator[Any]:
    """The demo page from the web server alone: the widget's own logic needs no Rasa."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        yield WidgetPage(context.new_page(), web_server.web_url).goto().page
    finally:
        context.close()


RENDER = """(text) => { const div = document.createElement('div');
    div.appendChild(CaregiverChat.lib.renderMarkdown(text)); return div.innerHTML; }"""


@pytest.mark.parametrize(
    "markdown, html",
    [
        ("plain text", "<p>plain text</p>"),
        ("**bold** and *soft*", "<p><strong>bold</strong> and <em>soft</em></p>"),
        ("line one\nline two\n\nnext", "<p>line one<br>line two</p><p>next</p>"),
        ("- one\n- two", "<ul><li>one</li><li>two</li></ul>"),
        ("1. first\n2. second", "<ol><li>first</li><li>second</li></ol>"),
        (
            "[CDC](https://www.cdc.gov/x)",
            '<p><a href="https://www.cdc.gov/x" target="_blank" rel="noopener noreferrer">CDC</a></p>',
        ),
        (
            "see https://who.int/growth.",
            '<p>see <a href="https://who.int/growth" target="_blank" rel="noopener noreferrer">https://who.int/growth</a>.</p>',
        ),
        ("snake_case_word stays", "<p>snake_case_word stays</p>"),
        ("use `code`", "<p>use <code>code</code></p>"),
    ],
)
def test_markdown_renders(page: Any, markdown: str, html: str) -> None:
    assert page.evaluate(RENDER, markdown) == html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>window.pwned = 1</script>",
        "<img src=x onerror='window.pwned = 1'>",
        "[click](javascript:window.pwned=1)",
        "[click](data:text/html,<script>window.pwned=1</script>)",
        "[click](vbscript:msgbox)",
        '[x](https://ok.example" onmouseover="window.pwned=1)',
        "**<b onclick=alert(1)>bold</b>**",
        "<a href='https://evil.example'>hi</a>",
    ],
)
def test_markdown_never_creates_markup_from_text(page: Any, attack: str) -> None:
    tags = page.evaluate(
        """(text) => { const div = document.createElement('div');
            div.appendChild(CaregiverChat.lib.renderMarkdown(text));
            return [...div.querySelectorAll('*')].map(e => [e.tagName, [...e.attributes].map(a => a.name + '=' + a.value)]); }""",
        attack,
    )
    for tag, attributes in tags:
        assert tag in {"P", "STRONG", "EM", "A", "CODE", "BR", "UL", "OL", "LI"}
        for attribute in attributes:
            name, _, value = attribute.partition("=")
            assert name in {"href", "target", "rel"}
            if name == "href":
                assert value.startswith("https://")  # bare web addresses become links; no other scheme does
    assert page.evaluate("() => window.pwned") is None


def test_text_colour_follows_the_brand_colour(page: Any) -> None:
    lib = "CaregiverChat.lib"
    assert page.evaluate(f"{lib}.readableTextColor('#ffff00')") == "#000000"
    assert page.evaluate(f"{lib}.readableTextColor('#1f5f8b')") == "#ffffff"
    assert page.evaluate(f"{lib}.readableTextColor('not a colour')") == "#ffffff"
    assert page.evaluate(f"{lib}.contrastRatio('#000000', '#ffffff')") == pytest.approx(21)
    for colour in ("#ffff00", "#1f5f8b", "#e91e63", "#00ff00", "#777777", "#0000ff"):
        best = page.evaluate(f"{lib}.readableTextColor('{colour}')")
        assert page.evaluate(f"{lib}.contrastRatio('{colour}', '{best}')") >= 4.5, colour


def test_rendered_widget_meets_wcag_aa_contrast(page: Any) -> None:
    WidgetPage(page, page.url.rsplit("/", 1)[0]).open()
    pairs = page.evaluate(
        """() => { const root = document.querySelector('#caregiver-chat').shadowRoot;
          const hex = c => '#' + c.match(/\\d+/g).slice(0, 3).map(n => (+n).toString(16).padStart(2, '0')).join('');
          const bg = e => { for (; e && e.nodeType === 1; e = e.parentNode || e.host) { const c = getComputedStyle(e).backgroundColor;
              if (c !== 'rgba(0, 0, 0, 0)') return c; } return 'rgb(255, 255, 255)'; };
          return ['.launcher span', '.title', '.restart', '.disclaimer', '.msg.bot p', '.replies button', '.send', 'textarea']
            .map(s => { const e = root.querySelector(s); return [s, hex(getComputedStyle(e).color), hex(bg(e))]; }); }"""
    )
    for selector, colour, background in pairs:
        ratio = page.evaluate(f"CaregiverChat.lib.contrastRatio('{colour}', '{background}')")
        assert ratio >= 4.5, f"{selector}: {colour} on {background} is {ratio:.2f}:1"


def test_config_layers(page: Any) -> None:
    merged = page.evaluate(
        """() => CaregiverChat.lib.mergeConfig({title: 'Page', colors: {primary: '#000'}}, {title: 'Script', lang: 'fr'},
            'https://assets.example.org:8000/widget.js')"""
    )
    assert merged["title"] == "Page" and merged["lang"] == "fr" and merged["colors"]["primary"] == "#000"
    assert merged["serverUrl"] == "https://assets.example.org:5005"  # default: Rasa's port on the script's host
    assert (
        page.evaluate("() => CaregiverChat.lib.mergeConfig({serverUrl: 'http://x:5005///'}, {}, null).serverUrl")
        == "http://x:5005"
    )
    assert page.evaluate("() => CaregiverChat.lib.mergeConfig({unknown: 1}, {}, null).unknown") is None


def test_interface_language_falls_back_to_english(page: Any) -> None:
    spanish = page.evaluate("() => CaregiverChat.lib.uiStrings('es-MX', {send: 'Mandar'})")
    assert spanish["disclaimer"].startswith("Este asistente") and spanish["send"] == "Mandar"
    assert spanish["greeting"].startswith("Hi!")  # not translated yet: English
    assert page.evaluate("() => CaregiverChat.lib.format('{count} of {max}', {count: 3, max: 10})") == "3 of 10"


def test_outbox_keeps_messages_until_the_server_has_them(page: Any) -> None:
    result = page.evaluate(
        """() => { const lib = CaregiverChat.lib; const storage = lib.memoryStorage();
          const state = new lib.ChatState(storage, 'http://server');
          const a = state.queue('first'), b = state.queue('second', 'Second title');
          const reloaded = new lib.ChatState(storage, 'http://server');
          const queuedAfterReload = reloaded.outbox.map(e => e.text);
          reloaded.session = {id: 's1', token: 't1'};
          const lost = reloaded.adoptSession({session_id: 's1', session_token: 't1', resumed: true,
              history: [{sender: 'user', text: 'first', id: a.id}, {sender: 'bot', text: 'reply'}]});
          const afterResume = {outbox: reloaded.outbox.map(e => e.text), shown: reloaded.messages.map(m => m.text), lost};
          reloaded.delivered(b.id);
          const lostOther = reloaded.adoptSession({session_id: 's2', session_token: 't2', resumed: false, history: []});
          return {queuedAfterReload, afterResume, left: reloaded.outbox.length, lostOther, idLength: a.id.length}; }"""
    )
    assert result["queuedAfterReload"] == ["first", "second"]
    assert result["afterResume"] == {"outbox": ["second"], "shown": ["first", "reply", "Second title"], "lost": False}
    assert result["left"] == 0 and result["lostOther"] is True and result["idLength"] == 32


def test_two_tabs_never_drop_each_others_queued_messages(page: Any) -> None:
    result = page.evaluate(
        """() => { const lib = CaregiverChat.lib; const storage = lib.memoryStorage();
          const tabA = new lib.ChatState(storage, 'http://server'), tabB = new lib.ChatState(storage, 'http://server');
          const a = tabA.queue('typed in A while offline');
          tabB.addBot({text: 'a reply arrives in B'});  // B saves its own, older view
          const afterB = new lib.ChatState(storage, 'http://server').outbox.map(e => e.text);
          tabA.delivered(a.id);
          tabB.addBot({text: 'another reply in B'});  // B must not bring the delivered message back
          return {afterB, finally: new lib.ChatState(storage, 'http://server').outbox.length}; }"""
    )
    assert result == {"afterB": ["typed in A while offline"], "finally": 0}
