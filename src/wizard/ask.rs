//! The prompts the wizard asks with. Every typed answer goes through a
//! checker; a refused answer is asked again with the reason (dialoguer's
//! `validate_with`), so what comes back has already passed.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};

/// A checker: the value, or why the text is not one (problem; fix).
pub type Check<'a, T> = &'a dyn Fn(&str) -> Result<T, String>;

/// Words that mean "no value" for optional questions.
const NONE_WORDS: &[&str] = &["none", "-"];

fn text<T>(
    prompt: &str,
    default: Option<String>,
    allow_empty: bool,
    parse: Check<'_, T>,
) -> anyhow::Result<T> {
    let theme = ColorfulTheme::default();
    let mut input = Input::<String>::with_theme(&theme)
        .with_prompt(prompt)
        .allow_empty(allow_empty);
    if let Some(default) = default {
        input = input.default(default);
    }
    let answer = input
        .validate_with(|s: &String| parse(s.trim()).map(|_| ()))
        .interact_text()?;
    parse(answer.trim()).map_err(anyhow::Error::msg)
}

/// A required value.
pub fn value<T>(prompt: &str, default: Option<String>, parse: Check<'_, T>) -> anyhow::Result<T> {
    text(prompt, default, false, parse)
}

/// An optional value: an empty answer (when there is no default) or `none`
/// means none; the prompt should say so.
pub fn optional<T>(
    prompt: &str,
    default: Option<String>,
    parse: Check<'_, T>,
) -> anyhow::Result<Option<T>> {
    text(prompt, default, true, &|s: &str| {
        if s.is_empty() || NONE_WORDS.contains(&s) {
            Ok(None)
        } else {
            parse(s).map(Some)
        }
    })
}

/// A list of values separated by commas or spaces; `none` for an empty list.
pub fn list<T>(prompt: &str, default: &[String], parse: Check<'_, T>) -> anyhow::Result<Vec<T>> {
    let default = (!default.is_empty()).then(|| default.join(", "));
    let prompt = format!("{prompt} (separated by commas; `none` for none)");
    text(&prompt, default, true, &|s: &str| {
        if NONE_WORDS.contains(&s) {
            return Ok(Vec::new());
        }
        s.split([',', ' '])
            .filter(|item| !item.is_empty())
            .map(parse)
            .collect()
    })
}

/// One of a fixed set of choices.
pub fn choose<T: Copy + PartialEq>(
    prompt: &str,
    choices: &[(T, String)],
    default: T,
) -> anyhow::Result<T> {
    let theme = ColorfulTheme::default();
    let index = choices.iter().position(|(c, _)| *c == default).unwrap_or(0);
    let picked = Select::with_theme(&theme)
        .with_prompt(prompt)
        .items(choices.iter().map(|(_, label)| label))
        .default(index)
        .interact()?;
    Ok(choices[picked].0)
}

/// Any number of the offered items; returns the indexes picked.
pub fn pick(prompt: &str, items: &[(String, bool)]) -> anyhow::Result<Vec<usize>> {
    let theme = ColorfulTheme::default();
    Ok(MultiSelect::with_theme(&theme)
        .with_prompt(prompt)
        .items_checked(items.iter().map(|(label, on)| (label, *on)))
        .interact()?)
}

/// Yes or no.
pub fn yes(prompt: &str, default: bool) -> anyhow::Result<bool> {
    let theme = ColorfulTheme::default();
    Ok(Confirm::with_theme(&theme)
        .with_prompt(prompt)
        .default(default)
        .interact()?)
}

/// A line of explanation between questions.
pub fn note(line: &str) {
    let _ = console::Term::stderr().write_line(line);
}

/// A list of things (networks, nodes, passthrough entries): the existing ones
/// are offered one by one to keep and edit, then more are added while the
/// operator wants. `needed` says why another one is required, if it is.
pub fn items<B, T>(
    noun: &str,
    existing: &[B],
    describe: impl Fn(&B) -> String,
    needed: impl Fn(&[T]) -> Option<String>,
    more_by_default: impl Fn(&[T]) -> bool,
    mut ask_one: impl FnMut(&[T], Option<&B>) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    for old in existing {
        if yes(&format!("Keep {noun} {}?", describe(old)), true)? {
            let item = ask_one(&out, Some(old))?;
            out.push(item);
        }
    }
    loop {
        if let Some(reason) = needed(&out) {
            note(&format!("  {reason}"));
        } else {
            let article = if out.is_empty() { "a" } else { "another" };
            if !yes(&format!("Add {article} {noun}?"), more_by_default(&out))? {
                return Ok(out);
            }
        }
        let item = ask_one(&out, None)?;
        out.push(item);
    }
}
