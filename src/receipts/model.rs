use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::visits::PaymentStatus;

/// Where a household checks its receipt; a QR code adds `?c=<code>`.
pub const RECEIPT_PATH: &str = "/r";
/// What draws a receipt's QR code on the phone (`public/qr.js`): loaded by
/// the field app when a visit opens, precached by the service worker.
pub const QR_SCRIPT: &str = "/qr.js";

/// The link a receipt's QR code holds (relative to the site).
pub fn receipt_href(code: &str) -> String {
    format!(
        "{RECEIPT_PATH}?c={}",
        normalize_code(code).unwrap_or_default()
    )
}

/// A receipt code as typed (`a1b2-c3d4`, ` A1B2 C3D4 `): its 8 hex digits
/// in capitals, or `None` if it cannot be one.
pub fn normalize_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{3000}' | '－'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| b.is_ascii_hexdigit())).then_some(code)
}

/// `A1B2C3D4` as shown: `A1B2-C3D4`.
pub fn display_code(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}-{b}"),
        _ => code.to_owned(),
    }
}

/// The last four characters of an ID number as typed: digits, or an `X`
/// as the check character.
pub fn normalize_digits(typed: &str) -> Option<String> {
    let d: String = typed.trim().to_ascii_uppercase();
    (d.chars().count() == 4
        && d.chars().take(3).all(|c| c.is_ascii_digit())
        && d.chars()
            .last()
            .is_some_and(|c| c.is_ascii_digit() || c == 'X'))
    .then_some(d)
}

/// A name with all but its first and last characters hidden (`张*明`,
/// `李*`): enough for the household to know itself, not enough to find it.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// What the household says is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DisputeReason {
    /// 没有签过: the household never signed this.
    NotSigned,
    /// 金额不对: the amounts are not what it received.
    AmountWrong,
    Other,
}

impl DisputeReason {
    pub const ALL: [DisputeReason; 3] = [
        DisputeReason::NotSigned,
        DisputeReason::AmountWrong,
        DisputeReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeReason::NotSigned => "not_signed",
            DisputeReason::AmountWrong => "amount_wrong",
            DisputeReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<DisputeReason> {
        DisputeReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            DisputeReason::NotSigned => "没有签过",
            DisputeReason::AmountWrong => "金额不对",
            DisputeReason::Other => "其他",
        }
    }
}

/// A dispute in the words the township reads in its queue: the reason,
/// what the household wrote, and the number it left for a call back.
pub fn dispute_words(reason: Option<DisputeReason>, details: &str, phone: Option<&str>) -> String {
    let mut words = reason.map_or("群众异议", DisputeReason::label).to_owned();
    let details = details.trim();
    if !details.is_empty() {
        words.push('：');
        words.push_str(details);
    }
    if let Some(phone) = phone.map(str::trim).filter(|p| !p.is_empty()) {
        words.push_str("（请回电 ");
        words.push_str(phone);
        words.push('）');
    }
    words
}

/// One payment the household confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub item: String,
    pub due_fen: i64,
    pub status: PaymentStatus,
    pub received_fen: Option<i64>,
    pub received_on: Option<NaiveDate>,
}

/// A dispute already made on this receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeSummary {
    pub reason: DisputeReason,
    pub at: chrono::DateTime<chrono::Utc>,
    pub closed: bool,
}

/// Exactly what was confirmed, with nothing else about the household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptView {
    pub code: String,
    /// The China date of the visit.
    pub visited_on: NaiveDate,
    pub stat_year: i32,
    pub village: String,
    pub worker: String,
    /// The household head's name, masked.
    pub head: String,
    /// Who signed, masked, and as whom.
    pub signer: String,
    pub signer_relation: String,
    pub thumbprint: bool,
    pub lines: Vec<ReceiptLine>,
    pub seal: crate::ledger::Seal,
    pub disputes: Vec<DisputeSummary>,
}

/// Disputes one receipt may open: enough for a household that was not
/// heard, not a way to flood a township.
pub const MAX_DISPUTES: usize = 3;
/// A dispute's words, in characters.
pub const MAX_DISPUTE_CHARS: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed_and_nothing_else_passes() {
        for typed in ["a1b2-c3d4", " A1B2 C3D4 ", "A1B2C3D4", "a1b2－c3d4"] {
            assert_eq!(
                normalize_code(typed).as_deref(),
                Some("A1B2C3D4"),
                "{typed}"
            );
        }
        for bad in [
            "",
            "A1B2-C3D",
            "A1B2-C3D45",
            "G1B2-C3D4",
            "A1B2'--",
            "甲乙丙丁戊己庚辛",
        ] {
            assert_eq!(normalize_code(bad), None, "{bad}");
        }
        assert_eq!(display_code("A1B2C3D4"), "A1B2-C3D4");
        assert_eq!(receipt_href("a1b2-c3d4"), "/r?c=A1B2C3D4");
    }

    #[test]
    fn id_digits_allow_the_check_character_only_last() {
        assert_eq!(normalize_digits(" 123x ").as_deref(), Some("123X"));
        assert_eq!(normalize_digits("0042").as_deref(), Some("0042"));
        for bad in ["12345", "123", "X123", "12a4", "１２３４"] {
            assert_eq!(normalize_digits(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_keep_only_their_ends() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("欧阳春花"), "欧**花");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn reasons_round_trip() {
        for r in DisputeReason::ALL {
            assert_eq!(DisputeReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(DisputeReason::parse("x"), None);
    }
}
