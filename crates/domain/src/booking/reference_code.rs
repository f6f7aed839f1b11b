//! Booking references: nine characters from a 32-symbol alphabet without 0/O and 1/I, shown as
//! `K7Q-M4X-PT9`. Eight random symbols (40 bits from the OS-seeded CSPRNG, so one reference
//! says nothing about another) and a Luhn mod 32 check symbol that catches any single mistyped
//! symbol and most swapped neighbours before the database is asked.

use rand::Rng;

/// Digits 2–9 and letters without I and O: nothing that reads aloud like something else.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const PAYLOAD_LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference(String);

impl Reference {
    /// A fresh random reference.
    pub fn generate() -> Reference {
        let mut rng = rand::rng();
        let payload: Vec<u8> =
            (0..PAYLOAD_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())]).collect();
        Reference::from_payload(&payload)
    }

    fn from_payload(payload: &[u8]) -> Reference {
        let mut symbols = payload.to_vec();
        symbols.push(check_symbol(payload));
        let text: String = symbols.iter().map(|&b| b as char).collect();
        Reference(format!("{}-{}-{}", &text[0..3], &text[3..6], &text[6..9]))
    }

    /// Accepts what a person types or reads back: any case, with or without dashes or
    /// spaces. `None` when the shape or the check symbol is wrong.
    pub fn parse(input: &str) -> Option<Reference> {
        let symbols: Vec<u8> = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase() as u32)
            .map(|c| u8::try_from(c).unwrap_or(b'?'))
            .collect();
        if symbols.len() != PAYLOAD_LEN + 1 || !symbols.iter().all(|s| value(*s).is_some()) {
            return None;
        }
        let (payload, check) = symbols.split_at(PAYLOAD_LEN);
        (check_symbol(payload) == check[0]).then(|| Reference::from_payload(payload))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn value(symbol: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == symbol)
}

/// Luhn mod N: double every second value from the right, fold the carry, and pick the symbol
/// that brings the sum to a multiple of 32.
pub(crate) fn check_symbol(payload: &[u8]) -> u8 {
    let n = ALPHABET.len();
    let mut sum = 0;
    for (i, &symbol) in payload.iter().rev().enumerate() {
        let mut v = value(symbol).unwrap_or(0);
        if i % 2 == 0 {
            v *= 2;
            v = v / n + v % n;
        }
        sum += v;
    }
    ALPHABET[(n - sum % n) % n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_references_parse_back_and_avoid_confusable_symbols() {
        for _ in 0..1000 {
            let r = Reference::generate();
            assert_eq!(r.as_str().len(), 11);
            assert!(!r.as_str().contains(['0', 'O', '1', 'I']), "{r}");
            assert_eq!(Reference::parse(r.as_str()), Some(r.clone()));
            assert_eq!(Reference::parse(&r.as_str().to_lowercase().replace('-', " ")), Some(r));
        }
    }

    #[test]
    fn every_single_symbol_mistake_is_caught() {
        let r = Reference::generate();
        let symbols: Vec<u8> = r.as_str().bytes().filter(|&b| b != b'-').collect();
        for i in 0..symbols.len() {
            for &other in ALPHABET {
                if other == symbols[i] {
                    continue;
                }
                let mut typo = symbols.clone();
                typo[i] = other;
                let typed = String::from_utf8(typo).expect("ascii");
                assert_eq!(Reference::parse(&typed), None, "{typed} passed the check");
            }
        }
    }

    #[test]
    fn most_swapped_neighbours_are_caught() {
        let mut caught = 0;
        let mut tried = 0;
        for _ in 0..200 {
            let r = Reference::generate();
            let symbols: Vec<u8> = r.as_str().bytes().filter(|&b| b != b'-').collect();
            for i in 0..symbols.len() - 1 {
                if symbols[i] == symbols[i + 1] {
                    continue;
                }
                let mut swapped = symbols.clone();
                swapped.swap(i, i + 1);
                tried += 1;
                if Reference::parse(&String::from_utf8(swapped).expect("ascii")).is_none() {
                    caught += 1;
                }
            }
        }
        assert!(caught * 100 >= tried * 95, "caught {caught} of {tried}");
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for bad in ["", "ABC", "K7Q-M4X-PT", "K7Q-M4X-PT99", "K0Q-M4X-PT9", "K7Q-M4X-P!9"] {
            assert_eq!(Reference::parse(bad), None, "{bad}");
        }
    }
}
