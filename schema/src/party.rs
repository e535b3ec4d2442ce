//! Residents named in a record: personal data that must never reach a log line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A resident involved in a case, mediation or petition.
///
/// `Debug` prints `Party { .. }` and nothing else, so a stray `{:?}` or `tracing` field can
/// not leak a name, phone or ID number.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Party {
    /// Full name.
    pub name: String,
    /// Mobile (11 digits, optional `+86`) or landline (`0532-12345678`); may be empty.
    pub phone: String,
    /// 18-character resident ID number; may be empty.
    pub id_number: String,
    /// Home address; may be empty.
    pub address: String,
    /// Their side in the matter (applicant, respondent, witness…), free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_in_case: Option<String>,
}

impl fmt::Debug for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Party").finish_non_exhaustive()
    }
}

/// Whether `phone` looks like a mainland Chinese mobile or landline number.
///
/// Mobile: `1[3-9]` and 9 more digits, optionally after `+86`/`86`. Landline: an area code
/// `0` + 2–3 digits, an optional `-`, and 7–8 digits; or 7–8 digits alone.
pub fn is_valid_phone(phone: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mobile = phone
        .strip_prefix("+86")
        .or_else(|| phone.strip_prefix("86").filter(|r| r.len() == 11))
        .unwrap_or(phone);
    if mobile.len() == 11 && digits(mobile) {
        let b = mobile.as_bytes();
        return b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    }
    let (area, local) = match phone.split_once('-') {
        Some((a, l)) => (a, l),
        None if phone.starts_with('0') && phone.len() >= 10 => {
            // Without a hyphen the area code length is ambiguous; accept either split.
            return digits(phone) && (10..=12).contains(&phone.len());
        }
        None => ("", phone),
    };
    let area_ok =
        area.is_empty() || (area.starts_with('0') && (3..=4).contains(&area.len()) && digits(area));
    area_ok && (7..=8).contains(&local.len()) && digits(local) && !local.starts_with('0')
}

/// Whether `id` is a valid 18-character resident ID number (GB 11643): 17 digits, a valid
/// birth date in positions 7–14, and the ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).
pub fn is_valid_id_number(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if chrono::NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").is_err() {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_everything() {
        let p = Party {
            name: "王秀英".into(),
            phone: "13812345678".into(),
            id_number: "11010519491231002X".into(),
            address: "城阳区正阳路1号".into(),
            role_in_case: Some("申请人".into()),
        };
        let shown = format!("{p:?} {p:#?} {:?}", vec![p.clone()]);
        assert!(shown.contains("Party { .. }"));
        for secret in [
            "王秀英",
            "13812345678",
            "11010519491231002X",
            "正阳路",
            "申请人",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked");
        }
    }

    #[test]
    fn phones() {
        for ok in [
            "13812345678",
            "+8613812345678",
            "8613812345678",
            "0532-87654321",
            "053287654321",
            "87654321",
            "010-1234567",
        ] {
            assert!(is_valid_phone(ok), "{ok}");
        }
        for bad in [
            "",
            "12812345678",
            "1381234567",
            "138123456789",
            "abc",
            "0532-0765432",
            "5-87654321",
            "138 1234 5678",
        ] {
            assert!(!is_valid_phone(bad), "{bad}");
        }
    }

    #[test]
    fn id_numbers() {
        assert!(is_valid_id_number("11010519491231002X"));
        assert!(is_valid_id_number("11010519491231002x"));
        assert!(!is_valid_id_number("110105194912310021"), "bad checksum");
        assert!(!is_valid_id_number("11010519491331002X"), "month 13");
        assert!(!is_valid_id_number("1101051949123100"), "too short");
        assert!(!is_valid_id_number("11010519491231002Y"));
    }
}
