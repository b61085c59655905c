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
//!
//! Argon2's 19 MiB of working memory is a [`Memory`] the caller lends, not
//! a fresh allocation per hash. The crate's own `hash_password` allocates
//! 19 MiB and frees it each time, and glibc's malloc keeps what is freed:
//! its mmap threshold is dynamic, rising to the size of the largest mapped
//! block freed (up to 32 MiB), so from the second hash on the 19 MiB come
//! from an arena's heap instead of a mapping of their own, and every
//! thread's arena keeps its freed blocks. Measured on the debug binary with
//! the demo, signing in with curl: 45 MiB fresh, 926 MiB after
//! 80 sign-ins 8 at a time, 1,819 MiB after 160 more 16 at a time, 2,143
//! MiB after 32 wrong passwords at once, never given back. Pinning the
//! threshold (`MALLOC_MMAP_THRESHOLD_=131072`) gave the memory back (53 MiB
//! after) but still peaked at 523 MiB; with the memory lent by
//! [`crate::auth::hashing::Hashing`], one per hash allowed at once, the
//! same run peaks at 91 MiB and stays there.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Argon2's working memory, kept between hashes.
#[derive(Default)]
pub struct Memory(Vec<Block>);

/// The most memory a stored hash may ask for (its `m=` parameter, in KiB):
/// ours ask for 19,456; a hash asking for more did not come from here.
const MAX_STORED_M_KIB: usize = 256 * 1024;

impl Memory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

/// A new hash of `password` (argon2id, the crate's default parameters,
/// a random 16-byte salt) in the PHC string format.
pub fn hash(password: &str) -> String {
    hash_with(password, &mut Memory::default())
}

pub fn hash_with(password: &str, memory: &mut Memory) -> String {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("the OS random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    let mut raw_salt = [0u8; 16];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut raw_salt)
        .expect("the salt just encoded decodes");
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                raw_salt,
                out,
                memory.blocks(params.block_count()),
            )
            .map_err(Into::into)
    })
    .expect("argon2 hashing with default parameters cannot fail");
    PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::default().into()),
        params: ParamsString::try_from(&params).expect("default parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    verify_with(password, stored, &mut Memory::default())
}

/// Whether `password` is the one `stored` (a PHC string) was made from,
/// with whatever argon2 parameters it names; compared in constant time.
pub fn verify_with(password: &str, stored: &str, memory: &mut Memory) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return false;
    };
    if params.block_count() > MAX_STORED_M_KIB {
        tracing::error!(
            m_kib = params.block_count(),
            "stored password hash asks for too much memory"
        );
        return false;
    }
    let mut raw_salt = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else {
        return false;
    };
    let block_count = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                raw_salt,
                out,
                memory.blocks(block_count),
            )
            .map_err(Into::into)
    })
    .is_ok_and(|computed| computed == expected)
}

/// Checked against when the user name is unknown, so that a wrong name and a
/// wrong password take the same time and names cannot be probed. Made once,
/// in the memory of the first caller.
pub fn dummy_hash(memory: &mut Memory) -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_with("daohu-dummy-password", memory))
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
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("正确的密码123", &h));
        assert!(!verify("错误的密码", &h));
        assert!(!verify("anything", "not a hash"));
        assert!(!verify(
            "anything",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"
        ));
    }

    /// Hashes stored before (made by the crate's own `hash_password`)
    /// still verify, ours verify with the crate's verifier, and one lent
    /// memory serves hash after hash.
    #[test]
    fn hashes_match_the_crates_own_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::default()
            .hash_password("老密码-old-one".as_bytes(), &salt)
            .unwrap()
            .to_string();
        let mut memory = Memory::default();
        assert!(verify_with("老密码-old-one", &theirs, &mut memory));
        assert!(!verify_with("老密码-old-two", &theirs, &mut memory));
        let ours = hash_with("新密码-new-one", &mut memory);
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password("新密码-new-one".as_bytes(), &parsed)
                .is_ok()
        );
        assert_eq!(memory.0.len(), 19_456, "one 19 MiB block array, reused");
        // A hash made with other parameters (less memory) verifies in the
        // same memory.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"small-memory-pw", &salt)
        .unwrap()
        .to_string();
        assert!(verify_with("small-memory-pw", &small, &mut memory));
        assert_eq!(memory.0.len(), 19_456);
    }
}
