//! The characters a receipt can print. A thermal printer has one 8-bit code page (PC865 for
//! the Nordic letters), so a receipt is written in what PC865 has; the layout maps every text
//! to it before measuring it, which keeps the columns straight on paper, and the PDF and the
//! screen show the same characters as the paper: one receipt, not three versions of it.

/// The characters of PC865's upper half a receipt may use as they are: its Latin letters and
/// signs (not the box drawing and Greek ones, which no receipt needs). ASCII 0x20–0x7E is kept
/// too. Every one of them is a single byte in the `escpos` crate's PC865 table (tested).
pub(super) const PC865_KEPT: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£ØáíóúñÑªº¿¬½¼¡¤ßµ±°·²\u{a0}";

/// Stand-ins for characters PC865 lacks: the ones receipts meet (typographic punctuation from
/// product names, the euro, letters of neighbouring languages).
pub(super) const STAND_INS: &[(char, &str)] = &[
    ('–', "-"),
    ('—', "-"),
    ('‐', "-"),
    ('‑', "-"),
    ('−', "-"),
    ('‘', "'"),
    ('’', "'"),
    ('‚', "'"),
    ('´', "'"),
    ('“', "\""),
    ('”', "\""),
    ('„', "\""),
    ('«', "\""),
    ('»', "\""),
    ('…', "..."),
    ('•', "*"),
    ('€', "EUR"),
    ('×', "x"),
    ('©', "(c)"),
    ('®', "(R)"),
    ('™', "TM"),
    ('\u{202f}', " "),
    ('\u{2009}', " "),
    ('À', "A"),
    ('Á', "A"),
    ('Â', "A"),
    ('Ã', "A"),
    ('ã', "a"),
    ('ą', "a"),
    ('ā', "a"),
    ('Ą', "A"),
    ('č', "c"),
    ('ć', "c"),
    ('Č', "C"),
    ('Ć', "C"),
    ('ď', "d"),
    ('đ', "d"),
    ('Đ', "D"),
    ('ð', "d"),
    ('Ð', "D"),
    ('È', "E"),
    ('Ê', "E"),
    ('Ë', "E"),
    ('ę', "e"),
    ('ě', "e"),
    ('ė', "e"),
    ('ē', "e"),
    ('Ì', "I"),
    ('Í', "I"),
    ('Î', "I"),
    ('Ï', "I"),
    ('ī', "i"),
    ('į', "i"),
    ('ł', "l"),
    ('Ł', "L"),
    ('ń', "n"),
    ('ň', "n"),
    ('Ò', "O"),
    ('Ó', "O"),
    ('Ô', "O"),
    ('Õ', "O"),
    ('õ', "o"),
    ('ő', "ö"),
    ('Ő', "Ö"),
    ('ř', "r"),
    ('š', "s"),
    ('ś', "s"),
    ('ş', "s"),
    ('Š', "S"),
    ('Ś', "S"),
    ('ť', "t"),
    ('þ', "th"),
    ('Þ', "Th"),
    ('Ù', "U"),
    ('Ú', "U"),
    ('Û', "U"),
    ('ū', "u"),
    ('ů', "u"),
    ('ű', "ü"),
    ('Ű', "Ü"),
    ('ý', "y"),
    ('Ý', "Y"),
    ('ž', "z"),
    ('ź', "z"),
    ('ż', "z"),
    ('Ž', "Z"),
    ('œ', "oe"),
    ('Œ', "OE"),
];

/// `text` with every character one that PC865 can print: kept, replaced by a stand-in, a
/// control character made a space (so it can never act as a command), anything else `?`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (' '..='~').contains(&c) || PC865_KEPT.contains(c) {
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else if let Some((_, s)) = STAND_INS.iter().find(|(k, _)| *k == c) {
            out.push_str(s);
        } else {
            out.push('?');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc865_letters_stay_and_the_rest_gets_stand_ins() {
        assert_eq!(printable("Blåbær, Ærø, Øl, Å"), "Blåbær, Ærø, Øl, Å");
        assert_eq!(
            printable("Kaffe – 2 € «lys» Łódź"),
            "Kaffe - 2 EUR \"lys\" Lódz"
        );
        assert_eq!(printable("日本"), "??");
        // ESC @ would reset the printer, GS V cut the paper: control characters become spaces.
        assert_eq!(printable("Bolle\x1b@\x1dVA\x00\n"), "Bolle @ VA  ");
        // What comes out is printable as it is.
        let all: String = STAND_INS.iter().map(|(c, _)| *c).collect();
        assert_eq!(printable(&printable(&all)), printable(&all));
    }
}
