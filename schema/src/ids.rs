//! Record identifiers: UUID v7, so ids sort roughly by creation time and devices never need
//! to coordinate to mint one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::{Builder, Uuid};

/// The id of a record (patrol, case, mediation, …). Serializes as the plain hyphenated UUID.
///
/// `Default` is the nil UUID, which validation rejects: it only exists so that partially
/// filled records can still be deserialized.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct RecordId(Uuid);

impl RecordId {
    /// A v7 id from a Unix time in milliseconds and 10 random bytes.
    ///
    /// The caller supplies time and randomness so this crate needs neither a clock nor an
    /// entropy source (it also runs in the browser).
    pub fn from_parts(unix_millis: u64, random: [u8; 10]) -> Self {
        Self(Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid())
    }

    /// A fresh v7 id from the system clock and OS randomness (native targets only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_v7() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an existing UUID (no version check; see [`RecordId::is_v7`]).
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The underlying UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// Whether this is a well-formed, non-nil v7 id, as every stored record's id must be.
    pub fn is_v7(&self) -> bool {
        self.0.get_version_num() == 7
    }

    /// The creation time embedded in a v7 id, in Unix milliseconds.
    pub fn unix_millis(&self) -> Option<u64> {
        let (secs, nanos) = self.0.get_timestamp()?.to_unix();
        Some(secs * 1000 + u64::from(nanos) / 1_000_000)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// A string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid record id (expected a UUID)")]
pub struct ParseIdError;

impl FromStr for RecordId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self).map_err(|_| ParseIdError)
    }
}

impl From<Uuid> for RecordId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parts_is_v7_and_round_trips_as_plain_string() {
        let id = RecordId::from_parts(1_700_000_000_123, [7; 10]);
        assert!(id.is_v7());
        assert_eq!(id.unix_millis(), Some(1_700_000_000_123));
        let s = id.to_string();
        assert_eq!(s.len(), 36);
        assert_eq!(s.parse::<RecordId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{s}\""));
        assert_eq!(
            serde_json::from_str::<RecordId>(&format!("\"{s}\"")).unwrap(),
            id
        );
        assert!("not-a-uuid".parse::<RecordId>().is_err());
        assert!(!RecordId::default().is_v7());
    }

    #[test]
    fn ids_sort_by_time() {
        let a = RecordId::from_parts(1_000, [0xff; 10]);
        let b = RecordId::from_parts(1_001, [0; 10]);
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn new_v7_is_v7() {
        assert!(RecordId::new_v7().is_v7());
        assert_ne!(RecordId::new_v7(), RecordId::new_v7());
    }
}
