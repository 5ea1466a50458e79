//! What `ui/` and the backend must agree on, read from the UI's own files: every error code
//! has a cashier's text in every language, every language has the same texts, and `ui/ipc.js`
//! calls only commands the app registers. (That the counter window may call each registered
//! command is checked on the mock runtime in `tests.rs`.)
//!
//! The JavaScript is read by a small tokenizer (strings, comments, identifiers, punctuation),
//! not by matching lines, so formatting and comments do not fool it.

use kassa_core::code::Code;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Punct(char),
}

/// The tokens of a piece of JavaScript, without comments and whitespace. String contents are
/// kept as written (escapes are not decoded; keys and command names have none).
fn tokens(js: &str) -> Vec<Token> {
    let chars: Vec<char> = js.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if matches!(c, '\'' | '"' | '`') {
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    text.push(chars[i]);
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    text.push(ch);
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Str(text));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$')) {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// One place of a token pattern: the token expected there, or `None` for any token.
type Pat = Option<Token>;

fn ident(name: &str) -> Pat {
    Some(Token::Ident(name.into()))
}

fn punct(c: char) -> Pat {
    Some(Token::Punct(c))
}

/// Where `pattern` starts in `toks`, every place in order.
fn found<'a>(toks: &'a [Token], pattern: &'a [Pat]) -> impl Iterator<Item = usize> + 'a {
    toks.windows(pattern.len())
        .enumerate()
        .filter(move |(_, w)| {
            w.iter()
                .zip(pattern)
                .all(|(t, p)| p.as_ref().is_none_or(|p| p == t))
        })
        .map(|(i, _)| i)
}

/// A JavaScript value as far as these tests need it: objects with their keys, anything else.
#[derive(Debug)]
enum Value {
    Object(Vec<(String, Value)>),
    Other,
}

/// Parses the value starting at `toks[*i]`, leaving `*i` after it.
fn value(toks: &[Token], i: &mut usize) -> Value {
    if toks.get(*i) != Some(&Token::Punct('{')) {
        // Anything up to the next `,` or closing bracket at this level.
        let mut depth = 0;
        while let Some(t) = toks.get(*i) {
            match t {
                Token::Punct('{' | '[' | '(') => depth += 1,
                Token::Punct('}' | ']' | ')') if depth == 0 => break,
                Token::Punct('}' | ']' | ')') => depth -= 1,
                Token::Punct(',') if depth == 0 => break,
                _ => {}
            }
            *i += 1;
        }
        return Value::Other;
    }
    *i += 1;
    let mut entries = Vec::new();
    loop {
        match toks.get(*i) {
            Some(Token::Punct('}')) => {
                *i += 1;
                return Value::Object(entries);
            }
            Some(Token::Punct(',')) => *i += 1,
            Some(Token::Ident(k) | Token::Str(k)) => {
                let key = k.clone();
                *i += 1;
                assert_eq!(
                    toks.get(*i),
                    Some(&Token::Punct(':')),
                    "a ':' after key {key:?}"
                );
                *i += 1;
                entries.push((key, value(toks, i)));
            }
            other => panic!("unexpected {other:?} in an object literal"),
        }
    }
}

/// `ui/i18n.js`'s texts: language → its keys.
/// The UI's languages: `i18n.js` (en, nb) and one file per further language
/// (`window.kassaTexts.sv = {…}`), each loaded by the pages after it.
const LANGUAGE_FILES: &[(&str, &str)] = &[
    ("sv", include_str!("../ui/i18n-sv.js")),
    ("da", include_str!("../ui/i18n-da.js")),
];

fn texts() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = texts_in(include_str!("../ui/i18n.js"));
    for (lang, js) in LANGUAGE_FILES {
        all.insert(lang.to_string(), language_in(js, lang));
    }
    all
}

