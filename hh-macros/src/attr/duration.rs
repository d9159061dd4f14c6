//! Durations, for `#[timeout("5s")]` and `#[call_timeout("30s")]`: the attribute, and the
//! text it holds (`"500ms"`, `"1m30s"`) read in milliseconds.

use syn::{Attribute, Ident, LitStr};

use super::arguments;
use crate::ctxt::Ctxt;

/// `#[timeout("5s")]` and `#[call_timeout("30s")]`: one string with a duration, in
/// milliseconds; reported at the literal when it is not one (`example` is the duration the
/// message suggests). `None` once reported.
pub(super) fn timeout(cx: &Ctxt, attr: &Attribute, example: &str) -> Option<u64> {
    let name = attr
        .path()
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    let Ok(lit) = attr.parse_args::<LitStr>() else {
        cx.error_spanned_by(
            arguments(attr),
            format!("expected `#[{name}(\"{example}\")]` with one duration string (units `ms`, `s`, `m`, `h`)"),
        );
        return None;
    };
    match parse_duration_ms(&lit.value()) {
        Ok(ms) => Some(ms),
        Err(why) => {
            let what = name.replace('_', " ");
            cx.error_spanned_by(&lit, format!("`{}` is not a {what}: {why}", lit.value()));
            None
        }
    }
}

/// Reads `"500ms"`, `"5s"`, `"1.5s"`, `"2m"`, `"1h"` or a sum such as `"1m30s"`, in whole
/// milliseconds. The error says what is wrong, for the message at the literal.
pub(crate) fn parse_duration_ms(text: &str) -> Result<u64, String> {
    const EXAMPLES: &str =
        "write a number and a unit, such as \"500ms\", \"5s\", \"1.5s\" or \"2m\"";
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(format!("it is empty; {EXAMPLES}"));
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        // With no digits at all (`"soon"`), the word in their place is what is not a number.
        let shown = if number.is_empty() {
            unit.trim()
        } else {
            number
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{shown}` is not a number; {EXAMPLES}"))?;
        let scale = match unit.trim() {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            "" => return Err(format!("`{number}` has no unit; {EXAMPLES}")),
            other => {
                return Err(format!(
                    "`{other}` is not a unit (expected `ms`, `s`, `m` or `h`)"
                ));
            }
        };
        total += value * scale;
        rest = after.trim_start();
    }
    if total < 1.0 {
        return Err("a timeout under one millisecond would fail every call".into());
    }
    if total > 86_400_000.0 {
        return Err("a timeout longer than a day is no timeout at all".into());
    }
    Ok(total.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations_in_the_units_people_write() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("5s"), Ok(5_000));
        assert_eq!(parse_duration_ms("1.5s"), Ok(1_500));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert_eq!(parse_duration_ms("1m30s"), Ok(90_000));
        assert_eq!(parse_duration_ms("1m 30s"), Ok(90_000));
        assert_eq!(parse_duration_ms("1h"), Ok(3_600_000));
    }

    #[test]
    fn malformed_durations_say_why() {
        for (text, why) in [
            ("", "empty"),
            ("5", "no unit"),
            ("5 sec", "`sec` is not a unit"),
            ("s", "is not a number"),
            ("soon", "`soon` is not a number"),
            ("1..5s", "is not a number"),
            ("0s", "under one millisecond"),
            ("0.1ms", "under one millisecond"),
            ("25h", "longer than a day"),
        ] {
            let error = parse_duration_ms(text).expect_err(text);
            assert!(error.contains(why), "{text:?}: {error}");
        }
    }
}
