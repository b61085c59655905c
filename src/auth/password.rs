//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes),
//! and the rule every new password meets.
//!
//! The rule follows NIST SP 800-63B rather than composition rules: at least
//! [`MIN_CHARS`] characters, and not a password people commonly choose. A
//! shipped list (`common_passwords.txt`, made by
//! `scripts/gen-common-passwords.py`: leaked-list favourites, pinyin words
//! and names, keyboard walks, digit patterns) is matched against the whole
//! password and against its stem (digits and symbols cut from both ends,
//! so `woaini1314` and `Password2026!` fail). Digits alone (birthdays,
//! phone and ID numbers) need 16; a password of fewer than four distinct
//! characters, or holding the user name, fails too.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("the OS random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checked against when the user name is unknown, so that a wrong name and a
/// wrong password take the same time and names cannot be probed.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("daohu-dummy-password"))
}

/// The shortest password accepted.
pub const MIN_CHARS: usize = 10;
/// The longest: argon2 would take more, but nobody types more, and a
/// megabyte "password" is only a way to make the server work.
pub const MAX_CHARS: usize = 128;
/// Digits alone are mostly dates and phone numbers: they need this many.
const MIN_DIGITS_ONLY: usize = 16;

/// Why `password` may not be set for `username`, in the words shown to
/// the person choosing it; `None` if it may.
pub fn weakness(password: &str, username: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Some(format!("至少{MIN_CHARS}个字符"));
    }
    if chars > MAX_CHARS {
        return Some(format!("不能超过{MAX_CHARS}个字符"));
    }
    let lower = password.to_lowercase();
    let stem = lower.trim_matches(|c: char| !c.is_alphabetic());
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    let name = username.trim().to_lowercase();
    if stem.chars().count() < 3 && chars < MIN_DIGITS_ONLY {
        return Some(format!(
            "纯数字（或只多一两个字母）的密码易被猜中，如生日、手机号，请加入字母或增加到{MIN_DIGITS_ONLY}位以上"
        ));
    }
    if distinct.len() < 4 {
        return Some("重复的字符太多，容易被猜中".into());
    }
    if name.chars().count() >= 3 && lower.contains(&name) {
        return Some("不能包含用户名".into());
    }
    if is_common(&lower) || is_common(stem) {
        return Some("这是常见密码，容易被猜中，请换一个".into());
    }
    None
}

fn is_common(candidate: &str) -> bool {
    static LIST: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    LIST.get_or_init(|| include_str!("common_passwords.txt").lines().collect())
        .contains(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        for weak in [
            "short1",
            "1234567890",
            "13912345678",
            "1990-01-01",
            "zw19900101",
            "qwertyuiop",
            "1qaz2wsx3edc",
            "woaini1314",
            "Woaini5201314!",
            "Password2026!",
            "aini1314520",
            "zhangwei1990",
            "aaaaaaaaaaaa",
            "abababababab",
            "wangfang-home",
            "daohu2026!!",
        ] {
            assert!(weakness(weak, "wangfang").is_some(), "{weak} accepted");
        }
        assert!(weakness(&"x".repeat(129), "u").is_some());
    }

    #[test]
    fn ordinary_strong_passwords_pass() {
        for strong in [
            "daohu-demo-2026",
            "chushi-mima",
            "long-enough",
            "马家湾村七组的那口老井",
            "tiger-lamp-river",
            "8261937450261844",
            "Gx7#pQ2!vL9z",
        ] {
            assert_eq!(weakness(strong, "wangfang"), None, "{strong} refused");
        }
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("正确的密码123");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("正确的密码123", &h));
        assert!(!verify("错误的密码", &h));
        assert!(!verify("anything", "not a hash"));
    }
}