/// The keys of `window.kassaTexts.<lang> = {…}` in a language's own file.
fn language_in(js: &str, lang: &str) -> BTreeSet<String> {
    let toks = tokens(js);
    let pattern = [ident("kassaTexts"), punct('.'), ident(lang), punct('=')];
    let at = found(&toks, &pattern)
        .next()
        .unwrap_or_else(|| panic!("i18n-{lang}.js assigns window.kassaTexts.{lang}"));
    let mut i = at + 4;
    let Value::Object(entries) = value(&toks, &mut i) else {
        panic!("kassaTexts.{lang} is an object literal");
    };
    entries.into_iter().map(|(k, _)| k).collect()
}

/// The texts `js` assigns to `window.kassaTexts`: language → its keys.
fn texts_in(js: &str) -> BTreeMap<String, BTreeSet<String>> {
    let toks = tokens(js);
    let at = found(&toks, &[ident("kassaTexts"), punct('=')])
        .next()
        .expect("i18n.js assigns window.kassaTexts");
    let mut i = at + 2;
    let Value::Object(langs) = value(&toks, &mut i) else {
        panic!("kassaTexts is an object literal");
    };
    langs
        .into_iter()
        .map(|(lang, v)| match v {
            Value::Object(entries) => (lang, entries.into_iter().map(|(k, _)| k).collect()),
            Value::Other => panic!("kassaTexts.{lang} is an object literal"),
        })
        .collect()
}

/// The commands `ui/ipc.js` invokes.
fn commands_called() -> BTreeSet<String> {
    calls_in(include_str!("../ui/ipc.js"))
}

