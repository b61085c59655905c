//! Resident ID numbers (GB 11643-1999) and personal-data masking.
//!
//! An ID is 17 digits and a check character: the weighted sum of the digits
//! mod 11 indexes "10X98765432". Digits 7–14 are the birth date and the 17th
//! digit is odd for men. The first six digits are an area code that may have
//! been abolished since, so they are not checked against today's areas.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// A checked 18-character resident ID number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses and validates; the error is a sentence for the user.
    pub fn parse(raw: &str) -> Result<IdNumber, String> {
        let s = raw.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(format!("身份证号应为18位，收到{}位", s.chars().count()));
        }
        let bytes = s.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err("身份证号前17位应为数字".to_owned());
        }
        let last = bytes[17];
        if !(last.is_ascii_digit() || last == b'X') {
            return Err("身份证号第18位应为数字或X".to_owned());
        }
        if birth_date_of(&s).is_none() {
            return Err(format!("身份证号中的出生日期“{}”无效", &s[6..14]));
        }
        let expected = check_char(&bytes[..17]);
        if last != expected {
            return Err("身份证号校验位错误，请核对".to_owned());
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        birth_date_of(&self.0).expect("checked in parse")
    }

    /// Completed years of life on `day` (0 before the first birthday; a
    /// birth date after `day` counts as 0).
    pub fn age_on(&self, day: NaiveDate) -> u32 {
        let birth = self.birth_date();
        let years = day.year()
            - birth.year()
            - i32::from((day.month(), day.day()) < (birth.month(), birth.day()));
        u32::try_from(years).unwrap_or(0)
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// The check character for 17 leading digits. Public so the demo generator
/// can make valid numbers.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn birth_date_of(s: &str) -> Option<NaiveDate> {
    let y: i32 = s.get(6..10)?.parse().ok()?;
    let m: u32 = s.get(10..12)?.parse().ok()?;
    let d: u32 = s.get(12..14)?.parse().ok()?;
    if !(1850..=2100).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// `620102********1234`: area and last four kept, the birth date hidden.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 6, 4)
}

/// A phone number as a person types one (5–20 digits, spaces, `-`, `+`,
/// brackets), trimmed; `None` for anything else.
pub fn phone_as_typed(typed: &str) -> Option<&str> {
    let phone = typed.trim();
    ((5..=20).contains(&phone.chars().count())
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ' | '(' | ')')))
    .then_some(phone)
}

/// `138****5678`.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

fn mask_middle(s: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(chars.len());
    out.extend(&chars[..keep_start]);
    out.extend(std::iter::repeat_n(
        '*',
        chars.len() - keep_start - keep_end,
    ));
    out.extend(&chars[chars.len() - keep_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published specimen numbers and numbers built by hand from the standard.
    const GOOD: &[&str] = &[
        "11010519491231002X",
        "440524188001010014",
        "110101199003074477",
        "620102198001010017",
    ];

    #[test]
    fn known_good_numbers_pass() {
        for id in GOOD {
            let parsed = IdNumber::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(parsed.as_str(), *id);
        }
    }

    #[test]
    fn lower_case_x_is_accepted_and_normalised() {
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn birth_date_and_sex_come_from_the_number() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        let id = IdNumber::parse("440524188001010014").unwrap();
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn age_counts_completed_years() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(id.age_on(day(2024, 12, 30)), 74);
        assert_eq!(id.age_on(day(2024, 12, 31)), 75);
        assert_eq!(id.age_on(day(1949, 12, 31)), 0);
        assert_eq!(id.age_on(day(1940, 1, 1)), 0);
    }

    /// What a role that sees masked numbers gets: the mask and an age.
    /// Every birth date the age allows that also passes the check digit is
    /// a candidate; there must always be many.
    #[test]
    fn a_masked_number_and_an_age_leave_many_candidates() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for id in GOOD
            .iter()
            .chain(&["620102198001010017", "62010219800229001X"])
        {
            let Ok(parsed) = IdNumber::parse(id) else {
                continue;
            };
            let masked = mask_id_number(id);
            let age = parsed.age_on(today);
            let (head, tail) = (&masked[..6], &masked[14..]);
            let mut candidates = 0;
            let mut day = today - chrono::Days::new(366 * (u64::from(age) + 2));
            while day <= today {
                let guess = format!("{head}{}{tail}", day.format("%Y%m%d"));
                if let Ok(g) = IdNumber::parse(&guess)
                    && g.age_on(today) == age
                {
                    candidates += 1;
                }
                day = day.succ_opt().unwrap();
            }
            assert!(candidates >= 10, "{id}: only {candidates} candidates");
        }
    }

    #[test]
    fn known_bad_numbers_fail_with_the_reason() {
        let cases = [
            ("110105194912310021", "校验位"),
            ("11010519491231002", "18位"),
            ("1101051949123100211", "18位"),
            ("11010519491331002X", "出生日期"),
            ("11010519490230002X", "出生日期"),
            ("1101051949123100A2", "前17位"),
            ("11010519491231002Y", "第18位"),
            ("110105180012310028", "出生日期"),
        ];
        for (id, reason) in cases {
            let err = IdNumber::parse(id).expect_err(id);
            assert!(err.contains(reason), "{id}: {err}");
        }
    }

    #[test]
    fn masking_hides_the_middle() {
        assert_eq!(mask_id_number("620102198001010017"), "620102********0017");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
    }
}
