//! What a form sent, by input name. Pages whose inputs repeat (people, signers, openings)
//! name them by the rules' own field names (`openings[1].opens`) and read them from here,
//! so each rule's error finds its input again with no mapping.

use std::collections::HashMap;

use crate::error::FieldError;

/// What was typed, by input name. A form repeats no name, so the last one wins.
#[derive(Debug, Default, Clone)]
pub struct Typed(HashMap<String, String>);

impl Typed {
    pub fn new(pairs: Vec<(String, String)>) -> Typed {
        Typed(pairs.into_iter().collect())
    }

    /// The value sent, or empty.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    /// The value sent, unless it is empty or blank.
    pub fn given(&self, name: &str) -> Option<String> {
        let value = self.get(name);
        (!value.trim().is_empty()).then(|| value.to_string())
    }

    /// Whether the form sent `name` at all (a button that was pressed).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn set(&mut self, name: String, value: impl Into<String>) {
        self.0.insert(name, value.into());
    }

    /// A count of repeated rows the form carries in `name`: 1 to `max`.
    pub fn rows(&self, name: &str, max: usize) -> usize {
        self.get(name).parse::<usize>().unwrap_or(1).clamp(1, max)
    }

    /// Whether every input under `prefix` other than `except` is blank.
    pub fn blank_except(&self, prefix: &str, except: &[String]) -> bool {
        self.0
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .all(|(name, value)| value.trim().is_empty() || except.contains(name))
    }
}

/// Errors that name the `list`'s entries by their place among those sent (`openings[0]`),
/// renamed to the rows they came from (`openings[2]`) when some rows were left out.
pub fn renumber(errors: Vec<FieldError>, list: &str, rows: &[usize]) -> Vec<FieldError> {
    let open = format!("{list}[");
    errors
        .into_iter()
        .map(|e| {
            let moved = e.field.strip_prefix(&open).and_then(|rest| {
                let (index, tail) = rest.split_once(']')?;
                let row = rows.get(index.parse::<usize>().ok()?)?;
                Some(format!("{list}[{row}]{tail}"))
            });
            FieldError::new(moved.unwrap_or(e.field), e.rule)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Rule;

    #[test]
    fn errors_go_back_to_the_rows_they_came_from() {
        let errors = vec![
            FieldError::new("openings[0].closes", Rule::ClosesAfterOpens),
            FieldError::new("openings", Rule::OpeningsOverlap { weekday: 1 }),
            FieldError::new("openings[7].opens", Rule::NotAClockTime),
        ];
        let placed: Vec<String> =
            renumber(errors, "openings", &[1, 3]).into_iter().map(|e| e.field).collect();
        assert_eq!(placed, ["openings[1].closes", "openings", "openings[7].opens"]);
    }
}