/// Every `call('<name>'` of `js`.
fn calls_in(js: &str) -> BTreeSet<String> {
    let toks = tokens(js);
    found(&toks, &[ident("call"), punct('('), None])
        .filter_map(|i| match &toks[i + 2] {
            Token::Str(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_error_code_has_a_text_in_every_language() {
    let texts = texts();
    assert_eq!(
        texts.keys().map(String::as_str).collect::<Vec<_>>(),
        ["da", "en", "nb", "sv"],
        "the UI's languages"
    );
    let missing: Vec<String> = texts
        .iter()
        .flat_map(|(lang, keys)| {
            Code::ALL
                .iter()
                .map(|c| format!("err.{c}"))
                .filter(|k| !keys.contains(k))
                .map(move |k| format!("{lang}: {k}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "error codes without a text in ui/i18n.js: {missing:?}"
    );
}

/// A field's problem is shown in the UI's language: each validation failure's code has its
/// words in every language (`why.<code>`), else the UI would fall back to the core's English.
#[test]
fn every_field_code_has_a_text_in_every_language() {
    let missing: Vec<String> = texts()
        .iter()
        .flat_map(|(lang, keys)| {
            kassa_core::field_code::FieldCode::ALL
                .iter()
                .map(|c| format!("why.{}", c.as_str()))
                .filter(|k| !keys.contains(k))
                .map(move |k| format!("{lang}: {k}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "field codes without a text in ui/i18n.js: {missing:?}"
    );
}

#[test]
fn every_language_has_the_same_texts() {
    let texts = texts();
    let en = &texts["en"];
    assert!(en.len() > 100, "the English texts were read: {}", en.len());
    for (lang, keys) in &texts {
        let only_en: Vec<_> = en.difference(keys).collect();
        let only_here: Vec<_> = keys.difference(en).collect();
        assert!(
            only_en.is_empty() && only_here.is_empty(),
            "{lang} lacks {only_en:?} and has {only_here:?} that en lacks"
        );
    }
}

#[test]
fn ipc_js_calls_only_registered_commands() {
    let called = commands_called();
    assert!(called.len() > 10, "the calls were read: {called:?}");
    let unknown: Vec<_> = called
        .iter()
        .filter(|c| !super::COMMANDS_FOR_TESTS.contains(&c.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "ui/ipc.js calls commands that src-tauri/commands_list.rs does not register: {unknown:?}"
    );
}

#[test]
fn the_reader_sees_keys_and_calls_past_comments_and_strings() {
    let js = "window.kassaTexts = { en: { a: 'x: y', 'b.c': \"{ z }\", /* d: 1 */ e: `f` }, \
              nb: { a: 'q' } };\n// call('hidden')\nconst s = \"call('no')\"; call('yes', { x });";
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let texts = texts_in(js);
    assert_eq!(texts["en"], set(&["a", "b.c", "e"]));
    assert_eq!(texts["nb"], set(&["a"]));
    assert_eq!(calls_in(js), set(&["yes"]));
    let pattern = [ident("a"), None, ident("b"), punct('=')];
    let at: Vec<usize> = found(&tokens("a.b = c; a . b=d; a.b == e"), &pattern).collect();
    assert_eq!(
        at,
        [0, 6, 12],
        "a pattern with a place for any token, wherever it is"
    );
}

/// The page draws a first start before app_info answers (when it takes longer than the page
/// waits) in `DEFAULT_LANG` of `ui/app.js`: the shop's default language, so that a new shop's
/// first frame is not in another language than the next.
#[test]
fn the_pages_first_language_is_the_shops_default() {
    let toks = tokens(include_str!("../ui/app.js"));
    let at = found(&toks, &[ident("DEFAULT_LANG"), punct('='), None])
        .next()
        .expect("ui/app.js defines DEFAULT_LANG");
    let Token::Str(lang) = &toks[at + 2] else {
        panic!("DEFAULT_LANG is not a string: {:?}", toks[at + 2]);
    };
    let shop = kassa_core::settings::ShopSettings::from_settings(
        &kassa_core::settings::Settings::default(),
    );
    assert_eq!(lang, &shop.locale);
}

/// The page starts hidden (`<body hidden>`, so nothing is laid out before the shop's settings
/// are drawn) and `start` shows it, on its way to the counter and when it fails.
#[test]
fn the_page_starts_hidden_and_is_shown_on_every_path() {
    let html = include_str!("../ui/index.html");
    assert!(
        html.contains("<body hidden>"),
        "ui/index.html's body starts hidden"
    );
    let toks = tokens(include_str!("../ui/app.js"));
    let pattern = [
        ident("document"),
        punct('.'),
        ident("body"),
        punct('.'),
        ident("hidden"),
        punct('='),
        ident("false"),
    ];
    let shows = found(&toks, &pattern).count();
    assert_eq!(
        shows, 2,
        "start shows the page once drawn, and its catch when it fails"
    );
}

/// Every file of `ui/` with the given extension: its name and its text.
fn ui_files(extension: &str) -> Vec<(String, String)> {
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut files: Vec<_> = std::fs::read_dir(&ui)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The page makes its date formatters in one place, `format` in `ui/common.js`, which keeps one
/// per language and style: a new `Intl.DateTimeFormat` for every time shown (each receipt, each
/// history row) opened ICU's data afresh and grew the web process by ~7 MB over 300 sales.
#[test]
fn the_page_makes_its_date_formatters_in_one_place() {
    let pattern = [
        ident("new"),
        ident("Intl"),
        punct('.'),
        ident("DateTimeFormat"),
    ];
    let made: Vec<String> = ui_files("js")
        .into_iter()
        .flat_map(|(name, js)| std::iter::repeat_n(name, found(&tokens(&js), &pattern).count()))
        .collect();
    assert_eq!(
        made,
        ["common.js"],
        "one `new Intl.DateTimeFormat`, in common.js's cache"
    );
}

/// The QR code is shown as inline SVG (`kassa.showQr` in `ui/common.js`), never as an image of
/// an SVG data URL: WebKit keeps the URL of every SVG image a page has shown for as long as the
/// page lives, and each sale's QR stayed in the web process (BENCHMARKS.md, 2026-12-05, ninth
/// session).
#[test]
fn the_pages_show_no_svg_as_an_image_url() {
    let in_js = ui_files("js").into_iter().flat_map(|(name, js)| {
        let n = tokens(&js)
            .iter()
            .filter(|t| matches!(t, Token::Str(s) if s.contains("data:image/svg")))
            .count();
        std::iter::repeat_n(name, n)
    });
    let in_html = ui_files("html")
        .into_iter()
        .flat_map(|(name, html)| std::iter::repeat_n(name, html.matches("data:image/svg").count()));
    let with_svg_urls: Vec<String> = in_js.chain(in_html).collect();
    assert!(
        with_svg_urls.is_empty(),
        "SVG data URLs in {with_svg_urls:?}"
    );
}
