//! The few XML writing needs of a SAF-T file: nested elements with escaped text, no
//! attributes but the root's namespace, no indentation, straight into a buffered writer.
//!
//! Hand-written rather than quick-xml: SAF-T uses none of what a library adds (attributes,
//! namespaces per element, CDATA, reading), the escaping of text is five characters and the
//! characters XML 1.0 forbids, and this keeps the core's dependencies as they are. Every text
//! goes through [`Xml::leaf`], so nothing reaches the file unescaped.

use std::io::{self, Write};

/// Writes elements to `W` (a `BufWriter<File>` for an export).
pub struct Xml<W: Write> {
    out: W,
}

/// `text` with `&`, `<`, `>` escaped and the characters XML 1.0 does not allow (controls but
/// tab, newline and carriage return; U+FFFE, U+FFFF) left out.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| {
        !matches!(c, '&' | '<' | '>' | '\u{FFFE}' | '\u{FFFF}')
            && (c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
    };
    if text.chars().all(plain) {
        return text.into();
    }
    let mut s = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            c if plain(c) => s.push(c),
            _ => {}
        }
    }
    s.into()
}

/// At most `max` characters of `text` (SAF-T's string types count characters).
pub fn at_most(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

impl<W: Write> Xml<W> {
    /// Starts the document: the declaration and the root element in SAF-T Cash Register's
    /// namespace (the default one: every element of the schema is qualified).
    pub fn start(mut out: W, root: &str, namespace: &str) -> io::Result<Xml<W>> {
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{namespace}\">"
        )?;
        Ok(Xml { out })
    }

    pub fn open(&mut self, tag: &str) -> io::Result<()> {
        write!(self.out, "<{tag}>")
    }

    pub fn close(&mut self, tag: &str) -> io::Result<()> {
        write!(self.out, "</{tag}>")
    }

    /// `<tag>text</tag>`, the text escaped.
    pub fn leaf(&mut self, tag: &str, text: &str) -> io::Result<()> {
        write!(self.out, "<{tag}>{}</{tag}>", escape(text))
    }

    /// Ends the document (closes `root`) and returns the writer.
    pub fn finish(mut self, root: &str) -> io::Result<W> {
        writeln!(self.out, "</{root}>")?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_forbidden_characters_are_left_out() {
        assert_eq!(
            escape("Bakeri & Kaffe <AS>"),
            "Bakeri &amp; Kaffe &lt;AS&gt;"
        );
        assert_eq!(escape("a\u{1}b\tc\u{FFFF}"), "ab\tc");
        assert!(matches!(escape("Kaffe"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(at_most("Rundstykke", 5), "Runds");
        assert_eq!(at_most("Blåbær", 4), "Blåb");
        assert_eq!(at_most("Øl", 35), "Øl");
    }

    #[test]
    fn elements_nest_in_the_default_namespace() {
        let mut x = Xml::start(Vec::new(), "auditfile", "urn:x").unwrap();
        x.open("header").unwrap();
        x.leaf("softwareDesc", "Kassa & co").unwrap();
        x.close("header").unwrap();
        let bytes = x.finish("auditfile").unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<auditfile xmlns=\"urn:x\"><header>\
             <softwareDesc>Kassa &amp; co</softwareDesc></header></auditfile>\n"
        );
    }
}
