//! Hybrid logical clock: orders case events across devices whose wall clocks disagree.
//!
//! Sans-IO: the caller passes the current time in, so the clock is deterministic in tests and
//! runs unchanged in the browser.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest millisecond value the fixed-width string form can hold (year 2286).
pub const MAX_MILLIS: i64 = 9_999_999_999_999;
/// The largest counter the fixed-width string form can hold; the clock moves to the next
/// millisecond instead of overflowing it.
pub const MAX_COUNTER: u32 = 999_999;

/// A hybrid logical timestamp. Ordered by (millis, counter, node); `node` breaks ties so two
/// devices never produce equal stamps.
///
/// Serializes as `"{millis:013}-{counter:06}-{node}"`, which sorts as strings exactly like
/// the values sort, for `millis` in `0..=MAX_MILLIS` and `counter <= MAX_COUNTER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hlc {
    /// Physical part: Unix milliseconds, never behind any stamp this node has seen.
    pub millis: i64,
    /// Logical part: orders stamps within one millisecond.
    pub counter: u32,
    /// The device (node) that issued the stamp.
    pub node: String,
}

impl Hlc {
    /// A stamp from its parts.
    pub fn new(millis: i64, counter: u32, node: impl Into<String>) -> Self {
        Self {
            millis,
            counter,
            node: node.into(),
        }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:013}-{:06}-{}", self.millis, self.counter, self.node)
    }
}

/// Text that is not `"{millis:013}-{counter:06}-{node}"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed HLC timestamp {0:?} (expected 13 digits, '-', 6 digits, '-', node)")]
pub struct ParseHlcError(pub String);

impl FromStr for Hlc {
    type Err = ParseHlcError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseHlcError(s.to_owned());
        let mut parts = s.splitn(3, '-');
        let (Some(m), Some(c), Some(node)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err());
        };
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(m, 13) || !digits(c, 6) {
            return Err(err());
        }
        Ok(Self {
            millis: m.parse().map_err(|_| err())?,
            counter: c.parse().map_err(|_| err())?,
            node: node.to_owned(),
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A node's clock. Keep one per device, persist [`HlcClock::last`] and restore it with
/// [`HlcClock::resume`] so stamps stay monotonic across restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// A clock for `node` that has issued nothing yet.
    pub fn new(node: impl Into<String>) -> Self {
        Self {
            last: Hlc::new(0, 0, node),
        }
    }

    /// A clock continuing after `last` (typically loaded from storage).
    pub fn resume(last: Hlc) -> Self {
        Self { last }
    }

    /// The latest stamp issued or observed (with this node's name).
    pub fn last(&self) -> &Hlc {
        &self.last
    }

    /// A new stamp, greater than every stamp issued or observed so far.
    pub fn tick(&mut self, now_millis: i64) -> Hlc {
        let now = now_millis.clamp(0, MAX_MILLIS);
        let last = &mut self.last;
        if now > last.millis {
            last.millis = now;
            last.counter = 0;
        } else if last.counter >= MAX_COUNTER {
            last.millis = (last.millis + 1).min(MAX_MILLIS);
            last.counter = 0;
        } else {
            last.counter += 1;
        }
        last.clone()
    }

    /// Takes in a stamp from another node, so the next tick sorts after it.
    pub fn observe(&mut self, remote: &Hlc) {
        let last = &mut self.last;
        if remote.millis > last.millis {
            last.millis = remote.millis.min(MAX_MILLIS);
            last.counter = remote.counter.min(MAX_COUNTER);
        } else if remote.millis == last.millis {
            last.counter = last.counter.max(remote.counter.min(MAX_COUNTER));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tick_is_monotonic_even_when_the_wall_clock_goes_back() {
        let mut c = HlcClock::new("a");
        let t1 = c.tick(1_000);
        let t2 = c.tick(1_000);
        let t3 = c.tick(500);
        let t4 = c.tick(2_000);
        assert!(t1 < t2 && t2 < t3 && t3 < t4);
        assert_eq!(t3, Hlc::new(1_000, 2, "a"));
        assert_eq!(t4, Hlc::new(2_000, 0, "a"));
    }

    #[test]
    fn observe_puts_the_next_tick_after_the_remote_stamp() {
        let mut c = HlcClock::new("a");
        c.tick(1_000);
        let remote = Hlc::new(5_000, 7, "b");
        c.observe(&remote);
        let next = c.tick(1_200);
        assert!(next > remote);
        assert_eq!(next, Hlc::new(5_000, 8, "a"));
        c.observe(&Hlc::new(10, 99, "z"));
        assert!(c.tick(0) > next);
    }

    #[test]
    fn counter_overflow_moves_to_next_millisecond() {
        let mut c = HlcClock::resume(Hlc::new(7, MAX_COUNTER, "n"));
        assert_eq!(c.tick(7), Hlc::new(8, 0, "n"));
    }

    #[test]
    fn string_form_is_fixed_width_and_parses() {
        let h = Hlc::new(1_700_000_000_000, 42, "dev-01");
        let s = h.to_string();
        assert_eq!(s, "1700000000000-000042-dev-01");
        assert_eq!(s.parse::<Hlc>().unwrap(), h);
        assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{s}\""));
        assert_eq!(serde_json::from_str::<Hlc>(&format!("\"{s}\"")).unwrap(), h);
        assert!("17-1-x".parse::<Hlc>().is_err());
        assert!("1700000000000-00004x-n".parse::<Hlc>().is_err());
        assert!("1700000000000".parse::<Hlc>().is_err());
    }

    fn hlc() -> impl Strategy<Value = Hlc> {
        (0..=MAX_MILLIS, 0..=MAX_COUNTER, "[a-z0-9-]{0,8}").prop_map(|(m, c, n)| Hlc::new(m, c, n))
    }

    proptest! {
        #[test]
        fn string_round_trips_and_sorts_like_ord(a in hlc(), b in hlc()) {
            prop_assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a.clone());
            prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
        }

        #[test]
        fn ticks_strictly_increase(steps in proptest::collection::vec(
            (0i64..5_000, any::<bool>(), 0i64..6_000, 0..=MAX_COUNTER), 1..50)
        ) {
            let mut c = HlcClock::new("me");
            let mut prev = c.tick(0);
            for (now, observe, rm, rc) in steps {
                if observe {
                    let remote = Hlc::new(rm, rc, "other");
                    c.observe(&remote);
                    let next = c.tick(now);
                    prop_assert!(next.millis > remote.millis
                        || (next.millis == remote.millis && next.counter > remote.counter));
                    prop_assert!(next > prev);
                    prev = next;
                } else {
                    let next = c.tick(now);
                    prop_assert!(next > prev);
                    prev = next;
                }
            }
        }
    }
}
